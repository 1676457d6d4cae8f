"""Fuzzing the block parser: random and mutated real blocks end in blocks or `ChainDataError`, nothing else.

The compiled scanner checks its bounds by hand (Numba does not), so the same cases also run once with
``NUMBA_DISABLE_JIT=1``: as plain Python, a read past the end would raise IndexError instead of
reading stray memory, and the test would fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _chain_data import needs_data
from _fuzz_cases import run, run_files, seeds

pytestmark = needs_data
HERE = Path(__file__).parent


def test_fuzz_compiled_parser() -> None:
    run(300, seeds())


def test_fuzz_files(tmp_path: Path) -> None:
    run_files(150, tmp_path)


def test_fuzz_without_jit_finds_no_out_of_bounds_read(tmp_path: Path) -> None:
    script = ("import _fuzz_cases as f; s = f.seeds(); s[-1] = s[-1][:1500]; f.run(60, s)")
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=HERE, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
