"""Where personal data sits in each stream's records, and whose it is.

A field is a path (``("phoneNumber", "value")``; ``"*"`` for each item of a list or value of
an object), the kind of value it holds, and whose it is: a contact (the people called) or a
rep (users and workspace members, the caller of a call). Free text is where anything may be
written (notes, transcripts, summaries, a contact's custom fields).
"""

from __future__ import annotations

from dataclasses import dataclass

CONTACT, REP = "contact", "rep"


@dataclass(frozen=True)
class Field:
    """A field holding one kind of personal value (phone, name, email, url), and whose."""

    path: tuple[str, ...]
    kind: str
    whose: str


def _person(whose: str, prefix: tuple[str, ...] = ()) -> list[Field]:
    return [
        Field((*prefix, "firstName"), "name", whose),
        Field((*prefix, "lastName"), "name", whose),
    ]


#: Each stream's fields of personal values.
FIELDS: dict[str, list[Field]] = {
    "calls": [
        *_person(CONTACT, ("contact",)),
        Field(("phoneNumber", "value"), "phone", CONTACT),
        *_person(REP, ("caller",)),
        Field(("callerPhoneNumber", "value"), "phone", REP),
    ],
    "contacts": [
        *_person(CONTACT),
        Field(("phoneNumbers", "*"), "phone", CONTACT),
        Field(("email",), "email", CONTACT),
        Field(("linkedinUrl",), "url", CONTACT),
        Field(("linkedinSalesUrl",), "url", CONTACT),
        Field(("url",), "url", CONTACT),
    ],
    "sequence_contacts": [*_person(CONTACT), Field(("phoneNumbers", "*"), "phone", CONTACT)],
    "users": [*_person(REP), Field(("email",), "email", REP)],
    "workspace_members": [*_person(REP), Field(("email",), "email", REP)],
}

#: Each stream's free text: notes, transcripts, summaries, custom fields, and whatever the
#: API sends beyond the documented fields (``extra``).
FREE_TEXT: dict[str, list[tuple[str, ...]]] = {
    "calls": [("notes",)],
    "call_transcriptions": [("transcript", "*", "text"), ("summary",)],
    "contacts": [("customFields", "*")],
}
#: Undeclared fields land here: their text is redacted whenever any privacy rule is on.
EXTRA = ("extra",)
