"""Personal data under control, before it leaves the tap: pseudonymised, redacted or dropped.

The door: :func:`privacy_of` reads the settings into a :class:`Privacy` (None: no privacy
setting, every record as it is), whose ``record`` every stream applies to each record and
whose ``schema`` says so in each stream's SCHEMA; :func:`privacy_problems` gives the
settings' sentences. Inside: the settings (:mod:`.rules`), keyed pseudonyms
(:mod:`.pseudonyms`), text redaction (:mod:`.text`), where personal data sits
(:mod:`.fields`) and the transformation (:mod:`.transform`).
"""

from __future__ import annotations

from typing import Any

from tap_skipcall.privacy.rules import privacy_problems, rules_of
from tap_skipcall.privacy.transform import Privacy

__all__ = ["Privacy", "privacy_of", "privacy_problems"]


def privacy_of(config: dict[str, Any]) -> Privacy | None:
    """The privacy rules of these settings at work (None: none is set)."""
    rules = rules_of(config)
    return None if rules is None else Privacy(rules)
