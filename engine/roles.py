"""How BPMN lane names map to role names."""

from __future__ import annotations

import re

_NON_WORD = re.compile(r"[^a-z0-9]+")


def lane_to_role(lane: str | None) -> str | None:
    """Return the role a lane requires: lowercased, runs of other characters → `_`, trimmed."""
    if not lane:
        return None
    return _NON_WORD.sub("_", lane.lower()).strip("_") or None
