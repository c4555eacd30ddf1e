"""The one transformation per record: personal values pseudonymised, free text as asked.

It runs in each stream's ``post_process``, before a record is written (RECORD or BATCH),
before the user's stream maps. The people on a call are remembered as its record passes
(clear, in memory, a bounded number of calls) so that its notes and transcript can name
them by their pseudonyms; a transcription whose call this run did not read asks for it.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from tap_skipcall.privacy.fields import CONTACT, EXTRA, FIELDS, FREE_TEXT, REP
from tap_skipcall.privacy.pseudonyms import Pseudonyms
from tap_skipcall.privacy.text import NO_NAMES, Names, redact

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_skipcall.privacy.rules import Rules

    #: One thing the rules do to a record (a field pseudonymised, a text redacted), given
    #: the names on its call.
    Step = Callable[[dict[str, Any], Names], None]

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
        #: The names on each call met, oldest first (a dict keeps its order of insertion).
        self._people: dict[str, Names] = {}
        #: Calls read again only to know who was on them (a transcription of an older call).
        self.calls_read_for_names = 0
        self._plans: dict[str, list[Step]] = {}
        #: The people on a call whose names the rules cover (its contact; its caller).
        self._people_on_call = tuple(
            key for key, whose in (("contact", CONTACT), ("caller", REP)) if self.covers(whose)
        )

    # -- whose data ------------------------------------------------------------------

    def covers(self, whose: str) -> bool:
        """Whether this person's data is covered: contacts always, reps with ``everyone``."""
        return whose == CONTACT or (whose == REP and self.rules.everyone)

    def remember_call(self, call: dict[str, Any]) -> Names:
        """Note who is on this call (its contact; its caller), before it is transformed.

        The names are those the rules cover; they are returned for the call's own notes.
        """
        names: list[object] = []
        for key in self._people_on_call:
            person = call.get(key)
            if isinstance(person, dict):
                names += (person.get("firstName"), person.get("lastName"))
        people = Names.of(names)
        call_id = str(call.get("id"))
        remembered = self._people
        remembered.pop(call_id, None)  # met again: now the newest
        remembered[call_id] = people
        if len(remembered) > REMEMBERED_CALLS:
            del remembered[next(iter(remembered))]
        return people

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
            names = self.remember_call(row)
        elif stream == "call_transcriptions" and self.rules.free_text == "redact":
            names = self._names_for(str(row.get("call_id")), call)
        elif stream == "contacts" and self.rules.changes_text:
            names = Names.of((row.get("firstName"), row.get("lastName")))
        for step in self._plan_of(stream):
            step(row, names)
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
                known = self.remember_call(found)
        return known or NO_NAMES

    def _plan_of(self, stream: str) -> list[Step]:
        """What the rules do to each record of the stream (made once per stream).

        One step per object whose fields are pseudonymised (a call's ``contact``: both names),
        then one per free text.
        """
        plan = self._plans.get(stream)
        if plan is None:
            converted: dict[tuple[str, ...], list[tuple[str, Callable[[str], str]]]] = {}
            for field in FIELDS.get(stream, ()):
                if self.rules.covers(field.kind) and self.covers(field.whose):
                    *parents, leaf = field.path
                    converted.setdefault(tuple(parents), []).append(
                        (leaf, getattr(self.pseudonyms, field.kind))
                    )
            plan = [_convert_at(parents, leaves) for parents, leaves in converted.items()]
            if self.rules.changes_text:
                plan += [self._text_at(path) for path in FREE_TEXT.get(stream, ())]
            self._plans[stream] = plan
        return plan

    def _text_at(self, path: tuple[str, ...]) -> Step:
        """The step that redacts or drops the free text at this path."""
        pseudonyms, drop = self.pseudonyms, self.rules.free_text == "drop"

        if len(path) == 1 and path != ("*",):  # the usual text: a field of the record
            (field,) = path

            def one(row: dict[str, Any], names: Names) -> None:
                value = row.get(field)
                if isinstance(value, str):
                    row[field] = None if drop else redact(value, pseudonyms, names)

            return one

        def each(row: dict[str, Any], names: Names) -> None:
            for holder, key in _slots(row, path):
                value = holder[key]
                if isinstance(value, str):
                    holder[key] = None if drop else redact(value, pseudonyms, names)

        return each

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


def _convert_at(parents: tuple[str, ...], leaves: list[tuple[str, Callable[[str], str]]]) -> Step:
    """The step that converts each non-empty string at these leaves of what parents lead to.

    ``("contact",)`` with ``firstName`` and ``lastName``: both names of a call's contact, the
    object reached once; ``"*"`` among the parents: each item or value there.
    """
    if "*" in parents or any(leaf == "*" for leaf, _ in leaves):

        def each(row: dict[str, Any], names: Names) -> None:
            for leaf, convert in leaves:
                for holder, key in _slots(row, (*parents, leaf)):
                    value = holder[key]
                    if isinstance(value, str) and value:
                        holder[key] = convert(value)

        return each

    def direct(row: dict[str, Any], names: Names) -> None:  # the usual fields: reached directly
        holder: Any = row
        for key in parents:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(holder, dict):
            for leaf, convert in leaves:
                value = holder.get(leaf)
                if isinstance(value, str) and value:
                    holder[leaf] = convert(value)

    return direct


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
