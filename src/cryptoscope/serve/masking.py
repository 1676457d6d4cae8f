"""Personal data masking: what a caller without the right to see personal data gets instead.

The personal columns are the ones the schema documents as personal data (names, dates of birth,
postal addresses, document numbers) plus IP addresses. Masking keeps enough to work a case (initials,
the birth year's decade is *not* kept, the last two characters of a document) and nothing that
identifies a person by itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PERSONAL = ("full_name", "date_of_birth", "address", "document_number", "signup_ip", "ip")
HIDDEN = "[hidden]"
_IPV4 = re.compile(r"^(\d+\.\d+\.\d+)\.\d+$")


def mask_value(column: str, value: Any) -> Any:
    """The masked form of one personal value (None stays None)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value)
    if column == "full_name":
        return " ".join(f"{part[0]}." for part in text.split() if part)
    if column == "document_number":
        return "*" * max(0, len(text) - 2) + text[-2:]
    if column in ("signup_ip", "ip"):
        m = _IPV4.match(text)
        return f"{m.group(1)}.x" if m else HIDDEN
    return HIDDEN


def mask_row(row: Mapping[str, Any], may_see_pii: bool) -> dict[str, Any]:
    """``row`` with its personal columns masked unless the caller may see them; values made JSON-friendly."""
    out = {}
    for key, value in row.items():
        if not may_see_pii and key in PERSONAL:
            out[key] = mask_value(key, value)
        elif hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        elif isinstance(value, float) and value != value:
            out[key] = None
        elif hasattr(value, "item"):
            out[key] = value.item()
        else:
            out[key] = value
    return out
