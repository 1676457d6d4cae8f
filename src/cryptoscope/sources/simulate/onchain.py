"""The public-chain side of every transfer: Bitcoin transactions with inputs and outputs,
Ethereum/Tron transactions and USDT token transfers, in the shapes blockchain-etl exports."""

from __future__ import annotations

import hashlib

import numpy as np

from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.frames import Frames, ts
from cryptoscope.sources.simulate.strings import long_hex
from cryptoscope.sources.simulate.wallets import BITCOIN, CHAINS, ETHEREUM

BTC_BLOCK_US = 600 * 1_000_000
ETH_BLOCK_US = 12 * 1_000_000
_BTC_BASE_HEIGHT = 870_000
_ETH_BASE_BLOCK = 21_500_000
USDT_CONTRACT = {1: "0xdac17f958d2ee523a2206206994597c13d831ec7", 2: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}
_TRANSFER_SELECTOR = "0xa9059cbb"


def block_hash(chain: str, height: int) -> str:
    """Deterministic per height, so every chunk names the same block the same way."""
    return hashlib.sha256(f"{chain}:{height}".encode()).hexdigest()


def btc_height(cfg: SimConfig, t: np.ndarray) -> np.ndarray:
    return np.asarray(_BTC_BASE_HEIGHT + (t - cfg.t0) // BTC_BLOCK_US, dtype=np.int64)


def _collect(chunk: Chunk) -> dict[str, np.ndarray]:
    keys = ("chain", "asset", "time", "sender", "receiver", "amount", "tx_hash", "ok", "prev")
    rec = {k: np.concatenate([r[k] for r in chunk.onchain]) for k in keys} if chunk.onchain else {}
    if rec:
        keep = rec["ok"].astype(bool)
        rec = {k: v[keep] for k, v in rec.items()}
    return rec


def mirror(chunk: Chunk) -> np.ndarray:
    """Write this chunk's on-chain transactions; returns the Bitcoin heights used (for block rows)."""
    rec = _collect(chunk)
    if not rec:
        return np.zeros(0, dtype=np.int64)
    btc = rec["chain"] == BITCOIN
    _utxo(chunk, {k: v[btc] for k, v in rec.items()})
    _account(chunk.frames, chunk.cfg, {k: v[~btc] for k, v in rec.items()})
    return btc_height(chunk.cfg, rec["time"][btc])


def _utxo(chunk: Chunk, r: dict[str, np.ndarray]) -> None:
    n, cfg, f = len(r["time"]), chunk.cfg, chunk.frames
    if not n:
        return
    height = btc_height(cfg, r["time"])
    block_time = cfg.t0 + (height - _BTC_BASE_HEIGHT) * BTC_BLOCK_US
    hashes = np.array([block_hash("bitcoin", h) for h in height.tolist()], dtype=object)
    sat = np.round(r["amount"] * 1e8).astype(np.int64)
    change = (sat * chunk.rng.uniform(0.01, 2.0, n)).astype(np.int64)
    chain = np.full(n, "bitcoin")
    f.add("chain_transactions", chain=chain, txid=r["tx_hash"], block_hash=hashes, block_height=height,
          event_time=ts(block_time), tx_index=1 + chunk.rng.integers(0, 3000, n), version=np.full(n, 2),
          locktime=np.zeros(n, dtype=np.int64), is_coinbase=np.zeros(n, dtype=bool), is_segwit=np.ones(n, dtype=bool),
          input_count=np.ones(n, dtype=np.int64), output_count=np.full(n, 2), size=np.full(n, 222))
    f.add("chain_inputs", chain=chain, txid=r["tx_hash"], input_index=np.zeros(n, dtype=np.int64),
          event_time=ts(block_time), prev_txid=r["prev"], prev_output_index=np.zeros(n, dtype=np.int64),
          script_sig=np.full(n, ""), sequence=np.full(n, 0xFFFFFFFD), address=r["sender"],
          value=sat + change + 1500)
    both = np.concatenate
    f.add("chain_outputs", chain=both([chain, chain]), txid=both([r["tx_hash"], r["tx_hash"]]),
          output_index=both([np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)]),
          event_time=ts(both([block_time, block_time])), value=both([sat, change]),
          script_pubkey=np.full(2 * n, "0014" + "00" * 20), script_type=np.full(2 * n, "p2wpkh"),
          address=both([r["receiver"], r["sender"]]))


def _account(f: Frames, cfg: SimConfig, r: dict[str, np.ndarray]) -> None:
    n = len(r["time"])
    if not n:
        return
    number = _ETH_BASE_BLOCK + (r["time"] - cfg.t0) // ETH_BLOCK_US
    block_time = cfg.t0 + (number - _ETH_BASE_BLOCK) * ETH_BLOCK_US
    chain_name = CHAINS[r["chain"]]
    token = (r["asset"] == 2) | (r["asset"] == 3)
    decimals = np.where(token, 6, np.where(r["chain"] == ETHEREUM, 18, 6))
    units = [str(round(a * 1e6) * 10 ** (d - 6)) for a, d in zip(r["amount"].tolist(), decimals.tolist(),
                                                                       strict=True)]
    contract = np.array([USDT_CONTRACT.get(int(c), "") for c in r["chain"]], dtype=object)
    to = np.where(token, contract, r["receiver"])
    calldata = [f"{_TRANSFER_SELECTOR}{str(rc)[-40:].rjust(64, '0')}{int(u):064x}" if t else "0x"
                for rc, u, t in zip(r["receiver"].tolist(), units, token.tolist(), strict=True)]
    f.add("eth_transactions", chain=chain_name, tx_hash=r["tx_hash"], block_number=number,
          block_hash=np.array(["0x" + block_hash(str(c), int(b)) for c, b in zip(chain_name, number, strict=True)],
                              dtype=object),
          event_time=ts(block_time), transaction_index=np.zeros(n, dtype=np.int64),
          nonce=np.zeros(n, dtype=np.int64), from_address=r["sender"], to_address=to,
          value=np.where(token, "0", np.array(units, dtype=object)), gas=np.where(token, 65_000, 21_000),
          gas_price=np.full(n, "20000000000"), input=calldata, receipt_status=np.ones(n, dtype=np.int64))
    if token.any():
        k = int(token.sum())
        f.add("eth_token_transfers", chain=chain_name[token], token_address=contract[token],
              from_address=r["sender"][token], to_address=r["receiver"][token],
              value=np.array(units, dtype=object)[token], tx_hash=r["tx_hash"][token], log_index=np.zeros(k, np.int64),
              block_number=number[token], event_time=ts(block_time[token]))


def write_blocks(frames: Frames, cfg: SimConfig, tx_per_height: dict[int, int], rng: np.random.Generator) -> None:
    """One block row per height that holds a simulated transaction (the same across chunks)."""
    heights = np.array(sorted(tx_per_height), dtype=np.int64)
    n = len(heights)
    if not n:
        return
    frames.add("chain_blocks", chain=np.full(n, "bitcoin"),
               block_hash=np.array([block_hash("bitcoin", h) for h in heights.tolist()], dtype=object),
               height=heights, event_time=ts(cfg.t0 + (heights - _BTC_BASE_HEIGHT) * BTC_BLOCK_US),
               prev_block_hash=np.array([block_hash("bitcoin", h - 1) for h in heights.tolist()], dtype=object),
               merkle_root=long_hex(rng, n, 32), version=np.full(n, 0x20000000), bits=np.full(n, 386_089_497),
               nonce=rng.integers(0, 2**32, n), tx_count=np.array([tx_per_height[h] for h in heights.tolist()]) + 1,
               size=np.full(n, 1_500_000))
