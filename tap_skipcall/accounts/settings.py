"""The ``accounts`` setting: several Skipcall organisations, each with its own key.

Each entry is ``{name, api_key, api_url?, workspace_ids?, start_date?}``. ``name`` is the
account's name everywhere: in every record (``skipcall_account``), in the state, in the log.
An entry's own ``api_url``, ``workspace_ids`` and ``start_date`` replace the shared ones for
that account; every other setting is shared. Each key is sent only to its account's
``api_url``: each account is read by a tap of its own (:mod:`.run`), with its own session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: The settings an entry of ``accounts`` may hold; the rest are shared by every account.
ENTRY_KEYS = ("name", "api_key", "api_url", "workspace_ids", "start_date")
#: What a name may look like: it becomes a column value and part of every log line.
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class Account:
    """One organisation: its name and the settings it does not share."""

    name: str
    settings: dict[str, Any]

    def config(self, shared: dict[str, Any]) -> dict[str, Any]:
        """The settings of this account's own tap: the shared ones, then its own."""
        own = {k: v for k, v in self.settings.items() if k != "name" and v is not None}
        base = {k: v for k, v in shared.items() if k not in ("accounts", "max_concurrent_accounts")}
        return {**base, **own}


def accounts_in(config: dict[str, Any]) -> list[Account] | None:
    """The accounts configured (None: ``api_key`` alone, as before ``accounts`` existed)."""
    entries = config.get("accounts")
    if entries is None:
        return None
    return [Account(str(entry["name"]), dict(entry)) for entry in entries]


def accounts_problems(
    config: dict[str, Any], check_entry: Any, *, needs_key: bool = True
) -> list[str]:
    """One sentence per problem of the ``accounts`` setting (none if it is not set).

    ``check_entry(settings, needs_key=...)`` returns the problems of one account's own
    settings as a whole config would have them (the shared checks, reused).
    """
    entries = config.get("accounts")
    if entries is None:
        return []
    if config.get("api_key") is not None:
        return [
            "`api_key` and `accounts` are both set: keep `accounts` (each organisation with its "
            "own `api_key`) or `api_key` alone, not both."
        ]
    if not isinstance(entries, list) or not entries:
        return [
            "`accounts` must be a list of organisations, such as "
            '[{"name": "fr", "api_key": "sk_live_…"}, {"name": "de", "api_key": "sk_live_…"}].'
        ]
    problems: list[str] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        where = f"`accounts` entry {position}"
        if not isinstance(entry, dict):
            problems.append(f"{where} must be an object with `name` and `api_key`.")
            continue
        name = entry.get("name")
        if isinstance(name, str) and NAME.fullmatch(name):
            where = f"`accounts` entry {position} ({name})"
            if name in seen:
                problems.append(f"{where}: two accounts are named {name}: give each its own name.")
            seen.add(name)
        else:
            shown = repr(name)[:40] if not isinstance(name, str) or len(name) < 60 else "too long"
            problems.append(
                f"{where}: `name` must be a short slug (lowercase letters, digits and _, "
                f"starting with a letter, at most 40), such as fr or client_acme (got {shown})."
            )
        unknown = sorted(set(entry) - set(ENTRY_KEYS))
        if unknown:
            problems.append(
                f"{where} has {', '.join(f'`{k}`' for k in unknown)}, which an account does not "
                f"take: an entry holds {', '.join(ENTRY_KEYS)}; the other settings are shared."
            )
        own = {k: v for k, v in entry.items() if k in ENTRY_KEYS and k != "name"}
        problems.extend(f"{where}: {p}" for p in check_entry(own, needs_key=needs_key))
    return problems
