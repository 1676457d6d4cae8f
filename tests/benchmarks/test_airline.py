"""The airline benchmark's loader and command: bad files fail with file, row and line; a slice runs end to end."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cryptoscope.benchmarks.airline import load_tweets
from cryptoscope.errors import ValidationError
from cryptoscope.models import Registry

TWEETS = Path(__file__).resolve().parents[3] / "shared" / "data" / "airline-feedback" / "Tweets.csv"
needs_tweets = pytest.mark.skipif(not TWEETS.exists() and "CI" not in os.environ,
                                  reason="shared airline tweets not available")


def _slice(tmp_path: Path, rows: int, edit: dict[str, str] | None = None, at: int = -1) -> Path:
    """The first ``rows`` real tweets, optionally with one value changed in row ``at`` (1-based)."""
    out = tmp_path / "tweets.csv"
    with open(TWEETS, newline="", encoding="utf-8") as src, open(out, "w", newline="", encoding="utf-8") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for i, record in enumerate(reader, start=1):
            if i > rows:
                break
            writer.writerow({**record, **(edit or {})} if i == at else record)
    return out


@needs_tweets
def test_the_real_file_loads() -> None:
    tweets = load_tweets(TWEETS)
    assert len(tweets.text) == 14_640
    assert sorted(set(tweets.sentiment.tolist())) == ["negative", "neutral", "positive"]
    assert str(tweets.created.min()).startswith("2015-02-16") and str(tweets.created.max()).startswith("2015-02-24")


@needs_tweets
def test_bad_values_name_file_row_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as err:
        load_tweets(_slice(tmp_path, 20, {"airline_sentiment": "angry"}, at=7))
    assert err.value.row == 7 and err.value.column == "airline_sentiment" and err.value.line is not None
    assert "tweets.csv" in str(err.value)
    with pytest.raises(ValidationError, match="tweet_created"):
        load_tweets(_slice(tmp_path, 20, {"tweet_created": "yesterday"}, at=3))
    (tmp_path / "bad.csv").write_text("id,text\n1,hello\n")
    with pytest.raises(ValidationError, match="missing columns"):
        load_tweets(tmp_path / "bad.csv")


@needs_tweets
def test_benchmark_command_on_a_slice(tmp_path: Path) -> None:
    data, out = _slice(tmp_path, 250), tmp_path / "result.json"
    done = subprocess.run([sys.executable, "-m", "cryptoscope.cli", "feedback", "benchmark", "airline", "--data",
                           str(data), "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--registry",
                           str(tmp_path / "registry")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    client = Registry(tmp_path / "registry").client  # the benchmark is an MLflow run with every figure
    [run] = client.search_runs([client.get_experiment_by_name("benchmark_airline").experiment_id])
    assert run.data.metrics["ours_macro_f1"] == pytest.approx(result["model"]["macro_f1"])
    assert run.data.metrics["vader_accuracy"] == pytest.approx(result["baselines"]["vader"]["accuracy"])
    assert set(result["baselines"]) == {"tfidf_lr", "vader"}
    for scores in (result["model"], *result["baselines"].values()):
        assert 0 <= scores["macro_f1"] <= scores["accuracy"] + 1 and 0 < scores["accuracy"] <= 1
    assert result["split"]["test"] == 50 and result["command"].startswith("cryptoscope feedback benchmark airline")
    bad = subprocess.run([sys.executable, "-m", "cryptoscope.cli", "feedback", "benchmark", "airline", "--data",
                          str(tmp_path / "missing.csv"), "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and "missing.csv" in bad.stderr
