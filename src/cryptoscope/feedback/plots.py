"""The feedback report's charts, each a base64 PNG (drawn on a bare Agg figure, see `models.plots.png`)."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from cryptoscope.feedback.drivers import DriverResult
from cryptoscope.models.plots import png

TOP_TOPICS = 6


def topic_trends(weekly: pd.DataFrame, names: dict[str, str]) -> str:
    """Weekly items of the largest topics (partial first and last weeks included, marked in the text)."""
    top = weekly.sum().sort_values(ascending=False).index[:TOP_TOPICS]

    def draw(ax: Axes) -> None:
        for topic in top:
            ax.plot(weekly.index, weekly[topic], marker="o", markersize=3, label=names.get(str(topic), str(topic))[:40])
        ax.set(xlabel="week (Monday)", ylabel="texts", title="Largest topics per week")
        ax.legend(fontsize=7, loc="upper left")
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    return png(draw, (7.5, 3.8))


def driver_chart(result: DriverResult, title: str) -> str:
    """Each driver's effect on the score with its robust 95 % interval; strong evidence in red, weak in grey."""
    effects = result.effects

    def draw(ax: Axes) -> None:
        for i, e in enumerate(effects):
            strong = e.evidence == "strong"
            ax.errorbar(e.effect, i, xerr=[[e.effect - e.ci_low], [e.ci_high - e.effect]], fmt="o",
                        color="#c0392b" if strong else "#999999", capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(effects)), [e.meaning[:60] for e in effects], fontsize=7)
        ax.set(xlabel=f"change in {result.outcome} (95 % CI)", title=title)
    return png(draw, (8.5, 0.45 * len(effects) + 1.4))


def importance_chart(table: pd.DataFrame, by: str) -> str:
    """Importance (CSAT gap to the rest) against performance (current CSAT); bubble size = tickets."""
    def draw(ax: Axes) -> None:
        size = 600 * table["share"] / max(float(table["share"].max()), 1e-9) + 20
        ax.scatter(table["csat"], table["gap"], s=size, alpha=0.5)
        for _, row in table.iterrows():
            ax.annotate(str(row[by])[:20], (row["csat"], row["gap"]), fontsize=7)
        ax.axhline(0, color="grey", linestyle=":")
        ax.set(xlabel="performance: mean CSAT of its tickets", ylabel="importance: CSAT gap to other tickets",
               title="Importance vs performance")
    return png(draw, (6.5, 4.2))


def sentiment_trend(frame: pd.DataFrame) -> str:
    """Weekly share of texts the model reads as negative, per source."""
    weeks = pd.to_datetime(frame["event_time"], utc=True).dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
    share = (frame["sentiment"] == "negative").groupby([weeks, frame["source"]]).mean().unstack()

    def draw(ax: Axes) -> None:
        for source in share.columns:
            ax.plot(share.index, share[source], marker="o", markersize=3, label=f"{source}s")
        ax.set(xlabel="week (Monday)", ylabel="share negative", title="Negative feedback per week", ylim=(0, 1))
        ax.legend(fontsize=7)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    return png(draw, (7.5, 3.2))
