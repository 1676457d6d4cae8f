"""The evaluation figures, each returned as a base64 PNG ready to embed in a self-contained page.

Figures are drawn on ``matplotlib.figure.Figure`` with the Agg canvas, never through ``pyplot``:
no global backend to switch, no window, nothing left open between calls.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from cryptoscope.models.calibration import reliability_table
from cryptoscope.models.decisions import DecisionOutcome


def png(draw: Callable[[Axes], None], size: tuple[float, float] = (5.0, 3.6)) -> str:
    """Run ``draw`` on a fresh axes and return the figure as base64-encoded PNG."""
    fig = Figure(figsize=size, dpi=90)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    draw(ax)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def pr_curve(y: np.ndarray, p: np.ndarray) -> str:
    def draw(ax: Axes) -> None:
        precision, recall, _ = precision_recall_curve(y, p)
        ax.step(recall, precision, where="post")
        ax.axhline(float(np.mean(y)), color="grey", linestyle=":", label="base rate")
        ax.set(xlabel="recall", ylabel="precision", title="Precision-recall", xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(loc="upper right")
    return png(draw)


def roc(y: np.ndarray, p: np.ndarray) -> str:
    def draw(ax: Axes) -> None:
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr)
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    return png(draw)


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> str:
    table = reliability_table(y, p, bins).dropna()

    def draw(ax: Axes) -> None:
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
        ax.plot(table["mean_predicted"], table["observed_rate"], color="C0", label="model (dot area: rows)")
        ax.scatter(table["mean_predicted"], table["observed_rate"], s=8 + 200 * table["count"] / table["count"].max(),
                   color="C0", zorder=3)
        ax.set(xlabel="mean predicted probability", ylabel="observed bad rate", title="Reliability",
               xlim=(0, 1), ylim=(0, 1))
        ax.legend(loc="upper left")
    return png(draw)


def score_distributions(y: np.ndarray, p: np.ndarray) -> str:
    def draw(ax: Axes) -> None:
        edges = np.linspace(0.0, 1.0, 41).tolist()
        for label, name in ((0, "good"), (1, "bad")):
            ax.hist(p[y == label], bins=edges, density=True, alpha=0.55, label=f"{name} ({int((y == label).sum())})")
        ax.set(xlabel="calibrated probability", ylabel="density", title="Scores by label", yscale="log")
        ax.legend()
    return png(draw)


def importance(values: pd.Series, title: str, top: int = 20) -> str:
    shown = values.head(top)[::-1]

    def draw(ax: Axes) -> None:
        ax.barh([str(i) for i in shown.index], shown.to_numpy())
        ax.set(title=title)
    return png(draw, size=(6.0, 0.28 * len(shown) + 1.2))


def over_time(table: pd.DataFrame, columns: Sequence[str] = ("roc_auc", "pr_auc", "precision_at_alert_rate")) -> str:
    def draw(ax: Axes) -> None:
        for column in columns:
            ax.plot(table["period"], table[column], marker="o", label=column.replace("_", " "))
        ax.set(title="Metrics over time (test period)", ylim=(0, 1.02))
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.legend(loc="lower left")
    return png(draw, size=(6.5, 3.6))


def decision_costs(outcomes: Sequence[DecisionOutcome]) -> str:
    def draw(ax: Axes) -> None:
        colours = {"model": "C0", "rules baseline": "C1"}
        bars = ax.bar([o.name for o in outcomes], [o.cost for o in outcomes],
                      color=[colours.get(o.name, "C7") for o in outcomes])
        ax.bar_label(bars, fmt="{:,.0f}")
        ax.set(ylabel="total cost", title="Decision cost on the test period")
    return png(draw, size=(6.5, 3.6))
