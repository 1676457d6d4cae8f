"""A model card's own figures (a product's precision at 100, ring recall ...) travel with it and become metrics."""

from __future__ import annotations

import dataclasses
import json

from cryptoscope.models import ModelCard, TrainedModel
from cryptoscope.models._identity import comparable, same
from cryptoscope.models.tracking import metrics


def test_figures_round_trip_are_logged_as_metrics_and_an_older_card_reads_without_them(trained: TrainedModel) -> None:
    card = dataclasses.replace(trained.card, figures={"test_precision_at_100": 0.25, "test_ring_recall_at_100": 0.5})
    again = ModelCard.from_json(card.to_json())
    assert again == card and again.figures["test_ring_recall_at_100"] == 0.5
    logged = metrics(card)
    assert logged["test_precision_at_100"] == 0.25 and logged["test_ring_recall_at_100"] == 0.5
    older = json.loads(trained.card.to_json())
    del older["figures"]  # a card registered before figures existed
    read = ModelCard.from_dict(older)
    assert read.figures == {} and same(comparable(read), comparable(trained.card))
    assert not same(comparable(card), comparable(trained.card)), "figures are part of what a model is"
