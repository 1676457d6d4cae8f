"""Point-in-time training set: our as-of join against Feast's get_historical_features, same data, same run.

Run it with the benchmark environment, which has Feast (never a project dependency) and this
package installed side by side (see benchmarks/README.md):

    benchmarks/.venv-feast/bin/python benchmarks/features_pit_vs_feast.py

From the 1,000,000-user x 30-day world (reused from benchmarks/scratch/world-1m when it exists):

* feature rows, written once to Parquet: per user and UTC day, payment and login aggregates,
  stamped at the end of the day (the next midnight) when the daily batch would publish them;
* the spine: every payment, a labelled decision ``(user_id, event_timestamp, label)`` with
  label = 1 when the payment was later labelled card fraud; >= 1M rows, unique per (user, time);
* both sides take the latest feature row per view at or before the decision time and at most
  ``--ttl-days`` old (Feast's ttl semantics), from the same pandas entity frame and the same
  Parquet files, and return a pandas DataFrame:
  - ours: `cryptoscope.features.asof.asof_features` on DuckDB (read Parquet, join, to pandas);
  - Feast: ``FeatureStore.get_historical_features(...).to_df()`` with a local repo over FileSources,
    on Feast's default local offline store (``file``: Dask) and on its ``duckdb`` store (Ibis);
* every result is compared value by value with ours (rows aligned on user_id, event_timestamp).

Writes the ``pit_*`` keys of benchmarks/results/features.json (other keys are kept).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("FEAST_USAGE", "False")  # no telemetry calls from a machine without internet

import ibis
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cryptoscope.features.asof import asof_features
from cryptoscope.lake import connect
from features_offline import HERE, add_world_args, ensure_world, rss_mb, update_results

PAYMENT_FEATURES = {"pay_payments": "Int64", "pay_declines": "Int64", "pay_deposit_usd": "Float64",
                    "pay_max_usd": "Float64"}
LOGIN_FEATURES = {"login_logins": "Int64", "login_failed": "Int64", "login_devices": "Int64",
                  "login_countries": "Int64"}
KEYS = ["user_id", "event_timestamp"]


def build_inputs(con: Any, out: Path) -> dict[str, Any]:
    """Daily feature rows and the labelled spine, as Parquet under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    pay = con.table("payments")
    day_end = pay.event_time.truncate("D") + ibis.interval(days=1)
    payments = pay.group_by(pay.user_id, event_timestamp=day_end).aggregate(
        pay_payments=pay.count(), pay_declines=pay.count(where=pay.status == "declined"),
        pay_deposit_usd=pay.amount_usd.sum(where=pay.direction == "deposit"),  # null on days without deposits
        pay_max_usd=pay.amount_usd.max())
    ses = con.table("sessions")
    logins = ses.group_by(ses.user_id, event_timestamp=ses.event_time.truncate("D") + ibis.interval(days=1)).aggregate(
        login_logins=ses.count(), login_failed=ses.count(where=~ses.success),
        login_devices=ses.device_id.nunique(), login_countries=ses.ip_country.nunique())
    labels = con.table("labels")
    fraud = labels.filter(labels.entity_type == "payment", labels.label_type == "card_fraud", labels.label == 1)
    fraud = fraud.select(payment_id=fraud.entity_id.cast("int64"), fraud=ibis.literal(1, "int64")).distinct()
    paid = pay.left_join(fraud, pay.payment_id == fraud.payment_id)
    spine = paid.group_by(paid.user_id, event_timestamp=paid.event_time).aggregate(
        label=paid.fraud.max().coalesce(0))
    paths = {"payments": out / "payments_daily.parquet", "logins": out / "logins_daily.parquet",
             "spine": out / "spine.parquet"}
    for name, expr in (("payments", payments), ("logins", logins), ("spine", spine)):
        con.to_parquet(expr.order_by(KEYS), paths[name])
    return {name: {"path": str(p), "rows": pq.ParquetFile(p).metadata.num_rows} for name, p in paths.items()}


def ours(paths: dict[str, str], entity_df: pd.DataFrame, ttl: dt.timedelta, threads: int,
         unique_rows: bool = True) -> pd.DataFrame:
    """The daily rows come from a group by (user, day), so they are unique per key and time: the one-pass join.

    ``unique_rows=False`` times the general path too (ties broken the same way on every backend)."""
    con = ibis.duckdb.connect(threads=threads)
    con.raw_sql("SET TimeZone = 'UTC'")
    rows = [con.read_parquet(paths[view], table_name=f"{view}_daily") for view in ("payments", "logins")]
    out = asof_features(ibis.memtable(entity_df), rows, "user_id", ttl=ttl, time="event_timestamp",
                        feature_time="event_timestamp", unique_rows=unique_rows)
    return con.to_pyarrow(out).to_pandas()  # Arrow's converter: Ibis' to_pandas spends ~1s more on 1M rows


def feast_store(kind: str, repo: Path, paths: dict[str, str], ttl: dt.timedelta) -> Any:
    """A local Feast repo with one entity and one FeatureView per Parquet file."""
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64, Int64

    repo.mkdir(parents=True, exist_ok=True)
    (repo / "feature_store.yaml").write_text(
        f"project: pit_bench\nregistry: {repo / 'registry.db'}\nprovider: local\n"
        f"online_store:\n  type: sqlite\n  path: {repo / 'online.db'}\n"
        f"offline_store:\n  type: {kind}\nentity_key_serialization_version: 3\n")
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.INT64)
    types = {"Int64": Int64, "Float64": Float64}
    views = [FeatureView(name=f"{view}_daily", entities=[user], ttl=ttl, online=False,
                         schema=[Field(name=c, dtype=types[t]) for c, t in feats.items()],
                         source=FileSource(name=f"{view}_daily_source", path=paths[view],
                                           timestamp_field="event_timestamp"))
             for view, feats in (("payments", PAYMENT_FEATURES), ("logins", LOGIN_FEATURES))]
    store = FeatureStore(repo_path=str(repo))
    store.apply([user, *views])
    return store


def feast_training_set(store: Any, entity_df: pd.DataFrame) -> pd.DataFrame:
    refs = [f"payments_daily:{c}" for c in PAYMENT_FEATURES] + [f"logins_daily:{c}" for c in LOGIN_FEATURES]
    return store.get_historical_features(entity_df=entity_df, features=refs).to_df()


def normalised(df: pd.DataFrame) -> pd.DataFrame:
    """Times as UTC microseconds, every other column as float64 with NaN for null."""
    cols = ["label", *PAYMENT_FEATURES, *LOGIN_FEATURES]
    out: dict[str, np.ndarray] = {"user_id": df.user_id.astype("int64").to_numpy(),
           "event_timestamp": pd.to_datetime(df.event_timestamp, utc=True).dt.as_unit("us").astype("int64").to_numpy()}
    out |= {c: pd.to_numeric(df[c]).astype("float64").to_numpy(na_value=np.nan) for c in cols}
    return pd.DataFrame(out)


def compare(ours_df: pd.DataFrame, theirs: pd.DataFrame) -> dict[str, Any]:
    """Every row of ``theirs`` against ours (same key), and which of our rows ``theirs`` lacks."""
    a, b = normalised(ours_df), normalised(theirs)
    both = a.merge(b, on=KEYS, how="outer", suffixes=("", "_theirs"), indicator=True)
    present = (both["_merge"] == "both").to_numpy()
    differ = {}
    for c in ["label", *PAYMENT_FEATURES, *LOGIN_FEATURES]:
        x, y = both[c].to_numpy()[present], both[f"{c}_theirs"].to_numpy()[present]
        n = int((~((x == y) | (np.isnan(x) & np.isnan(y)))).sum())
        if n:
            differ[c] = n
    dropped = both[both["_merge"] == "left_only"]
    no_match = dropped[next(iter(PAYMENT_FEATURES))].isna() | dropped[next(iter(LOGIN_FEATURES))].isna()
    return {"rows": len(theirs), "rows_compared": int(present.sum()), "values_identical": not differ,
            "differing_values_per_column": differ, "extra_rows": int((both["_merge"] == "right_only").sum()),
            "dropped_rows": len(dropped), "dropped_rows_all_lack_a_match_in_some_view": bool(no_match.all())}


def cpu_seconds() -> float:
    """CPU time of this process, all threads (DuckDB's and Dask's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, float, float]:
    """The result, and the wall and CPU seconds it took."""
    started, cpu0 = time.perf_counter(), cpu_seconds()
    df = fn()
    return df, round(time.perf_counter() - started, 2), round(cpu_seconds() - cpu0, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_world_args(parser)
    parser.add_argument("--ttl-days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="rounds of one timed run per engine; medians reported")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--feast-stores", nargs="*", default=["file", "duckdb"], choices=["file", "duckdb"])
    parser.add_argument("--dry-run", action="store_true", help="print, do not write features.json")
    args = parser.parse_args()

    import feast  # the benchmark environment's Feast; fails here, before any work, without it

    load = os.getloadavg()
    world = ensure_world(args.lake, args.users, args.days, args.seed)
    work = HERE / "scratch" / "pit"
    started = time.perf_counter()
    inputs = build_inputs(connect(args.lake, threads=args.threads), work)
    build_seconds = time.perf_counter() - started
    paths = {k: v["path"] for k, v in inputs.items()}
    entity_df = pq.read_table(paths["spine"]).to_pandas()
    ttl = dt.timedelta(days=args.ttl_days)
    print(f"spine {len(entity_df):,} rows; feature rows {inputs['payments']['rows']:,} + {inputs['logins']['rows']:,}"
          f" (built in {build_seconds:.1f}s)", flush=True)

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="feast-repo-") as tmp:
        engines: dict[str, Callable[[], pd.DataFrame]] = {
            "ours": partial(ours, paths, entity_df, ttl, args.threads),
            "ours_general": partial(ours, paths, entity_df, ttl, args.threads, unique_rows=False)}
        for kind in args.feast_stores:
            engines[kind] = partial(feast_training_set, feast_store(kind, Path(tmp) / kind, paths, ttl), entity_df)
        # rounds of one run per engine, so a busy neighbour on a shared machine slows every engine alike
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in engines}
        frames: dict[str, pd.DataFrame] = {}
        for _ in range(args.repeat):
            for name, fn in engines.items():
                frames[name], wall, cpu = timed(fn)
                runs[name].append((wall, cpu))
                print(name, wall, cpu, flush=True)
    our_df = frames.pop("ours")
    general = compare(our_df, frames.pop("ours_general"))
    general_median = statistics.median(w for w, _ in runs["ours_general"])
    our_s, our_cpu = [w for w, _ in runs["ours"]], [c for _, c in runs["ours"]]
    for kind, df in frames.items():
        secs = [w for w, _ in runs[kind]]
        results[kind] = {"seconds": secs, "median": statistics.median(secs),
                         "cpu_seconds": [c for _, c in runs[kind]], **compare(our_df, df)}
        print("feast", kind, results[kind], flush=True)
    del frames

    ours_median = statistics.median(our_s)
    matched = {c: round(float(our_df[c].notna().mean()), 3) for c in ("pay_payments", "login_logins")}
    out: dict[str, Any] = {
        "pit_rows": len(our_df),
        "pit_ours_seconds": ours_median,
        "pit_command": "benchmarks/.venv-feast/bin/python " + " ".join(["benchmarks/features_pit_vs_feast.py",
                                                                         *sys.argv[1:]]),
        "pit_feast_version": feast.__version__,
    }
    if "file" in results:
        out |= {"pit_feast_seconds": results["file"]["median"],
                "pit_speedup_vs_feast": round(results["file"]["median"] / ours_median, 1),
                "pit_speedup_vs_feast_general_path": round(results["file"]["median"] / general_median, 1),
                "pit_feast_file_rows_dropped": results["file"]["dropped_rows"]}
    if "duckdb" in results:
        out |= {"pit_feast_duckdb_seconds": results["duckdb"]["median"],
                "pit_speedup_vs_feast_duckdb": round(results["duckdb"]["median"] / ours_median, 1)}
    # every value any Feast store returned equals ours, and no row is missing but for the file store's known drops
    out["pit_ours_general_path_seconds"] = general_median
    out["pit_values_identical"] = general["values_identical"] and not general["dropped_rows"] and bool(results) and all(
        r["values_identical"] and not r["extra_rows"]
        and (r["dropped_rows"] == 0 or (kind == "file" and r["dropped_rows_all_lack_a_match_in_some_view"]))
        for kind, r in results.items())
    out["pit_setup"] = {
        "machine": f"{os.cpu_count()} cores", "load_average_at_start": [round(x, 2) for x in load],
        "threads": args.threads, "ttl_days": args.ttl_days, "repeat": args.repeat, "world": world,
        "inputs": inputs, "build_seconds": round(build_seconds, 1), "share_of_rows_with_a_match": matched,
        "ours_runs_seconds": our_s, "ours_runs_cpu_seconds": our_cpu,
        "ours_general_path_runs_seconds": [w for w, _ in runs["ours_general"]],
        "cpu_speedup": {kind: round(statistics.median(r["cpu_seconds"]) / statistics.median(our_cpu), 1)
                        for kind, r in results.items()},
        "feast": {k: v for k, v in results.items()},
        "feast_offline_stores": {
            "file": "Feast's default local offline store (Dask). It returns only the entity rows that have, in every "
                    "feature view, either a row within the TTL or no rows at all: a row whose user has feature rows, "
                    "none of them in [t - ttl, t], is dropped (dask.py filters by TTL after its left merge); "
                    "pit_feast_file_rows_dropped counts them, and every value it does return is compared",
            "duckdb": "Feast's DuckDB offline store (Ibis): one row per entity row, all compared"},
        "timed": "from the same pandas entity frame and the same Parquet files to a pandas DataFrame: ours = "
                 "DuckDB read_parquet + one asof_features over both views (unique_rows=True: the daily rows come "
                 "from a group by user and day; ours_general: the default path that breaks ties) + Arrow to "
                 "pandas; Feast = "
                 "get_historical_features + to_df (repos applied before timing); --repeat rounds of one run per "
                 "engine in turn, medians reported; CPU seconds (all threads) beside wall seconds",
        "peak_rss_mb": rss_mb(),
        "versions": {"feast": feast.__version__, "duckdb": __import__("duckdb").__version__,
                     "ibis": ibis.__version__, "pandas": pd.__version__},
    }
    if not args.dry_run:
        update_results(out)
    print({k: v for k, v in out.items() if k != "pit_setup"})


if __name__ == "__main__":
    main()
