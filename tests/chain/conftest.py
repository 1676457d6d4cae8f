"""Fixtures for the chain analytics: a real Bitcoin block and hand-made chains (the scored simulated world,
`scored_world`, is in the top conftest: the CLI tests use it too)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from cryptoscope.lake import Lake
from cryptoscope.schema import TABLES

BITCOIN = Path(__file__).resolve().parents[3] / "shared" / "data" / "bitcoin"


@pytest.fixture(scope="session")
def real_block(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """Real block 277,647 with the outputs it spends (its UTXO store), through the chain ingest."""
    from cryptoscope.sources.chain.bitcoin.ingest import ingest_bitcoin

    lake = Lake(tmp_path_factory.mktemp("btc") / "lake")
    ingest_bitcoin(lake, [BITCOIN / "block-277647.dat.bz2"], utxo_stores=[BITCOIN / "block-277647.utxostore.bz2"])
    return lake


T0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


def _at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _table(name: str, records: list[dict[str, object]]) -> pa.Table:
    """``records`` as rows of lake table ``name``; columns left out get a plain default (or null)."""
    schema = TABLES[name].arrow_schema
    defaults = {pa.string(): "", pa.int64(): 0, pa.bool_(): False, pa.float64(): 0.0}
    columns = {}
    for f in schema:
        fill = T0 if pa.types.is_timestamp(f.type) else defaults.get(f.type)
        columns[f.name] = [r.get(f.name, None if f.nullable else fill) for r in records]
    return pa.table(columns, schema=schema)


def write_tiny_chains(lake: Lake) -> None:
    """A few hand-made transactions on a UTXO and an account chain, with every edge case the readers
    must keep as they are: null addresses and values, a CoinJoin, a self-payment, change, failed and
    zero-valued payments, an unparsable amount, contract creation, labels published late."""
    utxo_in = [  # (txid, address, value, minute)
        ("f1", "1Alice", 1_000, 10), ("f1", "1Alice2", 3_000, 10), ("f1", None, 500, 10),
        ("cj", "bc1qdddddddddddddddddddddddddddddddddddddd", 100, 20), ("cj", "1Erin", 100, 20),
        ("cj", "1Frank", 100, 20),
        ("nv", "3Gina", None, 30), ("nv", "3Hugo", None, 30),
        ("sp", "1Alice", 700, 40), ("m1", "1Mixer", 9_000, 5), ("m2", "1Xavier", 4_000, 50),
    ]
    utxo_out = [  # (txid, index, address, value, script type, minute)
        ("m1", 0, "1Alice", 8_000, "p2pkh", 5), ("m1", 1, "1Mixer", 900, "p2pkh", 5),
        ("f1", 0, "3Shop", 2_000_000, "p2sh", 10), ("f1", 1, "1Change", 1_234, "p2pkh", 10),
        ("f1", 2, None, 66, "nulldata", 10),
        ("cj", 0, "1P", 100, "p2pkh", 20), ("cj", 1, "1Q", 100, "p2pkh", 20), ("cj", 2, "1R", 100, "p2pkh", 20),
        ("nv", 0, "1Yan", 500, "p2pkh", 30), ("nv", 1, "3Gina", 100_000, "p2sh", 30),
        ("sp", 0, "1Alice", 300, "p2pkh", 40), ("sp", 1, "1Xavier", 400, "p2pkh", 40),
        ("m2", 0, "1Depo", 3_900, "p2pkh", 50),
    ]
    eth_tx = [  # (hash, from, to, value, receipt status, minute)
        ("e1", "0xmixer", "0xbob", "5000", 1, 1), ("e2", "0xbob", "0xdep", "4000", None, 2),
        ("e3", "0xbob", "0xdep", "0", 1, 3), ("e4", "0xcarol", "0xdep", "700", 0, 4),
        ("e5", "0xcarol", None, "10", 1, 5), ("e6", "0xcarol", "0xcarol", "10", 1, 6),
        ("e7", "0xcarol", "0xdep2", "not-a-number", 1, 7), ("e8", "0xdep", "0xhot", "4600", 1, 8),
        ("e9", "0xhot", "0xdave", "1000", 1, 9),
    ]
    tokens = [("k1", "0xusdt", "0xmixer", "0xbob", "70", 1), ("k2", "0xusdt", "0xbob", "0xdep", "60", 2),
              ("k3", "0xusdt", "0xbob", "0xbob", "5", 3), ("k4", "0xuni", "0xdave", "0xcarol", "0", 4)]
    transfers = [  # (id, user, direction, chain, asset, address, exchange address, minute)
        (1, 7, "deposit", "ethereum", "ETH", "0xbob", "0xdep", 2),
        (2, 7, "deposit", "ethereum", "USDT", "0xbob", "0xdep", 2),
        (3, 8, "withdrawal", "ethereum", "ETH", "0xdave", "0xhot", 9),
        (4, 9, "deposit", "bitcoin", "BTC", "1Xavier", "1Depo", 50),
    ]
    labels = [("ethereum", "0xmixer", "mixer", 0), ("bitcoin", "1Mixer", "sanctioned", 60),
              ("ethereum", "0xhot", "exchange", 0), ("ethereum", "0xdave", "scam", 100)]
    with lake.transaction() as tx:
        tx.append("chain_inputs", _table("chain_inputs", [
            {"chain": "bitcoin", "txid": t, "input_index": i, "address": a, "value": v, "event_time": _at(m)}
            for i, (t, a, v, m) in enumerate(utxo_in)]))
        tx.append("chain_outputs", _table("chain_outputs", [
            {"chain": "bitcoin", "txid": t, "output_index": i, "address": a, "value": v, "script_type": s,
             "event_time": _at(m)} for t, i, a, v, s, m in utxo_out]))
        tx.append("eth_transactions", _table("eth_transactions", [
            {"chain": "ethereum", "tx_hash": h, "from_address": f, "to_address": to, "value": v, "receipt_status": r,
             "transaction_index": i, "event_time": _at(m)} for i, (h, f, to, v, r, m) in enumerate(eth_tx)]))
        tx.append("eth_token_transfers", _table("eth_token_transfers", [
            {"chain": "ethereum", "tx_hash": h, "token_address": k, "from_address": f, "to_address": to, "value": v,
             "log_index": i, "event_time": _at(m)} for i, (h, k, f, to, v, m) in enumerate(tokens)]))
        tx.append("chain_transfers", _table("chain_transfers", [
            {"transfer_id": i, "user_id": u, "direction": d, "chain": c, "asset": a, "address": ad,
             "exchange_address": ex, "tx_hash": f"x{i}", "status": "completed", "event_time": _at(m)}
            for i, u, d, c, a, ad, ex, m in transfers]))
        tx.append("address_labels", _table("address_labels", [
            {"chain": c, "address": a, "category": k, "source": "test", "event_time": _at(m)}
            for c, a, k, m in labels]))


@pytest.fixture(scope="session")
def tiny_chains(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """`write_tiny_chains` in a lake of its own (read only: tests that write copy it)."""
    lake = Lake(tmp_path_factory.mktemp("tiny") / "lake")
    write_tiny_chains(lake)
    return lake
