"""The notebooks in docs/notebooks run on the small world (with nbmake's runner), and are committed without outputs.

Each runs in its own Jupyter kernel on one copy of the small world, its registry and reports in a temporary folder
(the notebooks read `CRYPTOSCOPE_NOTEBOOK_LAKE`, `..._REGISTRY` and `..._REPORTS`, the demo world by default), and
must draw its plots; `pytest --nbmake docs/notebooks` runs them on the demo world after `make demo`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbmake.nb_run import NotebookRun

import cryptoscope
from cryptoscope.lake import Lake
from cryptoscope.models import Registry

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "docs" / "notebooks").glob("*.ipynb"))


def test_there_are_four_notebooks_committed_without_outputs() -> None:
    assert len(NOTEBOOKS) >= 4
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(not c.outputs and c.execution_count is None for c in code), f"{path.name} has outputs"


@pytest.fixture(scope="module")
def world(small_world: tuple[Lake, object, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the small world (two notebooks run product lines that write to it), and the variables naming it."""
    root = tmp_path_factory.mktemp("notebooks")
    shutil.copytree(small_world[0].root, root / "lake")
    # the kernels import the cryptoscope under test, whatever the path they start in
    code = Path(cryptoscope.__file__).resolve().parents[1]
    names = {"CRYPTOSCOPE_NOTEBOOK_LAKE": root / "lake", "CRYPTOSCOPE_NOTEBOOK_REGISTRY": root / "registry",
             "CRYPTOSCOPE_NOTEBOOK_REPORTS": root / "reports",
             "PYTHONPATH": os.pathsep.join([str(code), *filter(None, [os.environ.get("PYTHONPATH")])])}
    before = {name: os.environ.get(name) for name in names}
    os.environ.update({name: str(value) for name, value in names.items()})  # the kernels inherit them
    yield root
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_each_notebook_runs_and_draws(world: Path, path: Path) -> None:
    result = NotebookRun(path, default_timeout=600).execute()
    assert result.error is None, f"{path.name}, cell {result.error.failing_cell_index}:\n{result.error.trace[-3000:]}"
    outputs = [o for c in result.nb.cells if c.cell_type == "code" for o in c.outputs]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2
    if path.stem.startswith("01"):  # the tour's fit is a run and a version in MLflow
        registry = Registry(world / "registry")
        run = registry.client.get_run(registry.client.get_model_version("risk_withdrawal", "1").run_id)
        assert "test_pr_auc" in run.data.metrics and registry.promoted("risk_withdrawal") == 1
