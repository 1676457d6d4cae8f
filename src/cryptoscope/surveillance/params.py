"""The thresholds every detector reads, in one place, so batch and stream cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

TYPOLOGIES: tuple[str, ...] = ("wash_trading", "spoofing", "pump_and_dump")


@dataclass(frozen=True)
class Params:
    """Detector thresholds. Defaults are chosen from how abuse looks, not fitted to one world."""

    # wash trading: pairs of accounts (or one account with itself) trading with each other
    wash_min_self: int = 2  # trades of an account with itself
    wash_min_linked: int = 3  # trades between accounts that share a device, IP or referrer
    wash_min_unlinked: int = 5  # trades between accounts with no known link ...
    wash_min_share: float = 0.05  # ... that are at least this share of BOTH accounts' trades
    wash_min_linked_share: float = 0.02  # linked pairs: a looser share, still far above a market maker's
    # spoofing / layering: big orders cancelled fast while the same account fills on the other side
    spoof_cancel_s: int = 10  # cancelled within this many seconds of placement
    spoof_window_s: int = 10  # the genuine order is placed within this many seconds of the spoof order
    spoof_size_ratio: float = 5.0  # spoof notional over the genuine order's notional
    spoof_min_layers: int = 2  # cancelled orders against one genuine order: layering
    # pump-and-dump: buying bursts in short buckets against the symbol's trailing day
    pump_bucket_s: int = 900
    pump_baseline_buckets: int = 96  # 24 h of 15-minute buckets
    pump_min_baseline: int = 8  # trailing buckets with trades (and with a move) before a bucket is judged
    pump_min_jump: float = 1.08  # bucket high over the trailing mean price, and then either ...
    pump_min_move_z: float = 8.0  # ... ln(high / previous VWAP) against the trailing day's moves of the symbol
    pump_min_move_sd: float = 0.001  # (floor of that standard deviation: a tick, for books that never move)
    pump_clip_z: float = 3.0  # moves > 3 h back this many sds off their own day (an earlier pump) leave the yardstick
    pump_hour_buckets: int = 4  # ... or ln(the last hour's high / VWAP before that hour), a slow pump's move,
    pump_min_hour_move_z: float = 8.0  # this far above the trailing day's hourly moves of the symbol,
    pump_min_trades: int = 4  # ... or at least this many trades in the bucket,
    pump_min_trades_z: float = 5.0  # this far above the trailing day's counts (its mean and sd per bucket)
    pump_merge_buckets: int = 12  # flagged buckets within 3 h of a burst start belong to it
    pump_lookback_s: int = 5 * 86_400  # accumulation window before the burst
    pump_dump_s: int = 3 * 3_600  # selling into the burst, from its start
    pump_min_unwind: float = 0.3  # sold into the burst over bought before it, per account
    pump_min_focus: float = 0.1  # the pump round trip over all the account traded in those days
    pump_min_gain: float = 1.2  # its average sell price into the burst over its average buy price before
    pump_signal_s: int = 3_600  # and it bought within this long of the price run's start: at the signal
    pump_run_level: float = 1.03  # the run starts after the last bucket whose high was below this x the day's mean
    pump_run_max_buckets: int = 8  # walking back from the flagged bucket at most this far (2 h)
    pump_min_accounts: int = 3  # coordinated: at least this many accounts bought before and sold into it


DEFAULT = Params()
