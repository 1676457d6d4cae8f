"""Per-key states of the streaming pass, one class per typology, each mirroring its batch expression."""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict, deque
from collections.abc import Container, Iterable
from typing import Any

from cryptoscope.surveillance.alerts import alert_id
from cryptoscope.surveillance.params import Params


def _sec(t: dt.datetime) -> int:
    return math.floor(t.timestamp())


def _mean_sd(k: float, s: float, s2: float, floor: float) -> tuple[float, float]:
    """Mean and standard deviation from a count, sum and sum of squares, as `pump._mean_sd`."""
    mean = s / max(k, 1)
    return mean, math.sqrt(max(s2 / max(k, 1) - mean * mean, floor ** 2))



def _no_activity() -> tuple[list[int], list[float]]:
    return [], [0.0]


def _zero_pair() -> list[int]:
    """A fresh [orders, cancelled] count (a named function, so the state pickles into a stream snapshot)."""
    return [0, 0]

class WashState:
    """Per (account pair, symbol): counts, round trips, net position, evidence ids."""

    def __init__(self, links: dict[tuple[int, int], str], p: Params) -> None:
        self.links, self.p = links, p
        self.pairs: dict[tuple[int, int, str], dict[str, Any]] = {}
        self.symbol_usd: defaultdict[str, float] = defaultdict(float)
        #: pairs traded since `take_touched`: only they can have newly met the rule (another pair's share of its
        #: accounts' trades only falls as those accounts trade elsewhere)
        self.touched: set[tuple[int, int, str]] = set()

    def on_trade(self, r: dict[str, Any]) -> None:
        b, s = r["buyer_user_id"], r["seller_user_id"]
        u1, u2 = min(b, s), max(b, s)
        self.symbol_usd[r["symbol"]] += r["amount_usd"]
        self.touched.add((u1, u2, r["symbol"]))
        st = self.pairs.setdefault((u1, u2, r["symbol"]), {
            "n": 0, "u1_buys": 0, "volume_usd": 0.0, "net_qty": 0.0, "gross_qty": 0.0, "start": r["event_time"],
            "end": r["event_time"], "times": [], "trade_ids": [], "buy_orders": [], "sell_orders": []})
        st["n"] += 1
        st["u1_buys"] += int(b == u1)
        st["volume_usd"] += r["amount_usd"]
        st["net_qty"] += r["quantity"] if b == u1 else -r["quantity"]
        st["gross_qty"] += r["quantity"]
        st["start"], st["end"] = min(st["start"], r["event_time"]), max(st["end"], r["event_time"])
        st["times"].append((r["event_time"], r["trade_id"]))
        st["trade_ids"].append(r["trade_id"])
        st["buy_orders"].append(r["buy_order_id"])
        st["sell_orders"].append(r["sell_order_id"])

    def take_touched(self) -> set[tuple[int, int, str]]:
        touched, self.touched = self.touched, set()
        return touched

    def raw(self, user_trades: dict[int, int],
            keys: Iterable[tuple[int, int, str]] | None = None) -> list[dict[str, Any]]:
        """The pairs (of ``keys``, default all) that meet the rule now."""
        p, out = self.p, []
        for u1, u2, symbol in self.pairs if keys is None else keys:
            st = self.pairs[(u1, u2, symbol)]
            n, n1, n2 = st["n"], user_trades[u1], user_trades[u2]
            share = min(n / n1, n / n2)
            kinds = self.links.get((u1, u2))
            is_self, linked = u1 == u2, kinds is not None
            round_trip = 0 < st["u1_buys"] < n
            hit = ((is_self and n >= p.wash_min_self)
                   or (linked and round_trip and n >= p.wash_min_linked and share >= p.wash_min_linked_share)
                   or (not linked and not is_self and round_trip and n >= p.wash_min_unlinked
                       and share >= p.wash_min_share))
            if not hit:
                continue
            k = p.wash_min_self if is_self else p.wash_min_linked if linked else p.wash_min_unlinked
            times = sorted(st["times"])
            out.append({**{c: v for c, v in st.items() if c != "times"}, "u1": u1, "u2": u2, "symbol": symbol,
                        "n1": n1, "n2": n2, "link_kinds": kinds, "pair_share": share, "is_self": is_self,
                        "detected_at": times[k - 1][0] if len(times) >= k else None,
                        "symbol_volume_usd": self.symbol_usd[symbol]})
        return out


class SpoofState:
    """Orders of the last seconds per (account, symbol), fast-cancelled big orders, their genuine counterparts."""

    def __init__(self, p: Params) -> None:
        self.p = p
        self.orders: dict[int, dict[str, Any]] = {}
        self.recent: defaultdict[tuple[int, str], deque[int]] = defaultdict(deque)
        self.big: set[int] = set()
        self.by_account: defaultdict[tuple[int, str], list[int]] = defaultdict(list)  # fast-cancelled big orders
        self.pairs: defaultdict[int, set[int]] = defaultdict(set)  # genuine order -> spoof orders
        self.fills: defaultdict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
        self.counts: defaultdict[int, list[int]] = defaultdict(_zero_pair)  # orders, cancelled

    def on_order(self, r: dict[str, Any]) -> None:
        o = {k: r[k] for k in ("order_id", "user_id", "symbol", "side", "event_time", "price")}
        o["usd"], o["cancel"] = r["price"] * r["quantity"], None
        self.orders[r["order_id"]] = o
        self.counts[r["user_id"]][0] += 1
        q = self.recent[(r["user_id"], r["symbol"])]
        horizon = r["event_time"] - dt.timedelta(seconds=self.p.spoof_window_s + self.p.spoof_cancel_s)
        while q and self.orders[q[0]]["event_time"] < horizon:
            q.popleft()
        for other in q:
            if other in self.big:
                self._pair(self.orders[other], o)
        q.append(r["order_id"])

    def on_cancel(self, r: dict[str, Any]) -> None:
        o = self.orders[r["order_id"]]
        o["cancel"] = r["cancel_time"]
        if r["status"] == "cancelled":
            self.counts[r["user_id"]][1] += 1
        fast = r["cancel_time"] <= o["event_time"] + dt.timedelta(seconds=self.p.spoof_cancel_s)
        if r["status"] != "cancelled" or r["order_id"] in self.fills or not fast:
            return
        self.big.add(r["order_id"])
        self.by_account[(r["user_id"], r["symbol"])].append(r["order_id"])
        for other in self.recent[(r["user_id"], r["symbol"])]:
            if other != r["order_id"]:
                self._pair(o, self.orders[other])

    def on_trade(self, r: dict[str, Any]) -> None:
        for oid in (r["buy_order_id"], r["sell_order_id"]):
            self.fills[oid].append((r["event_time"], r["trade_id"]))

    def _pair(self, b: dict[str, Any], real: dict[str, Any]) -> None:
        if b["side"] == real["side"] or abs(real["event_time"] - b["event_time"]) > dt.timedelta(
                seconds=self.p.spoof_window_s):
            return
        away = b["price"] < real["price"] if b["side"] == "buy" else b["price"] > real["price"]
        if away and b["usd"] >= self.p.spoof_size_ratio * real["usd"]:
            self.pairs[real["order_id"]].add(b["order_id"])

    def raw(self, emitted: Container[str] = ()) -> list[dict[str, Any]]:
        """The accounts' spoofing episodes now, but those whose alert id is in ``emitted`` (the peer statistics,
        a walk over every account, are computed only when some group is left)."""
        groups: dict[tuple[int, str], list[int]] = defaultdict(list)
        for rid, bids in self.pairs.items():
            if rid in self.fills and len(bids) >= self.p.spoof_min_layers and 2 * self._same_side(rid) < len(bids):
                groups[(self.orders[rid]["user_id"], self.orders[rid]["symbol"])].append(rid)
        found = []
        for (user, symbol), rids in groups.items():
            spoofs = sorted(set().union(*(self.pairs[r] for r in rids)))
            bs, rs = [self.orders[b] for b in spoofs], [self.orders[r] for r in rids]
            start = min(min(o["event_time"] for o in bs), min(o["event_time"] for o in rs))
            if alert_id("spoofing", symbol, (user,), start) not in emitted:
                found.append((user, symbol, rids, spoofs, bs, rs, start))
        peers = self._peers() if found else {}
        out = []
        for user, symbol, rids, spoofs, bs, rs, start in found:
            ready = [max(max(self.orders[b]["cancel"] for b in self.pairs[r]), min(self.fills[r])[0]) for r in rids]
            out.append({"user_id": user, "symbol": symbol, "episodes": len(rids), "layers": len(spoofs),
                        "start": start, "end": max(o["cancel"] for o in bs), "spoof_ids": spoofs, "real_ids": rids,
                        "detected_at": min(ready), "spoof_usd": sum(o["usd"] for o in bs),
                        "genuine_usd": sum(o["usd"] for o in rs),
                        "trade_ids": [t for r in rids for _, t in self.fills[r]], **peers[user]})
        return out

    def _same_side(self, rid: int) -> int:
        """Fast-cancelled big orders on the genuine order's own side within the window: a two-sided quoter."""
        r = self.orders[rid]
        w = dt.timedelta(seconds=self.p.spoof_window_s)
        return sum(1 for b in self.by_account[(r["user_id"], r["symbol"])]
                   if self.orders[b]["side"] == r["side"] and abs(r["event_time"] - self.orders[b]["event_time"]) <= w)

    def _peers(self) -> dict[int, dict[str, float]]:
        filled: defaultdict[int, int] = defaultdict(int)
        for oid in self.fills:
            if oid in self.orders:
                filled[self.orders[oid]["user_id"]] += 1
        stats = {u: (n, c / n, n / max(filled[u], 1), math.floor(math.log10(n))) for u, (n, c) in self.counts.items()}
        bands: defaultdict[int, list[float]] = defaultdict(list)
        for _, ratio, _, band in stats.values():
            bands[band].append(ratio)
        moments = {}  # once per band, not once per account: the stream asks for alerts every few seconds
        for band, xs in bands.items():
            mean = sum(xs) / len(xs)
            moments[band] = mean, math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
        out = {}
        for u, (_, ratio, ott, band) in stats.items():
            mean, std = moments[band]
            out[u] = {"cancel_ratio": ratio, "order_to_trade": ott,
                      "cancel_ratio_peer_z": (ratio - mean) / std if std > 0 else 0.0}
        return out


class _Window:
    """The closed buckets with trades in a symbol's trailing day, as columns in bucket order, kept as new buckets
    open (the oldest leave on the left, the newly closed join on the right), so that a new bucket's baseline is
    a few sums over lists, not lists rebuilt from the day's records.

    Per bucket (a `PumpState._closed` record: n, buy volume, VWAP, move, hour move, and the move and hour move
    that clipping keeps): n, n², buy, buy², VWAP, then for each of move, hour move, kept move and kept hour move
    whether it exists, its value and its square (0 where it does not). The sums are left-to-right over the same
    values in the same order as the lists `pump.buckets`' windows describe, with zeros where a value is missing
    (which add nothing to a float sum): the same floats as summing the values alone."""

    def __init__(self, upto: int) -> None:
        self.upto = upto  # the columns hold the buckets before this one
        self.keys: list[int] = []
        self.cols: tuple[list[Any], ...] = tuple([] for _ in range(17))

    def drop_before(self, lo: int) -> None:
        cut = bisect.bisect_left(self.keys, lo)
        if cut:
            for col in (self.keys, *self.cols):
                del col[:cut]

    def append(self, k: int, record: tuple[Any, ...]) -> None:
        n, buy, vwap = record[0], record[1], record[2]
        values = [n, n * n, buy, buy * buy, vwap]
        for x in record[3:7]:
            values.extend((0, 0.0, 0.0) if x is None else (1, x, x * x))
        self.keys.append(k)
        for col, value in zip(self.cols, values, strict=True):
            col.append(value)

    def sums(self, recent: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The baseline's sums over every bucket, and the clipped sums: buckets before ``recent`` count only the
        moves clipping keeps (`pump._clipped_z`), the later ones every move."""
        c, i = self.cols, bisect.bisect_left(self.keys, recent)
        base = (len(self.keys), *(sum(col) for col in c[:11]))
        clipped = tuple(sum(c[old][:i] + c[new][i:]) for old, new in ((11, 5), (12, 6), (13, 7),
                                                                        (14, 8), (15, 9), (16, 10)))
        return base, clipped


class PumpState:
    """Per symbol: 15-minute buckets with their trailing-day baseline, recent trades, open bursts."""

    def __init__(self, p: Params) -> None:
        self.p = p
        # per bucket: n, buy, high, usd, qty, VWAP of the previous bucket with trades (None for the first)
        self.buckets: dict[str, dict[int, list[Any]]] = defaultdict(dict)
        self.base: dict[tuple[str, int], tuple[float, ...]] = {}
        self.closed_hours: dict[tuple[str, int], float | None] = {}
        self.kept: dict[tuple[str, int], tuple[float | None, float | None]] = {}
        self.clipped: dict[tuple[str, int], tuple[float, ...]] = {}
        self.records: defaultdict[str, dict[int, tuple[Any, ...]]] = defaultdict(dict)  # `_closed`, per symbol
        self.windows: dict[str, _Window] = {}  # per symbol, the closed buckets of the last new bucket's day
        self.last_bucket: dict[str, int] = {}
        self.history: defaultdict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self.last_flagged: dict[str, int] = {}
        self.bursts: list[dict[str, Any]] = []
        #: per symbol, the bursts whose dump window a trade may still fall in (older ones take no more trades)
        self.open: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self.activity: defaultdict[int, tuple[list[int], list[float]]] = defaultdict(_no_activity)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A snapshot taken before `_closed` or `_Window` existed restores without them: they are made again as
        needed."""
        self.__dict__.update(state)
        self.__dict__.setdefault("records", defaultdict(dict))
        self.__dict__.setdefault("windows", {})

    @staticmethod
    def _move(v: list[Any]) -> float | None:
        return math.log(v[2] / v[5]) if v[5] else None

    def _hour_move(self, symbol: str, b: int) -> float | None:
        """ln(the high of the hour up to bucket b / the VWAP before it), as `pump.buckets`' ``hour_move``."""
        have = self.buckets[symbol]
        ks = [k for k in range(b - self.p.pump_hour_buckets + 1, b + 1) if k in have]
        before = have[ks[0]][5]  # the VWAP of the last bucket with trades before the hour
        return math.log(max(have[k][2] for k in ks) / before) if before else None

    def _closed_hour_move(self, symbol: str, b: int) -> float | None:
        """`_hour_move` of a bucket that is closed (final), computed once: every baseline reuses it."""
        key = (symbol, b)
        if key not in self.closed_hours:
            self.closed_hours[key] = self._hour_move(symbol, b)
        return self.closed_hours[key]

    def _kept(self, symbol: str, k: int) -> tuple[float | None, float | None]:
        """A closed bucket's move and hour move, each None where it is an outlier that `pump._clipped_z` leaves out."""
        key = (symbol, k)
        if key not in self.kept:
            base, p = self.base[key], self.p
            out: list[float | None] = []
            for x, (n, s, s2) in ((self._move(self.buckets[symbol][k]), base[6:9]),
                                  (self._closed_hour_move(symbol, k), base[9:12])):
                mean, sd = _mean_sd(n, s, s2, p.pump_min_move_sd)
                ok = x is not None and (n < p.pump_min_baseline or abs(x - mean) <= p.pump_clip_z * sd)
                out.append(x if ok else None)
            self.kept[key] = (out[0], out[1])
        return self.kept[key]

    def _closed(self, symbol: str, k: int) -> tuple[Any, ...]:
        """What every later baseline reads of closed bucket ``k``: n, buy volume, VWAP, move, hour move, and the
        move and hour move `_kept` leaves (None for an outlier). Computed once, as the values it holds are final
        (a late trade into the bucket drops it: `on_trade`)."""
        v = self.buckets[symbol][k]
        move, hour = self._move(v), self._closed_hour_move(symbol, k)
        record = (v[0], v[1], v[3] / v[4], move, hour, *self._kept(symbol, k))
        self.records[symbol][k] = record
        return record

    def _baseline(self, symbol: str, b: int) -> None:
        """The trailing-day sums of a new bucket ``b`` (and their outlier-clipped form), as `pump.buckets`' windows.

        From the symbol's `_Window`, moved on to ``b``: in a thin market nearly every trade opens a bucket, and
        rebuilding the day's 96 buckets for every new one was most of the surveillance process's time. The window
        is rebuilt from the closed buckets' records (`_closed`) when it cannot move on: a bucket opened before
        it, a gap of a day, a late trade into a closed bucket (`on_trade`)."""
        have, records, p = self.buckets[symbol], self.records[symbol], self.p
        lo = b - p.pump_baseline_buckets
        window = self.windows.get(symbol)
        if window is None or not lo <= window.upto <= b:
            window = self.windows[symbol] = _Window(lo)
        window.drop_before(lo)
        for k in range(window.upto, b):
            if k in have:
                record = records.get(k)
                window.append(k, record if record is not None else self._closed(symbol, k))
        window.upto = b
        self.base[(symbol, b)], self.clipped[(symbol, b)] = window.sums(b - p.pump_merge_buckets)

    def stats(self, symbol: str, b: int) -> dict[str, float]:
        """Trades z, buy-volume z, jump and move z of a bucket, as `pump.buckets` computes them."""
        v = self.buckets[symbol][b]
        n, buy, high = v[0], v[1], v[2]
        k, s_n, s_n2, s_buy, s_buy2, s_vwap, k_move, _, _, k_hm, _, _ = self.base[(symbol, b)]
        k_mc, s_mc, s_mc2, k_hc, s_hc, s_hc2 = self.clipped[(symbol, b)]
        kk = max(k, 1)
        mean = s_buy / kk
        var = s_buy2 / kk - mean * mean
        rate = s_n / self.p.pump_baseline_buckets
        n_sd = math.sqrt(max(s_n2 / self.p.pump_baseline_buckets - rate * rate, 0.25))
        jump = high / (s_vwap / kk) if s_vwap > 0 else math.inf
        move, hour = self._move(v), self._hour_move(symbol, b)
        m_mean, m_sd = _mean_sd(k_mc, s_mc, s_mc2, self.p.pump_min_move_sd)
        h_mean, h_sd = _mean_sd(k_hc, s_hc, s_hc2, self.p.pump_min_move_sd)
        return {"k": k, "k_move": k_move, "n": n, "trades_z": (n - rate) / n_sd, "k_hm": k_hm,
                "hour_move_z": (hour - h_mean) / h_sd if hour is not None else -math.inf,
                "volume_z": (buy - mean) / math.sqrt(max(var, 1e-9)), "jump": jump,
                "move_z": (move - m_mean) / m_sd if move is not None else -math.inf}

    def on_trade(self, r: dict[str, Any]) -> str | None:
        """Update with one trade; returns the symbol when this trade flags a new burst."""
        p, s, sec = self.p, r["symbol"], _sec(r["event_time"])
        b = sec // p.pump_bucket_s
        row = {"sec": sec, **{k: r[k] for k in ("event_time", "buyer_user_id", "seller_user_id", "aggressor_side",
                                                  "amount_usd", "quantity", "trade_id", "buy_order_id",
                                                  "sell_order_id")}}
        for user in (r["buyer_user_id"], r["seller_user_id"]):  # seconds and running volume, per account
            secs, cum = self.activity[user]
            secs.append(sec)
            cum.append(cum[-1] + r["amount_usd"])
        hist = self.history[s]
        hist.append(row)
        while hist and hist[0]["sec"] < sec - p.pump_lookback_s - p.pump_dump_s:
            hist.popleft()
        if live := self.open.get(s):
            for burst in live:
                if burst["b_sec"] <= sec < burst["b_sec"] + p.pump_dump_s:
                    self._take(burst, row)
            if live[0]["b_sec"] + p.pump_dump_s + p.pump_lookback_s < sec:  # closed, with the history's margin
                self.open[s] = [b for b in live if b["b_sec"] + p.pump_dump_s + p.pump_lookback_s >= sec]
        if b not in self.buckets[s]:
            self._baseline(s, b)
            before = self.buckets[s].get(self.last_bucket.get(s, -1))
            self.buckets[s][b] = [0, 0.0, 0.0, 0.0, 0.0, before[3] / before[4] if before else None]
            self.last_bucket[s] = b
        elif b != self.last_bucket[s]:  # a late trade, into a closed bucket: its record is read afresh
            self.records[s].pop(b, None)
            self.windows.pop(s, None)
        v = self.buckets[s][b]
        v[0] += 1
        v[1] += r["amount_usd"] if r["aggressor_side"] == "buy" else 0.0
        v[2] = max(v[2], r["price"])
        v[3] += r["amount_usd"]
        v[4] += r["quantity"]
        if self.last_flagged.get(s) == b:
            return None
        st = self.stats(s, b)
        moved = st["k_move"] >= p.pump_min_baseline and st["move_z"] >= p.pump_min_move_z
        hourly = st["k_hm"] >= p.pump_min_baseline and st["hour_move_z"] >= p.pump_min_hour_move_z
        crowded = st["n"] >= p.pump_min_trades and st["trades_z"] >= p.pump_min_trades_z
        if not (st["k"] >= p.pump_min_baseline and st["jump"] >= p.pump_min_jump and (moved or hourly or crowded)):
            return None
        last, self.last_flagged[s] = self.last_flagged.get(s), b
        if last is not None and b - last <= p.pump_merge_buckets:
            return None
        burst = {"symbol": s, "bucket": b, "b_sec": b * p.pump_bucket_s, "flagged_at": r["event_time"],
                 "run_sec": self._run_start(s, b) * p.pump_bucket_s, "legs": [], "signal": set()}
        for h in hist:
            if h["sec"] >= burst["b_sec"] - p.pump_lookback_s:
                self._take(burst, h)
        self.bursts.append(burst)
        self.open[s].append(burst)
        return s

    def _run_start(self, symbol: str, b: int) -> int:
        """The bucket after the last one at the pre-run price level, as `pump.run_start` computes it."""
        have = self.buckets[symbol]
        for k in range(b, b - self.p.pump_run_max_buckets - 1, -1):
            if k in have and self.stats(symbol, k)["jump"] < self.p.pump_run_level:
                return k + 1
        return b - self.p.pump_run_max_buckets

    def _take(self, burst: dict[str, Any], h: dict[str, Any]) -> None:
        if burst["run_sec"] - self.p.pump_signal_s <= h["sec"] < burst["b_sec"] + self.p.pump_signal_s:
            burst["signal"].add(h["buyer_user_id"])  # bought at the signal
        if burst["b_sec"] - self.p.pump_lookback_s <= h["sec"] < burst["b_sec"]:
            burst["legs"].append(("buy", h["buyer_user_id"], h["event_time"], h["trade_id"], h["buy_order_id"],
                                  h["amount_usd"], h["seller_user_id"], h["quantity"]))
        elif h["aggressor_side"] == "sell" and burst["b_sec"] <= h["sec"] < burst["b_sec"] + self.p.pump_dump_s:
            burst["legs"].append(("sell", h["seller_user_id"], h["event_time"], h["trade_id"], h["sell_order_id"],
                                  h["amount_usd"], h["buyer_user_id"], h["quantity"]))

    def _active(self, user: int, lo: int, hi: int) -> float:
        """What the account traded, every symbol and both sides, with lo <= second < hi."""
        secs, cum = self.activity[user]
        return cum[bisect.bisect_left(secs, hi)] - cum[bisect.bisect_left(secs, lo)]

    def flags(self) -> list[tuple[str, int, dt.datetime]]:
        return [(b["symbol"], b["b_sec"], b["flagged_at"]) for b in self.bursts]

    def _named(self, burst: dict[str, Any], legs: list[tuple[Any, ...]], focus: bool) -> list[tuple[Any, int]]:
        """(first sell, account) of the accounts that bought before and sold into the burst, as `pump_alerts`."""
        bought: defaultdict[int, float] = defaultdict(float)
        sold: defaultdict[int, float] = defaultdict(float)
        qty: defaultdict[tuple[str, int], float] = defaultdict(float)
        first: dict[int, dt.datetime] = {}
        for leg, user, t, _, _, usd, _, q in legs:
            qty[(leg, user)] += q
            if leg == "buy":
                bought[user] += usd
            else:
                sold[user] += usd
                first[user] = min(first.get(user, t), t)
        lo, hi = burst["b_sec"] - self.p.pump_lookback_s, burst["b_sec"] + self.p.pump_dump_s

        def named(u: int) -> bool:
            if u not in sold or sold[u] < self.p.pump_min_unwind * bought[u]:
                return False
            if focus:
                return bought[u] + sold[u] >= self.p.pump_min_focus * self._active(u, lo, hi)
            gain = (sold[u] / qty[("sell", u)]) / (bought[u] / qty[("buy", u)])
            return gain >= self.p.pump_min_gain

        return sorted((first[u], u) for u in bought if named(u))

    def raw(self) -> list[dict[str, Any]]:
        out = []
        for burst in self.bursts:
            cand = {u for _, u in self._named(burst, burst["legs"], focus=True) if u in burst["signal"]}
            # with the market only: trades among the candidates themselves (a wash ring's bot) are set aside
            legs = [leg for leg in burst["legs"] if leg[1] in cand and leg[6] not in cand]
            who = self._named(burst, legs, focus=False)
            if len(who) < self.p.pump_min_accounts:
                continue
            users = {u for _, u in who}
            legs = [leg for leg in legs if leg[1] in users]
            st = self.stats(burst["symbol"], burst["bucket"])
            out.append({"symbol": burst["symbol"], "b_sec": burst["b_sec"], "run_sec": burst["run_sec"],
                        "burst_jump": st["jump"], "burst_move_z": st["move_z"],
                        "burst_hour_move_z": st["hour_move_z"], "burst_trades_z": st["trades_z"],
                        "burst_volume_z": st["volume_z"],
                        "accounts": sorted(users), "trade_ids": [x[3] for x in legs], "order_ids": [x[4] for x in legs],
                        "start": min(x[2] for x in legs), "end": max(x[2] for x in legs),
                        "bought_usd": sum(x[5] for x in legs if x[0] == "buy"),
                        "sold_usd": sum(x[5] for x in legs if x[0] == "sell"), "n_accounts": len(who),
                        "detected_at": who[self.p.pump_min_accounts - 1][0]})
        return out
