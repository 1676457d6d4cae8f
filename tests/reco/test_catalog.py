"""The catalogue comes from the lake alone: every product with a risk level, where it may not be offered,
a clear error when the lake has none, and an exchange's export ingests like any table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cryptoscope.cli import app
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.reco.catalog import Catalog, read_catalog
from cryptoscope.reco.data import load
from cryptoscope.sources.importers import export_csv
from cryptoscope.sources.simulate.catalog import catalog_table
from cryptoscope.sources.simulate.config import SimConfig


@pytest.fixture(scope="module")
def catalog_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A lake that holds nothing but the exchange's product list."""
    lake = Lake(tmp_path_factory.mktemp("catalog") / "lake")
    with lake.transaction() as tx:
        tx.append("product_catalog", catalog_table(SimConfig()))
    return lake


@pytest.fixture(scope="module")
def cat(catalog_lake: Lake) -> Catalog:
    return read_catalog(connect(catalog_lake))


def test_catalog_covers_every_product_type_with_risk_levels_1_to_5(cat: Catalog) -> None:
    assert set(cat.item_type) == {"coin", "earn", "futures", "article"}
    assert cat.risk.min() >= 1 and cat.risk.max() <= 5
    assert len(set(cat.item_id)) == cat.n
    assert cat.item_id[0] == "BTC" and cat.item_id[-1] == "art-0039", "items keep the exchange's display order"


def test_futures_are_not_available_in_the_us_but_are_in_germany(cat: Catalog) -> None:
    mask = cat.available_mask(np.array(["US", "DE"]))
    futures = cat.item_type == "futures"
    assert not mask[0, futures].any()
    assert mask[1, futures].all()
    assert mask[0, cat.item_type == "article"].all()


def test_only_coins_and_futures_can_be_recommended_again(cat: Catalog) -> None:
    repeatable = cat.repeatable()
    assert repeatable[cat.item_type == "coin"].all() and repeatable[cat.item_type == "futures"].all()
    assert not repeatable[cat.item_type == "earn"].any() and not repeatable[cat.item_type == "article"].any()


def test_items_follow_their_coin(cat: Catalog) -> None:
    follows = dict(zip(cat.item_id, cat.underlying, strict=True))
    assert (follows["SOL"], follows["SOL-PERP"], follows["earn-dual-btc"]) == ("SOL", "SOL", "BTC")
    assert follows["art-0000"] == "" and follows["earn-defi-vault"] == ""


def test_a_lake_without_a_catalogue_is_a_clear_error(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    with pytest.raises(CryptoscopeError, match=r"no product_catalog.*cryptoscope ingest product_catalog FILE"):
        read_catalog(connect(lake))
    with pytest.raises(CryptoscopeError, match="no product_catalog"):
        load(lake)


def test_an_exported_catalogue_ingests_with_the_cli(catalog_lake: Lake, cat: Catalog, tmp_path: Path) -> None:
    export = tmp_path / "products.csv"
    export_csv(catalog_lake, "product_catalog", export)
    target = tmp_path / "lake"
    for _ in range(2):  # the second run adds nothing
        result = CliRunner().invoke(app, ["ingest", "product_catalog", str(export), "--lake", str(target)])
        assert result.exit_code == 0, result.output
    again = read_catalog(connect(target))
    assert again.n == cat.n and (again.item_id == cat.item_id).all() and again.unavailable == cat.unavailable
