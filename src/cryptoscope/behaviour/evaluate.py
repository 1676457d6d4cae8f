"""``behaviour evaluate``: segment recovery (ARI against the world's latent kinds) and churn vs recency."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sklearn.metrics import adjusted_rand_score

from cryptoscope.behaviour import analysis
from cryptoscope.behaviour.latent import latent_kinds, world_settings
from cryptoscope.features import engines


def evaluate(lake: str | os.PathLike[str], engine: str = "duckdb", *, seed: int = 0, horizon_days: int = 28,
             history_days: int = 14) -> dict[str, Any]:
    """The figures of ``evaluate --out``; the latent kinds are read only here, after every fit."""
    result = analysis.run(lake, engine, seed=seed, horizon_days=horizon_days, history_days=history_days,
                          with_patterns=False)
    con = engines.connect(lake, engine)
    world = world_settings(con)
    labels = result.extras["profile_labels"]
    kinds = latent_kinds(con, labels.index)
    churn = result.extras["churn"]
    return {
        "segments_ari": float(adjusted_rand_score(kinds.to_numpy(), labels.to_numpy())),
        "churn": {"roc_auc": churn.metrics["roc_auc"], "pr_auc": churn.metrics["pr_auc"]},
        "baselines": {"recency": churn.baseline},
        "detail": {"world_seed": world.seed, "users": world.users, "days": world.days, "segments": result.model.names,
                   "refit_ari": result.stability, "churn_rate": churn.metrics["churn_rate"],
                   "churn_rows": churn.metrics["rows"], "value_errors": result.extras["value_errors"]["all"],
                   "targeting": result.extras["targeting"], "seconds": result.extras["seconds"]},
    }


def write_evaluation(figures: dict[str, Any], out: str | os.PathLike[str]) -> Path:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=float))
    return path
