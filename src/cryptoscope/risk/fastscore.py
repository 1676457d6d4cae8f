"""One-row scoring without pandas per column: the same numbers as ``bundle.score`` and the reason explainer.

``ModelBundle.score`` and ``ReasonExplainer`` go through pandas column by column (type checks, casts,
re-ordering), which costs milliseconds on a one-row frame: most of a request's time. For LightGBM
bundles this module reads the booster once and scores a float matrix directly:

* probability: ``booster.predict(X)`` (the same trees and iteration as the scikit-learn wrapper's
  ``predict_proba``), then the bundle's own calibrator;
* reasons: LightGBM's built-in TreeSHAP (``pred_contrib=True``), the exact SHAP values on the
  log-odds that ``shap.TreeExplainer`` computes, worded by the product's reason catalog.

A linear bundle (the KYC and deposit logistic regressions behind their median imputer) is scored the same way
by ``FastLinear``: the imputer's medians, ``x @ coef.T + intercept`` and the logistic function as scikit-learn
computes them, and the reasons from the explainer's ``LinearShap`` (shap's LinearExplainer values, in numpy).
On the frame path one KYC row costs 7.5-8 ms of CPU (p50; the one-row frame ~1.5 ms, ``predict_proba`` with
its column and input checks ~1.6 ms, the explainer's contributions behind the same checks and the imputer's
transform ~1.6 ms, the rest reasons, calibration and decisions); on this path, which makes no pandas or
scikit-learn call per row, ~0.06 ms (``docs/risk.md``).

``check`` compares both kinds against the bundle and the explainer on reference rows at start-up
and the server falls back to the general path for a model where they disagree; tests assert it too.
Other estimators (the sequence and hybrid models) always take the general path.

Per row, LightGBM's Python ``predict`` spends ~30 µs of its ~45 µs (and ~120 of the ~290 µs of a
contributions call) setting up: parameter strings, a new C++ predictor per call, OpenMP. The single-row
C API meant for low-latency serving (``LGBM_BoosterPredictForMatSingleRowFastInit`` once, then
``...SingleRowFast`` per row) sets up once: 12 µs for the probability, ~110-160 µs for the TreeSHAP values
(the tree walk itself, O(trees x leaves x depth^2)). A binary booster of numerical splits is served from
``models.tree_shap`` instead: its trees as flat arrays (Numba) give the same probabilities to the bit without
ctypes' per-call cost, and per-leaf TreeSHAP tables give the same values (within 1e-12) at O(trees x leaves x
depth): in the server ~60 µs instead of ~120 µs a row, ~20 µs in a tight loop. Other boosters keep the C API.
The calibrator is applied with ``Calibrator.transform_fast``.
"""

from __future__ import annotations

import ctypes
import heapq
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from cryptoscope.models import ReasonCatalog
from cryptoscope.models.bundle import ModelBundle
from cryptoscope.models.explain import LinearShap, Reason, ReasonExplainer
from cryptoscope.models.tree_shap import TreeShap
from cryptoscope.risk.reasons import distinct_reasons


class SingleRow:
    """LightGBM's single-row prediction C API for one booster and one output (probability or contributions).

    Not thread-safe (one output buffer, one C++ predictor): the server scores on one thread; a lock
    keeps a stray second caller (a test, a console page) from interleaving."""

    NORMAL, CONTRIB = 0, 3  # C_API_PREDICT_NORMAL, C_API_PREDICT_CONTRIB

    def __init__(self, booster: Any, kind: int) -> None:
        from lightgbm.basic import _LIB, _c_str, _safe_call

        self._lib, self._check = _LIB, _safe_call
        self.width = booster.num_feature()
        self.kind = kind
        self.handle = ctypes.c_void_p()
        self._booster = booster._handle
        self._iterations = booster.best_iteration  # what Booster.predict uses by default (0: all trees)
        self._params = _c_str("num_threads=1")
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            self._booster, ctypes.c_int(kind), ctypes.c_int(0), ctypes.c_int(self._iterations),
            ctypes.c_int(1), ctypes.c_int32(self.width), self._params, ctypes.byref(self.handle)))
        self.out = np.zeros(self.width + 1 if kind == self.CONTRIB else 1, dtype=np.float64)
        self._out_ptr = self.out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self._length = ctypes.c_int64()
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """One output row per row of ``x`` (float64, ``width`` columns)."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.shape[0] > 1 and self.kind == self.CONTRIB:
            return self._matrix(x)
        out = np.empty((x.shape[0], self.out.size), dtype=np.float64)
        with self._lock:
            for i in range(x.shape[0]):
                self._check(self._lib.LGBM_BoosterPredictForMatSingleRowFast(
                    self.handle, x[i].ctypes.data_as(ctypes.c_void_p), ctypes.byref(self._length), self._out_ptr))
                out[i] = self.out
        return out

    def _matrix(self, x: np.ndarray) -> np.ndarray:
        """Several rows in one C call (``LGBM_BoosterPredictForMat``): the GIL is released once for the whole
        batch, not once per row, so the worker thread does not queue for it between rows."""
        out = np.empty((x.shape[0], self.out.size), dtype=np.float64)
        length = ctypes.c_int64()
        self._check(self._lib.LGBM_BoosterPredictForMat(
            self._booster, x.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(1), ctypes.c_int32(x.shape[0]),
            ctypes.c_int32(self.width), ctypes.c_int(1), ctypes.c_int(self.kind), ctypes.c_int(0),
            ctypes.c_int(self._iterations), self._params, ctypes.byref(length),
            out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))))
        return out

    def __del__(self) -> None:
        handle = getattr(self, "handle", None)
        if handle is not None and handle.value:
            self._lib.LGBM_FastConfigFree(handle)


class FastPath(ABC):
    """What the served path needs of a model, on a float matrix of its inputs (one row per decision): calibrated
    probabilities, contributions on the log-odds (one column per feature, then the bias) and reasons in words.
    ``FastModel`` (LightGBM) and ``FastLinear`` fill in ``raw`` and ``contributions``; ``fast_path`` picks one."""

    api = ""  # how the raw score is computed, in words (shown by the console)

    def __init__(self, bundle: ModelBundle, catalog: ReasonCatalog, top_k: int = 3) -> None:
        self.calibrator = bundle.calibrator
        self.names = [str(n) for n in bundle.estimator.feature_names_in_]
        self.catalog = catalog
        self.top_k = top_k
        self._words: dict[tuple[str, float], str] = {}  # (feature, value) -> sentence: counts repeat a lot

    @abstractmethod
    def raw(self, x: np.ndarray) -> np.ndarray:
        """The uncalibrated probability of bad per row, as the estimator's ``predict_proba`` gives it."""

    @abstractmethod
    def contributions(self, x: np.ndarray) -> np.ndarray:
        """SHAP values on the log-odds, one column per feature plus the bias (safe on another thread)."""

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(frame[self.names].to_numpy(dtype=float, na_value=np.nan), dtype=np.float64)

    def rows_matrix(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The model's inputs from prepared dict rows (``Product.prepare``): None is missing, as in the frame."""
        names = self.names
        return np.array([[np.nan if (v := r[n]) is None else v for n in names] for r in rows], dtype=np.float64)

    def score(self, x: np.ndarray) -> np.ndarray:
        raw = np.asarray(self.raw(x), dtype=float)
        return raw if self.calibrator is None else self.calibrator.transform_fast(raw)

    def reasons(self, x: np.ndarray) -> list[tuple[str, ...]]:
        return self.texts(x, self.contributions(x))

    def texts(self, x: np.ndarray, contributions: np.ndarray) -> list[tuple[str, ...]]:
        """Up to ``top_k`` reasons in words per row, from the features that pushed its score up most (on Python
        floats: for the one row a request brings, numpy's per-call set-up costs more than the sort)."""
        out, names, k = [], self.names, self.top_k
        for values, pushes in zip(x.tolist(), contributions[:, :-1].tolist(), strict=True):
            top = heapq.nlargest(3 * k, range(len(pushes)), key=pushes.__getitem__)  # argsort(-pushes), stable
            found = [Reason(names[j], values[j], pushes[j], "") for j in top if pushes[j] > 0]
            chosen = distinct_reasons(found, k)  # word only the chosen few: the catalog is regex work
            out.append(tuple(dict.fromkeys(self._describe(r.feature, r.value) for r in chosen)))
        return out

    def _describe(self, feature: str, value: float) -> str:
        """The catalog's sentence (glob and regex matching), remembered for values seen before."""
        key = (feature, value)
        text = self._words.get(key)
        if text is None:
            text = self.catalog.describe(feature, value)
            if len(self._words) >= 100_000:  # amounts rarely repeat: keep the memory bounded
                self._words.clear()
            self._words[key] = text
        return text

    def check(self, bundle: ModelBundle, explainer: ReasonExplainer, frame: pd.DataFrame) -> str:
        """'' when this path matches the bundle and the explainer on ``frame``; else what differs."""
        x = self.matrix(frame)
        slow = bundle.score(frame[self.names])
        if not np.allclose(self.score(x), slow, rtol=1e-12, atol=0.0):
            return "probabilities differ from bundle.score"
        general = [unique_texts(distinct_reasons(r, self.top_k)) for r in explainer.reasons(frame[self.names])]
        if general != self.reasons(x):
            return "reasons differ from the SHAP explainer"
        return ""


class FastModel(FastPath):
    """A LightGBM bundle's booster, calibrator and reason catalog; see the module doc."""

    def __init__(self, bundle: ModelBundle, catalog: ReasonCatalog, top_k: int = 3) -> None:
        inner = getattr(bundle.estimator, "estimator_", None)
        booster = getattr(inner, "booster_", None)
        if booster is None or hasattr(inner, "steps"):
            raise TypeError("not a plain LightGBM model")
        super().__init__(bundle, catalog, top_k)
        self.booster: Any = booster
        self._proba: Callable[[np.ndarray], np.ndarray]
        self._contrib: Callable[[np.ndarray], np.ndarray]
        try:  # the trees as flat arrays (Numba): the same probabilities to the bit, TreeSHAP 2-6x faster
            tables = TreeShap(booster)
            if tables.sigmoid is None:
                raise TypeError(f"objective {tables.objective!r}: no probabilities from the tables")
            self._proba, self._contrib = tables.probabilities, tables.values
            self.api = "flat trees and TreeSHAP tables (Numba)"
            return
        except TypeError as exc:  # categorical splits, deep trees, another objective: LightGBM's own code for it
            why = f"not the tables: {exc}"
        try:
            proba, contrib = SingleRow(booster, SingleRow.NORMAL), SingleRow(booster, SingleRow.CONTRIB)
            self._proba, self._contrib = (lambda x: proba(x)[:, 0]), contrib
            self.api = f"single-row C API ({why})"
        except (ImportError, AttributeError, OSError) as exc:  # another LightGBM build: its Python predict
            self._proba = lambda x: booster.predict(x, num_threads=1)
            self._contrib = lambda x: booster.predict(x, pred_contrib=True, num_threads=1)
            self.api = f"Booster.predict ({why}; {exc})"

    def raw(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._proba(x), dtype=float)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """TreeSHAP values on the log-odds, one column per feature plus the bias (``models.tree_shap``'s tables, or
        LightGBM's C code; both run without the GIL)."""
        return np.asarray(self._contrib(x), dtype=float)


class FastLinear(FastPath):
    """A linear bundle (a logistic regression, behind ``RiskClassifier``'s imputer or not) in numpy: the imputer's
    fill values, ``x @ coef.T + intercept`` through the logistic function (scikit-learn's ``predict_proba`` for a
    binary linear model, the same operations), and the explainer's ``LinearShap`` for the reasons."""

    api = "numpy (linear)"

    def __init__(self, bundle: ModelBundle, explainer: ReasonExplainer, catalog: ReasonCatalog,
                 top_k: int = 3) -> None:
        inner: Any = getattr(bundle.estimator, "estimator_", None)
        linear = getattr(explainer, "explainer_", None)
        steps = list(inner.steps) if isinstance(inner, Pipeline) else [("model", inner)]
        final: Any = steps[-1][1]
        if not isinstance(linear, LinearShap) or not hasattr(final, "intercept_"):
            raise TypeError("not a linear model with an intercept, explained by LinearShap")
        super().__init__(bundle, catalog, top_k)
        self.fill = imputer_fill(steps[:-1], len(self.names))
        self.coef_t = np.asarray(final.coef_, dtype=np.float64).T  # (features, 1), as decision_function multiplies
        self.intercept = np.asarray(final.intercept_, dtype=np.float64)
        self.linear = linear

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """``x`` as the final estimator sees it: missing values filled as the imputer fills them."""
        return x if self.fill is None else np.where(np.isnan(x), self.fill, x)

    def raw(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(expit(self.inputs(x) @ self.coef_t + self.intercept)[:, 0], dtype=float)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """``LinearShap``'s values on the log-odds, then the bias column (its expected value), as TreeSHAP's."""
        values = self.linear.values(self.inputs(x))
        return np.column_stack([values, np.full(len(values), self.linear.expected_value)])


def imputer_fill(steps: Sequence[tuple[str, Any]], width: int) -> np.ndarray | None:
    """The values a pipeline's transform steps put in place of NaN (None without steps), or ``TypeError`` when a
    step is anything but a column-preserving ``SimpleImputer`` of NaN, whose transform this is."""
    if not steps:
        return None
    if len(steps) > 1:
        raise TypeError(f"{len(steps)} transform steps: only one imputer has a numpy path")
    step = steps[0][1]
    missing = getattr(step, "missing_values", None)
    if not isinstance(step, SimpleImputer) or step.add_indicator or not (
            isinstance(missing, float) and math.isnan(missing)):
        raise TypeError(f"the transform step {type(step).__name__} has no numpy path (a SimpleImputer of NaN has)")
    fill = np.asarray(step.statistics_, dtype=float)
    if fill.shape != (width,) or not np.isfinite(fill).all():
        raise TypeError("the imputer drops or leaves empty columns: no numpy path")
    return fill


def fast_path(bundle: ModelBundle, explainer: ReasonExplainer, catalog: ReasonCatalog, top_k: int = 3) -> FastPath:
    """The served path for ``bundle``: ``FastLinear`` for a linear model (as ``explainer`` found it), else
    ``FastModel``; ``TypeError`` saying why when neither applies (the general path is used then)."""
    if getattr(explainer, "kind_", "") == "linear":
        return FastLinear(bundle, explainer, catalog, top_k)
    return FastModel(bundle, catalog, top_k)


def unique_texts(reasons: list[Reason]) -> tuple[str, ...]:
    """Reason sentences without repeats (two windows of one signal can read the same)."""
    return tuple(dict.fromkeys(r.text for r in reasons))
