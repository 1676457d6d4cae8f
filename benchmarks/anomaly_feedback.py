"""A few analysts' decisions against the published few-label methods, on public tables: development vs held out.

Protocol of the second round (fixed before any held-out table of it was scored by a learner of this file):

1. Tables: the corpora of `benchmarks/anomaly_tables.py`, cut to at most `MAX_ROWS` rows (stratified,
   seeded), a table taking part when it then holds at least `MIN_ANOMALIES` anomalies (20 to decide and some
   left to judge). The first round (commit 5ca1213 to e520d78) developed on the development half of the
   bundled KEEL/UCI sets and judged on 41 held-out tables: the first `PER_CORPUS` that qualify of the
   held-out half, of the fresh KEEL sets (draw 0) and of the R tasks (draw 0), and the 8 earlier tables.
   Those 41 judged several designs, so they are *burned*: in this round they are development tables too
   (role ``development_burned``). Held out now (role ``held_out``): every later table of those three
   held-out corpora that qualifies, in the corpus' own order, except those from a source (family) that a
   burned table shares. No learner of this file had scored any of them. No new public corpus was found
   bundled offline (PyPI packages searched: docs/abnormal.md), so these are the fresh held-out tables; the
   unsupervised detectors' benchmark (`anomaly_tables.py`) has seen them, the learners of this file not.
2. Decisions, per table and seed (`SEEDS`): `ABNORMAL` anomalies confirmed and `CLEARED` normal rows
   cleared, drawn at random (ADGym's 20 labelled anomalies, plus the cleared cases a queue also yields).
   Every method gets exactly these decisions; all are judged by ROC-AUC and AP on the undecided rows.
3. Methods: our ensemble (`RankEnsemble().fit(frame, feedback=decisions)`, what `score-table
   --feedback-column` runs), its unsupervised score, the version before issue 22, the candidate designs,
   and the baselines of `feedback_baselines.py`: CatBoost, XGBoost, LightGBM unlabelled-as-normal and on the
   decided rows only, and XGBOD.
4. The design is chosen on the development tables ONLY (both development roles, pooled): the candidate with
   the highest mean ROC-AUC there. The shipped one must be it (``shipped.same_as_chosen``).
5. Judged once: per group the mean of every method, and our lead over each baseline with a 95 % bootstrap
   interval over tables (tables resampled whole, the two methods paired on each). The criterion of issue 22:
   a mean ROC-AUC lead of at least `MARGIN` over every baseline on the held-out tables.

    python benchmarks/anomaly_feedback.py                 # ~45 min on 2 shared cores -> results/anomaly_feedback.json
    python benchmarks/anomaly_feedback.py --development-only   # the candidates on the development tables only
    python benchmarks/anomaly_feedback.py --no-review          # everything but the simulated analysts
    python benchmarks/anomaly_feedback.py --review-only        # only them: active_review in the existing JSON
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import bootstrap

sys.path.insert(0, str(Path(__file__).resolve().parent))
from abnormal import tables as earlier_tables
from anomaly_tables import slug, world_users
from cryptoscope.anomaly.combine import combine, rank_columns, standardize
from cryptoscope.anomaly.detectors import ENSEMBLE, RankEnsemble, fit_scores, prepare, scaled
from cryptoscope.anomaly.evidence import judge
from cryptoscope.anomaly.feedback import learn_from_decisions
from cryptoscope.anomaly.refine import refine
from cryptoscope.benchmarks import review_sim
from cryptoscope.benchmarks.anomaly_corpus import bundled_names, fresh_names, halves, load_bundled, load_fresh
from cryptoscope.benchmarks.anomaly_rcorpus import load_task, task_names
from cryptoscope.benchmarks.review_sim import plot, review_table, summarize
from cryptoscope.fsio import atomic_write
from feedback_baselines import CATBOOST_ITERATIONS, baselines, catboost_model, unlabelled_as_normal, xgbod_features

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "anomaly_feedback.json"
CACHE = ROOT / "scratch" / "anomaly-feedback"
CACHE_VERSION = "1"
MAX_ROWS = 2_000
MIN_ANOMALIES = 30
ABNORMAL, CLEARED = 20, 20
SEEDS = (0, 1)
#: Burned tables per held-out corpus: the first that qualify, in the corpus' own order (the first round's held out).
PER_CORPUS = 12
MARGIN = 0.01
BASELINES = ("catboost_unlabelled_as_normal", "xgboost_unlabelled_as_normal", "lightgbm_unlabelled_as_normal",
             "catboost_decided_only", "xgboost_decided_only", "lightgbm_decided_only", "xgbod")
METRICS = ("roc_auc", "average_precision")


# -- tables ----------------------------------------------------------------------------------------------
def corpus(development_only: bool) -> Iterator[tuple[str, str, Callable[[], pd.DataFrame]]]:
    """(name, group, loader) for every candidate table, development first."""
    split = halves()
    for name in bundled_names():
        if split[name] == "development" or not development_only:
            yield name, split[name], lambda name=name: load_bundled(name)
    if development_only:
        return
    yield from ((f"fresh:{n}", "held_out_fresh", lambda n=n: load_fresh(n, 0)) for n in fresh_names())
    yield from ((f"r:{n}", "held_out_r", lambda n=n: load_task(n, 0)) for n in task_names())
    for name, frame in earlier_tables(world_users()).items():
        yield name, "held_out_earlier", lambda frame=frame: frame


def cut(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """At most `MAX_ROWS` rows, the anomaly share kept (a stratified, seeded sample)."""
    if len(frame) <= MAX_ROWS:
        return frame.reset_index(drop=True)
    share = MAX_ROWS / len(frame)
    parts = [g.sample(round(share * len(g)), random_state=seed) for _, g in frame.groupby("label")]
    return pd.concat(parts).sort_index().reset_index(drop=True)


def prepared(name: str, load: Callable[[], pd.DataFrame]) -> dict[str, np.ndarray] | None:
    """The cut table's features, labels, member scores and XGBOD's matrix; cached on disk (None: too few anomalies)."""
    path = CACHE / f"{slug(name)}-v{CACHE_VERSION}.npz"
    if path.exists():
        cached = dict(np.load(path))
        return cached if cached["label"].sum() >= MIN_ANOMALIES else None
    frame = cut(load())
    y = frame["label"].to_numpy(dtype=int)
    features = frame.drop(columns=["label"]).select_dtypes(include=["number", "bool"])
    out: dict[str, np.ndarray] = {"label": y, "features": features.to_numpy(dtype=float)}
    if y.sum() >= MIN_ANOMALIES:
        x = prepare(features)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.update(x=x, members=np.column_stack([fit_scores(m, x, 7) for m in ENSEMBLE]), tos=xgbod_features(x))
    CACHE.mkdir(parents=True, exist_ok=True)
    save(path, out)
    return out if y.sum() >= MIN_ANOMALIES else None


def save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` through a temporary file and a rename: a second process warming the same cache never
    reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def draw(y: np.ndarray, seed: int) -> np.ndarray:
    """`ABNORMAL` confirmed and `CLEARED` cleared rows at random: 1 / 0, NaN for every other row."""
    rng = np.random.default_rng(seed)
    d = np.full(len(y), np.nan)
    d[rng.choice(np.flatnonzero(y == 1), ABNORMAL, replace=False)] = 1
    d[rng.choice(np.flatnonzero(y == 0), CLEARED, replace=False)] = 0
    return d


# -- methods ---------------------------------------------------------------------------------------------
def baseline_scores(name: str, table: dict[str, np.ndarray], d: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """The baselines' scores for one draw, cached on disk (they never change with our designs)."""
    path = CACHE / f"{slug(name)}-v{CACHE_VERSION}-seed{seed}-baselines.npz"
    if path.exists():
        return dict(np.load(path))
    out = baselines(table["x"], table["tos"], d, seed)
    save(path, out)
    return out


def previous_version(x: np.ndarray, members: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The learner before issue 22 (commit 9d00d83): members weighted by their AUC on the decided rows, and a
    random forest on the decided rows only, out of fold; mean of the two ranks."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold

    known = np.flatnonzero(~np.isnan(d))
    y = d[known].astype(int)
    auc = np.array([judge(y, members[known, j])["roc_auc"] for j in range(members.shape[1])])
    lead = np.clip(auc - 0.5, 0, None)
    weights = lead / lead.sum() if lead.sum() > 0 else np.full(members.shape[1], 1 / members.shape[1])
    feats = np.column_stack([scaled(x), standardize(members)])

    def forest() -> RandomForestClassifier:
        return RandomForestClassifier(n_estimators=200, min_samples_leaf=2, class_weight="balanced",
                                      random_state=7, n_jobs=1)

    proba = np.zeros(len(x))
    rest = np.isnan(d)
    proba[rest] = forest().fit(feats[known], y).predict_proba(feats[rest])[:, 1]
    for train, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=7).split(known, y):
        proba[known[test]] = forest().fit(feats[known[train]], y[train]).predict_proba(feats[known[test]])[:, 1]
    return np.asarray((rank_columns(standardize(members) @ weights)[:, 0] + rank_columns(proba)[:, 0]) / 2)


def parts_version() -> str:
    """A digest of `cryptoscope.anomaly.pu`, where every part is computed: cached parts are reused only while
    it is unchanged (the blends of `feedback.py` and this file are cheap and always recomputed)."""
    import hashlib
    import inspect

    from cryptoscope.anomaly import pu

    return hashlib.sha256(inspect.getsource(pu).encode()).hexdigest()[:12]


def parts_of(name: str, table: dict[str, np.ndarray], d: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Every part of `pu.part_scores` for one draw, on the matrix the product gives them (`scaled`); cached on
    disk by table, seed and `parts_version`."""
    from cryptoscope.anomaly.pu import PARTS, part_scores

    path = CACHE / f"{slug(name)}-v{CACHE_VERSION}-seed{seed}-parts-{parts_version()}.npz"
    if path.exists():
        return dict(np.load(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = part_scores(scaled(table["x"]), d, 7, PARTS)
    save(path, out)
    return out


#: Weighted rank means of the parts tried as the learned score (`feedback.design_score`); weights by part.
BLENDS: dict[str, dict[str, float]] = {
    "pu_extra_two_step": {"extra": 1},
    "pu_random_two_step": {"random": 1},
    "knn_pu": {"knn": 1},
    "catboost_pu": {"catboost": 1},
    "pu_pair": {"extra": 1, "random": 1},
    "pu_pair+knn": {"extra": 1, "random": 1, "knn": 1},
    "pu_pair+catboost": {"extra": 1, "random": 1, "catboost": 1},
    "pu_extra+knn+catboost": {"extra": 1, "knn": 1, "catboost": 1},
    "pu_pair+knn+catboost": {"extra": 1, "random": 1, "knn": 1, "catboost": 1},
    "pu_pair+knn+catboost_x1.5": {"extra": 1, "random": 1, "knn": 1, "catboost": 1.5},
    "pu_pair+knn+catboost_x2": {"extra": 1, "random": 1, "knn": 1, "catboost": 2},
}


def candidates(parts: dict[str, np.ndarray], members: np.ndarray, unsup: np.ndarray,
               d: np.ndarray) -> dict[str, np.ndarray]:
    """Every design tried on one draw (chosen on the development tables only; see `AFFORDABLE`): the fixed
    blends of `BLENDS`, the parts weighted by how well each ranks the decided rows (`blend_by_decisions`, the
    parts score those rows out of fold or out of bag), and the earlier blends with the members' scores."""
    from cryptoscope.anomaly.feedback import blend_by_decisions, design_score

    out = {name: design_score(parts, weights) for name, weights in BLENDS.items()}
    four = {k: parts[k] for k in ("extra", "random", "knn", "catboost")}
    z = standardize(members).mean(axis=1)
    out["pu_pair+knn+catboost_by_decisions"] = blend_by_decisions(four, d)[0]
    out["pu_pair+knn+catboost+zscore_by_decisions"] = blend_by_decisions({**four, "members": z}, d)[0]
    out["pu_pair+zscore"] = blend_by_decisions({"forest": out["pu_pair"], "unsupervised": z}, d)[0]
    out["pu_pair+refined"] = blend_by_decisions({"forest": out["pu_pair"], "unsupervised": unsup}, d)[0]
    out["pu_pair+knn+zscore"] = blend_by_decisions({"forest": out["pu_pair+knn"], "unsupervised": z}, d)[0]
    return out


#: Designs that keep `score-table` on an 8,000-row table with decisions under 15 s on this machine: blending
#: with the *refined* unsupervised score adds the refinement's forests (3.5 s at 8,000 x 30), which does not.
AFFORDABLE = (*BLENDS, "pu_pair+knn+catboost_by_decisions", "pu_pair+knn+catboost+zscore_by_decisions",
              "pu_pair+zscore", "pu_pair+knn+zscore")


def code_version() -> str:
    """A digest of the code our scores come from: cached scores are reused only while it is unchanged."""
    import hashlib
    import inspect

    from cryptoscope.anomaly import combine as c
    from cryptoscope.anomaly import detectors, feedback
    from cryptoscope.anomaly import refine as r

    text = "".join(inspect.getsource(m) for m in (c, detectors, feedback, r)) + parts_version()
    text += inspect.getsource(candidates) + inspect.getsource(previous_version) + repr(BLENDS)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def our_scores(name: str, table: dict[str, np.ndarray], d: np.ndarray, seed: int, tried: bool) -> dict[str, np.ndarray]:
    """`ours`, cached on disk by table, seed and `code_version` (the parts cached apart: `parts_of`)."""
    path = CACHE / f"{slug(name)}-v{CACHE_VERSION}-seed{seed}-ours-{code_version()}{'-tried' if tried else ''}.npz"
    if path.exists():
        return dict(np.load(path))
    out = ours(table, d, tried, parts_of(name, table, d, seed))
    save(path, out)
    return out


def ours(table: dict[str, np.ndarray], d: np.ndarray, tried: bool,
         parts: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Our unsupervised ensemble, the version before issue 22, the shipped learner and (``tried``: on the
    development tables, where the design is chosen) every candidate, on one draw. ``parts``: precomputed
    `pu.part_scores` (the shipped learner then blends them as `learn_from_decisions` does, which
    `shipped_check` confirms against the product's own path); None: the product's path itself."""
    from cryptoscope.anomaly.feedback import DecisionCounts, blend_parts

    x, members = table["x"], table["members"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unsup = table.get("unsup")
        if unsup is None:
            unsup = table["unsup"] = refine(scaled(x), combine(members, "zscore"))
        if parts is None:
            learned = learn_from_decisions(scaled(x), members, d)
            ensemble = learned[0] if learned is not None else unsup
        else:
            ensemble = blend_parts(parts, members, d)[0] if DecisionCounts.of(d).usable else unsup
        return {"unsupervised": unsup, "previous_version": previous_version(x, members, d),
                **(candidates(parts, members, unsup, d) if tried and parts is not None else {}),
                "ensemble": ensemble}


def catboost_check(per: dict[str, dict[str, Any]], tables: int = 8) -> dict[str, Any]:
    """CatBoost unlabelled-as-normal at its default 1,000 iterations against `CATBOOST_ITERATIONS`, on the first
    ``tables`` development tables (seed 0): whether the cut for time weakens the strongest baseline."""
    out: dict[str, Any] = {}
    for name, _, load in corpus(True):
        if name not in per or len(out) >= tables:
            continue
        table = prepared(name, load)
        assert table is not None
        y, d = table["label"], draw(table["label"], SEEDS[0])
        rest = np.isnan(d)
        full = unlabelled_as_normal(catboost_model(1000), table["x"], d, SEEDS[0])
        cut = baseline_scores(name, table, d, SEEDS[0])["catboost_unlabelled_as_normal"]
        out[name] = {"1000": round(judge(y[rest], full[rest])["roc_auc"], 4),
                     str(CATBOOST_ITERATIONS): round(judge(y[rest], cut[rest])["roc_auc"], 4)}
    mean = {k: round(float(np.mean([v[k] for v in out.values()])), 4) for k in ("1000", str(CATBOOST_ITERATIONS))}
    return {"tables": out, "mean_roc_auc": mean}


# -- running ---------------------------------------------------------------------------------------------
def family(name: str) -> str:
    """The source a table was cut from (tables of one source share what a learner could have been tuned to)."""
    from cryptoscope.benchmarks.anomaly_corpus import family_of, fresh_family
    from cryptoscope.benchmarks.anomaly_rcorpus import task_family

    if name.startswith("fresh:"):
        return fresh_family(name.removeprefix("fresh:"))
    if name.startswith("r:"):
        return task_family(name.removeprefix("r:"))
    return family_of(name) if name in halves() else name


def roles(development_only: bool) -> Iterator[tuple[str, str, str, dict[str, np.ndarray]]]:
    """(name, role, corpus, table) for every table that qualifies, by the fixed rule of the docstring (step 1):
    ``development`` (the first round's development half), ``development_burned`` (the first round's held-out
    tables: the first `PER_CORPUS` of each held-out corpus and the earlier 8) and ``held_out`` (every later
    table of the held-out corpora whose source no burned table shares). ``development_only``: no held-out one."""
    taken: dict[str, int] = {}
    burned_families: set[str] = set()
    for name, group, load in corpus(False):
        if group != "development" and group != "held_out_earlier" and taken.get(group, 0) >= PER_CORPUS:
            role = "held_out"
            if development_only or family(name) in burned_families:
                continue
        else:
            role = "development" if group == "development" else "development_burned"
        try:
            table = prepared(name, load)
        except Exception as exc:
            print(f"  skipped {name}: {type(exc).__name__}: {exc}", flush=True)
            continue
        if table is None:
            continue
        if role == "development_burned":
            taken[group] = taken.get(group, 0) + 1
            burned_families.add(family(name))
        yield name, role, group, table


def score_tables(development_only: bool) -> dict[str, dict[str, Any]]:
    """Per table: role, corpus, size, and every method's metrics averaged over the seeds."""
    out: dict[str, dict[str, Any]] = {}
    for name, role, group, table in roles(development_only):
        t0 = time.perf_counter()
        y = table["label"]
        per: dict[str, list[dict[str, float]]] = {}
        for seed in SEEDS:
            d = draw(y, seed)
            rest = np.isnan(d)
            scores = {**our_scores(name, table, d, seed, tried=role != "held_out"),
                      **baseline_scores(name, table, d, seed)}
            for method, s in scores.items():
                per.setdefault(method, []).append(judge(y[rest], np.asarray(s)[rest]))
        out[name] = {"group": role, "corpus": group, "rows": len(y), "anomalies": int(y.sum()),
                     "features": int(table["x"].shape[1]),
                     "metrics": {m: {k: round(float(np.mean([r[k] for r in rs])), 4) for k in METRICS}
                                 for m, rs in per.items()}}
        shown = "" if role == "held_out" else (f": ours {out[name]['metrics']['ensemble']['roc_auc']:.3f}, catboost "
                                               f"{out[name]['metrics']['catboost_unlabelled_as_normal']['roc_auc']:.3f}")
        print(f"  {name} ({role}, {len(y)} rows, {time.perf_counter() - t0:.1f}s){shown}", flush=True)
    return out


#: Report groups: the roles they pool. Development (where the design is chosen) is both development roles.
GROUPS = {"development": ("development", "development_burned"), "development_first_round": ("development",),
          "development_burned": ("development_burned",), "held_out": ("held_out",)}


def rows_of(per: dict[str, dict[str, Any]], group: str) -> list[dict[str, Any]]:
    return [r["metrics"] for r in per.values() if r["group"] in GROUPS[group]]


def group_means(per: dict[str, dict[str, Any]], group: str) -> dict[str, dict[str, float]]:
    rows = rows_of(per, group)
    return {m: {k: round(float(np.mean([r[m][k] for r in rows])), 4) for k in METRICS} for m in rows[0]} if rows else {}


def leads(per: dict[str, dict[str, Any]], group: str, method: str = "ensemble") -> dict[str, Any]:
    """``method``'s mean lead over each baseline (and its unsupervised score) with a 95 % bootstrap interval
    over tables: each table resampled whole, the two methods paired on it."""
    rows = rows_of(per, group)
    out: dict[str, Any] = {}
    for other in (*BASELINES, "previous_version", "unsupervised"):
        out[other] = {}
        for k in METRICS:
            diff = np.array([r[method][k] - r[other][k] for r in rows])
            ci = bootstrap((diff,), np.mean, n_resamples=5_000, method="percentile", random_state=0)
            out[other][k] = {"lead": round(float(diff.mean()), 4), "wins": int((diff > 0).sum()),
                             "tables": len(diff), "ci95": [round(float(ci.confidence_interval.low), 4),
                                                           round(float(ci.confidence_interval.high), 4)]}
    return out


def verdict(lead: dict[str, Any]) -> dict[str, Any]:
    """Issue 22's criterion: a mean ROC-AUC lead of at least `MARGIN` over every baseline."""
    worst = min(BASELINES, key=lambda b: lead[b]["roc_auc"]["lead"])
    return {"margin": MARGIN, "met": all(lead[b]["roc_auc"]["lead"] >= MARGIN for b in BASELINES),
            "closest_baseline": worst, "lead_over_it": lead[worst]["roc_auc"]}


def shipped_check() -> dict[str, Any]:
    """Max difference between `RankEnsemble().fit(table, feedback)` and the benchmark's cached path, on the
    first development table that qualifies: the figures are those of the shipped code."""
    for name, _, load in corpus(True):
        table = prepared(name, load)
        if table is None:
            continue
        d = draw(table["label"], SEEDS[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = RankEnsemble().fit(pd.DataFrame(table["features"]), feedback=d).scores_["ensemble"]
        cached = our_scores(name, table, d, SEEDS[0], tried=True)["ensemble"]
        return {"table": name, "max_abs_diff": float(np.abs(fitted - cached).max())}
    return {}


def report(per: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Choose on development, judge on the held-out groups."""
    dev = group_means(per, "development")
    chosen = max(AFFORDABLE, key=lambda m: (dev[m]["roc_auc"], dev[m]["average_precision"]))
    shipped = next((m for m in AFFORDABLE if all(r["ensemble"] == r[m] for r in rows_of(per, "development"))), None)
    tried = {m: dev[m] for m in (*AFFORDABLE, "pu_pair+refined")}
    groups = {g: {"tables": len(rows_of(per, g)), "mean": group_means(per, g)} for g in GROUPS if rows_of(per, g)}
    lead = {g: leads(per, g) for g in groups if groups[g]["tables"] >= 5}
    return {"chosen_on_development": chosen, "shipped": shipped, "same_as_chosen": shipped == chosen,
            "designs_on_development": tried,
            "criterion": {g: verdict(lead[g]) for g in ("development", "held_out") if g in lead},
            "lead_of_ensemble": lead, "groups": groups, "tables": per}


#: Active review: the first tables of the first round's held-out set (role ``development_burned``, the same
#: tables as that round's figures) with at least this many anomalies (after the cut), and how many.
REVIEW_MIN_ANOMALIES, REVIEW_TABLES = 60, 6
PLOT = ROOT.parent / "docs" / "img" / "abnormal-review.png"


def review_tables() -> Iterator[tuple[str, dict[str, np.ndarray]]]:
    """The first `REVIEW_TABLES` burned tables (`roles`) with at least `REVIEW_MIN_ANOMALIES` anomalies: chosen
    by role and size alone, so that the simulated analysts need no learner's scores (``--review-only``)."""
    found = 0
    for name, role, _, table in roles(False):
        if found >= REVIEW_TABLES:
            return
        if role == "development_burned" and int(table["label"].sum()) >= REVIEW_MIN_ANOMALIES:
            found += 1
            yield name, table


def review_version() -> str:
    """A digest of everything a simulated review runs (the learner, the queue, the simulation): cached review
    results are reused only while it is unchanged."""
    import hashlib
    import inspect

    from cryptoscope.anomaly import review

    text = code_version() + inspect.getsource(review) + inspect.getsource(review_sim)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def reviewed(name: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`review_sim.review_table` on one table, cached on disk by table and `review_version`."""
    path = CACHE / f"{slug(name)}-v{CACHE_VERSION}-review-{review_version()}.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    t0 = time.perf_counter()
    out = run()
    out["learner"]["table_seconds"] = round(time.perf_counter() - t0, 1)
    atomic_write(path, json.dumps(out).encode())
    return out


def active_review() -> dict[str, Any]:
    """`review_sim` on the `review_tables` and on the simulated world's users (behaviour features only, money
    at stake from them)."""
    from cryptoscope.anomaly.review import exposure

    tables: dict[str, Any] = {}
    for name, table in review_tables():
        def run(table: dict[str, np.ndarray] = table) -> dict[str, Any]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                unsup = refine(scaled(table["x"]), combine(table["members"], "zscore"))
            return review_table(table["x"], table["members"], unsup, table["label"])

        tables[name] = reviewed(name, run)
        print(f"  review {name}: {json.dumps({p: tables[name][p]['found_in_100'] for p in review_sim.POLICIES})} "
              f"({json.dumps(tables[name]['learner'])})", flush=True)
    world = world_users()
    features = world.drop(columns=["label"])
    y = world["label"].to_numpy(dtype=int)

    def run_world() -> dict[str, Any]:
        x = prepare(features)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            members = np.column_stack([fit_scores(m, x, 7) for m in ENSEMBLE])
            unsup = refine(scaled(x), combine(members, "zscore"))
        return review_table(x, members, unsup, y, exposure(features))

    world_result = reviewed("world-users", run_world)
    print(f"  review world: {json.dumps({p: world_result[p]['found_in_100'] for p in review_sim.POLICIES})} "
          f"({json.dumps(world_result['learner'])})", flush=True)
    out = {"protocol": review_sim.__doc__,
           "tables": tables, "tables_mean": summarize(tables),
           "world": {"users": len(y), "abnormal": int(y.sum()), **world_result},
           "world_summary": summarize({"world": world_result})}
    plot(out, PLOT)
    return out


def review_only(dry_run: bool, started: float) -> None:
    """``--review-only``: `active_review` written into the existing results, with its own command and seconds."""
    review = active_review()
    review["command"] = shlex.join(["python", "benchmarks/anomaly_feedback.py", *sys.argv[1:]])
    review["seconds"] = round(time.perf_counter() - started)
    print(json.dumps({k: review[k] for k in ("tables_mean", "world_summary", "seconds")}, indent=1))
    if not dry_run:
        results = json.loads(RESULTS.read_text())
        results["active_review"] = review
        atomic_write(RESULTS, (json.dumps(results, indent=1) + "\n").encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--development-only", action="store_true", help="score the development tables only")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write the JSON")
    parser.add_argument("--no-review", action="store_true",
                        help="skip the simulated analysts (active_review; its learner refits ~100 times)")
    parser.add_argument("--review-only", action="store_true",
                        help="only the simulated analysts: replace active_review in the existing JSON")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.review_only:
        review_only(args.dry_run, started)
        return
    per = score_tables(args.development_only)
    results: dict[str, Any] = {
        "command": shlex.join(["python", "benchmarks/anomaly_feedback.py", *sys.argv[1:]]),
        "machine": f"{os.cpu_count()} cores (shared), {platform.python_implementation()} {platform.python_version()}",
        "seconds": None, "protocol": __doc__.split("\n\n")[1],
        "settings": {"max_rows": MAX_ROWS, "min_anomalies": MIN_ANOMALIES, "burned_per_held_out_corpus": PER_CORPUS,
                     "decisions": {"abnormal": ABNORMAL, "cleared": CLEARED}, "seeds": list(SEEDS),
                     "catboost_iterations": CATBOOST_ITERATIONS, "affordable_designs": list(AFFORDABLE)},
        "shipped_vs_benchmark": shipped_check(),
        **report(per), "catboost_iterations_check": catboost_check(per)}
    if not args.development_only and not args.no_review:
        review_started = time.perf_counter()
        results["active_review"] = active_review()
        results["active_review"]["seconds"] = round(time.perf_counter() - review_started)
    results["seconds"] = round(time.perf_counter() - started)
    for g, v in results["groups"].items():
        print(g, v["tables"], json.dumps({m: x["roc_auc"] for m, x in sorted(v["mean"].items(),
                                                                           key=lambda kv: kv[1]["roc_auc"])}))
    print(json.dumps({k: results[k] for k in ("chosen_on_development", "shipped", "same_as_chosen", "criterion")},
                     indent=1))
    if not args.dry_run and not args.development_only:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(RESULTS, (json.dumps(results, indent=1) + "\n").encode())


if __name__ == "__main__":
    main()
