"""The CLI tests reuse the product tests' hand-built worlds. The surveillance tests' folder is not a package,
so pytest imports its modules by file name; putting the folder on the path lets these tests do the same
(`from test_surveillance_stream import every_typology_book`) when they run on their own."""

from __future__ import annotations

import sys
from pathlib import Path

SURVEILLANCE_TESTS = str(Path(__file__).resolve().parents[1] / "surveillance")
if SURVEILLANCE_TESTS not in sys.path:
    sys.path.insert(0, SURVEILLANCE_TESTS)
