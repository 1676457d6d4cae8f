"""The catalogue: every simulated product with a risk level, and where it may not be offered."""

from __future__ import annotations

import numpy as np

from cryptoscope.reco.catalog import default_catalog


def test_catalog_covers_every_product_type_with_risk_levels_1_to_5() -> None:
    cat = default_catalog()
    assert set(cat.item_type) == {"coin", "earn", "futures", "article"}
    assert cat.risk.min() >= 1 and cat.risk.max() <= 5
    assert len(set(cat.item_id)) == cat.n


def test_futures_are_not_available_in_the_us_but_are_in_germany() -> None:
    cat = default_catalog()
    mask = cat.available_mask(np.array(["US", "DE"]))
    futures = cat.item_type == "futures"
    assert not mask[0, futures].any()
    assert mask[1, futures].all()
    assert mask[0, cat.item_type == "article"].all()


def test_only_coins_and_futures_can_be_recommended_again() -> None:
    cat = default_catalog()
    repeatable = cat.repeatable()
    assert repeatable[cat.item_type == "coin"].all() and repeatable[cat.item_type == "futures"].all()
    assert not repeatable[cat.item_type == "earn"].any() and not repeatable[cat.item_type == "article"].any()
