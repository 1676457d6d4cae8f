"""What a Bitcoin block command's process skips at start: pandas, SciPy and CFFI, imported by pyarrow and Numba
for features these commands never use.

Why: `cryptoscope chain ingest bitcoin --rpc` over a few blocks spends most of its life starting (1.1 s before
its first block against bitcoin-etl's 0.2 s). Three imports in that start do nothing for it:

- **pandas** (0.2-0.3 s): pyarrow's first conversion (``pa.array``, ``pa.table``, a Python scalar in
  ``pyarrow.compute``) imports pandas only to ask whether the value is a pandas object. Its Python layer and
  its C++ layer each ask once and remember the answer. Asked here while pandas cannot be imported, the answer
  is no and pandas stays out. Where pyarrow needs pandas itself (``to_pandas``, ``Table.from_pandas``) it
  imports it then, as before;
- **SciPy** (about 0.3 s): when Numba loads its first compiled function (from the cache or not) it registers
  every implementation it has, and ``numba.np.arraymath`` imports ``scipy.linalg`` to see whether a BLAS is
  there. Inside Numba that decides only whether ``np.convolve``/``np.correlate`` in compiled code use BLAS's
  dot or a plain loop (``np.dot`` itself still finds SciPy when compiled);
- **CFFI** (about 0.05 s): typing its first argument, Numba imports ``cffi`` and its C parser to recognise CFFI
  functions, which compiled code could then call.

The block kernels use no pandas object, no linear algebra and no CFFI, so the results are the same
(``tests/cli/test_startup.py`` runs the commands with those modules unimportable). This is for a command's own
process, at the edge: a library import never changes how pyarrow or Numba set themselves up. Only for commands
whose process makes no pandas object: one that did, before anything imported pandas for pyarrow, would be
converted as any other Python object (``pa.table(frame)`` through the Arrow stream protocol).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

#: what pyarrow and Numba would import and the block commands never use: pandas, a BLAS (through SciPy), CFFI
UNUSED = ("pandas", "scipy.linalg", "cffi")


class _Refuse:
    """A finder (`sys.meta_path`) that says these modules and their submodules are not installed."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
                  ) -> None:
        if fullname in self.names or fullname.startswith(tuple(f"{n}." for n in self.names)):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


@contextmanager
def unimportable(names: Sequence[str]) -> Iterator[None]:
    """``import`` of these modules fails inside the block (those already imported stay as they are)."""
    finder = _Refuse([n for n in names if n not in sys.modules])
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def start_for_blocks() -> None:
    """Set pyarrow and Numba up for the Bitcoin block commands now, without pandas, SciPy or CFFI (what this
    process has imported or set up already stays as it is: then there is nothing to save)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from numba.core.registry import cpu_target

    with unimportable(UNUSED):
        if "pandas" not in sys.modules:  # pyarrow's questions, Python layer then C++ layer, answered now
            pc.equal(pa.array(np.zeros(1, dtype=np.int64)), 0)
            pa.array(["a"])
        if "numba.np.arraymath" not in sys.modules:
            cpu_target.target_context.refresh()
        import numba.core.typing.cffi_utils  # noqa: F401 (its one look for cffi, made now)
