"""The one transformation per record: personal values pseudonymised, free text as asked.

It runs in each stream's ``post_process``, before a record is written (RECORD or BATCH),
before the user's stream maps. The people on a call are remembered as its record passes
(clear, in memory, a bounded number of calls) so that its notes and transcript can name
them by their pseudonyms; a transcription whose call this run did not read asks for it.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from tap_skipcall.privacy.fields import CONTACT, EXTRA, FIELDS, FREE_TEXT, REP, Field
from tap_skipcall.privacy.pseudonyms import Pseudonyms
from tap_skipcall.privacy.text import NO_NAMES, Names, redact

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_skipcall.privacy.rules import Rules

#: Calls whose people are remembered at once (transcriptions follow their call closely).
REMEMBERED_CALLS = 20_000
DESCRIPTIONS = {
    "phone": "Pseudonymised (privacy_pseudonymize: phone_numbers): phone:<HMAC-SHA-256, keyed "
    "with privacy_key, of the number in E.164>.",
    "name": "Pseudonymised (privacy_pseudonymize: names): name:<HMAC-SHA-256, keyed with "
    "privacy_key, of the name trimmed and case-folded>.",
    "email": "Pseudonymised (privacy_pseudonymize: emails): email:<HMAC-SHA-256, keyed with "
    "privacy_key, of the address in lower case>.",
    "url": "Pseudonymised (privacy_pseudonymize: profile_urls): url:<HMAC-SHA-256, keyed with "
    "privacy_key, of the URL>.",
    "redact": "Phone numbers, e-mail addresses and the names of the people on the call replaced "
    "by their pseudonyms (privacy_free_text: redact).",
    "drop": "Always null: dropped by privacy_free_text: drop.",
}


class Privacy:
    """Applies the privacy rules to each record of each stream (see the module)."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.pseudonyms = Pseudonyms(rules.key, rules.region)
        self._people: OrderedDict[str, Names] = OrderedDict()
        #: Calls read again only to know who was on them (a transcription of an older call).
        self.calls_read_for_names = 0
        self._fields: dict[str, list[tuple[Field, Callable[[str], str]]]] = {}

    # -- whose data ------------------------------------------------------------------

    def covers(self, whose: str) -> bool:
        """Whether this person's data is covered: contacts always, reps with ``everyone``."""
        return whose == CONTACT or (whose == REP and self.rules.everyone)

    def remember_call(self, call: dict[str, Any]) -> None:
        """Note who is on this call (its contact; its caller), before it is transformed."""
        names: list[str] = []
        for key, whose in (("contact", CONTACT), ("caller", REP)):
            person = call.get(key)
            if isinstance(person, dict) and self.covers(whose):
                names += [n for n in (person.get("firstName"), person.get("lastName")) if n]
        call_id = str(call.get("id"))
        self._people[call_id] = Names.of(names)
        self._people.move_to_end(call_id)
        while len(self._people) > REMEMBERED_CALLS:
            self._people.popitem(last=False)

    def people_of(self, call_id: str) -> Names | None:
        """The names on this call, if this run met it (None: read it first)."""
        return self._people.get(call_id)

    # -- records -----------------------------------------------------------------------

    def record(
        self,
        stream: str,
        row: dict[str, Any],
        call: Callable[[str], dict[str, Any] | None] | None = None,
    ) -> dict[str, Any]:
        """The record as the rules want it written.

        ``call(id)`` reads a call this run did not meet (for a transcription's names).
        """
        names = NO_NAMES
        if stream == "calls":
            self.remember_call(row)
            names = self.people_of(str(row.get("id"))) or NO_NAMES
        elif stream == "call_transcriptions" and self.rules.free_text == "redact":
            names = self._names_for(str(row.get("call_id")), call)
        elif stream == "contacts" and self.rules.changes_text:
            names = Names.of(n for n in (row.get("firstName"), row.get("lastName")) if n)
        for field, convert in self._fields_of(stream):
            if "*" not in field.path:  # the usual field: one value, reached directly
                holder: Any = row
                for key in field.path[:-1]:
                    holder = holder.get(key) if isinstance(holder, dict) else None
                value = holder.get(field.path[-1]) if isinstance(holder, dict) else None
                if isinstance(value, str) and value:
                    holder[field.path[-1]] = convert(value)
                continue
            for holder, key in _slots(row, field.path):
                value = holder[key]
                if isinstance(value, str) and value:
                    holder[key] = convert(value)
        for path in FREE_TEXT.get(stream, ()):
            self._free_text(row, path, names)
        if row.get(EXTRA[0]) and self.rules.changes_text:  # fields the API added since
            row[EXTRA[0]] = self._redacted_anywhere(row[EXTRA[0]], names)
        return row

    def _names_for(
        self, call_id: str, call: Callable[[str], dict[str, Any] | None] | None
    ) -> Names:
        known = self.people_of(call_id)
        if known is None and call is not None:
            found = call(call_id)
            self.calls_read_for_names += 1
            if found is not None:
                self.remember_call(found)
                known = self.people_of(call_id)
        return known or NO_NAMES

    def _fields_of(self, stream: str) -> list[tuple[Field, Callable[[str], str]]]:
        """The stream's fields these rules pseudonymise, each with its converter (once)."""
        found = self._fields.get(stream)
        if found is None:
            found = [
                (field, getattr(self.pseudonyms, field.kind))
                for field in FIELDS.get(stream, ())
                if self.rules.covers(field.kind) and self.covers(field.whose)
            ]
            self._fields[stream] = found
        return found

    def _free_text(self, row: dict[str, Any], path: tuple[str, ...], names: Names) -> None:
        mode = self.rules.free_text
        for holder, key in _slots(row, path):
            value = holder[key]
            if not isinstance(value, str):
                continue
            if mode == "drop":
                holder[key] = None
            elif mode == "redact":
                holder[key] = redact(value, self.pseudonyms, names)

    def _redacted_anywhere(self, value: Any, names: Names) -> Any:
        if isinstance(value, str):
            return redact(value, self.pseudonyms, names)
        if isinstance(value, dict):
            return {k: self._redacted_anywhere(v, names) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redacted_anywhere(v, names) for v in value]
        return value

    # -- schemas -----------------------------------------------------------------------

    def schema(self, stream: str, schema: dict[str, Any]) -> dict[str, Any]:
        """The stream's schema, each pseudonymised or redacted field's description saying so."""
        schema = copy.deepcopy(schema)
        for field in FIELDS.get(stream, ()):
            if self.rules.covers(field.kind) and self.covers(field.whose):
                for spec in _specs(schema, field.path):
                    spec["description"] = DESCRIPTIONS[field.kind]
        if self.rules.changes_text:
            for path in FREE_TEXT.get(stream, ()):
                for spec in _specs(schema, path):
                    spec["description"] = DESCRIPTIONS[self.rules.free_text]
        return schema


def _slots(value: Any, path: tuple[str, ...]) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) the path leads to in a record (``*``: each item or value)."""
    if len(path) == 1 and path[0] != "*":  # the usual field: no recursion
        if isinstance(value, dict) and path[0] in value:
            yield value, path[0]
        return
    head, rest = path[0], path[1:]
    if head == "*":
        keys: Any = (
            range(len(value))
            if isinstance(value, list)
            else list(value)
            if isinstance(value, dict)
            else ()
        )
    else:
        keys = [head] if isinstance(value, dict) and head in value else ()
    for key in keys:
        if rest:
            yield from _slots(value[key], rest)
        else:
            yield value, key


def _specs(schema: dict[str, Any], path: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The schema of what the path leads to."""
    spec: Any = schema
    for part in path:
        if not isinstance(spec, dict):
            return
        spec = (
            spec.get("items")
            if part == "*" and "items" in spec
            else (
                spec.get("additionalProperties")
                if part == "*"
                else (spec.get("properties") or {}).get(part)
            )
        )
    if isinstance(spec, dict):
        yield spec
