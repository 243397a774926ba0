"""The compliance rules of rules/erp_guards.json, as QA wrote them: ids, texts and parameters."""

import json
from functools import lru_cache
from pathlib import Path

from flask import current_app


@lru_cache(maxsize=8)
def _load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["rules"]


def all_rules():
    """Every rule: {id: {"zh", "en", parameters…}}."""
    return _load(str(Path(current_app.config["RULES_DIR"]) / "erp_guards.json"))


def rule(rule_id):
    """One rule's entry (texts and parameters); KeyError when rules/ lacks it."""
    return all_rules()[rule_id]
