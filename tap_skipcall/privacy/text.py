"""Free text with the people in it replaced by their pseudonyms.

Phone numbers are found by libphonenumber (``PhoneNumberMatcher``: national forms read in
``privacy_phone_region``, any spacing), e-mail addresses by their shape, and the names of
the people on the call (its contact; its caller too when reps are covered) as whole words,
whatever their case. Each is replaced by the pseudonym its field would carry, so a note's
number joins the call's ``phoneNumber``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tap_skipcall.privacy.pseudonyms import Pseudonyms

#: An e-mail address: something@domain.tld (letters of any script).
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Fewer digits than this cannot hold a phone number: the text is not searched for one.
MIN_DIGITS = 6
#: Whether a text has that many digits (a match from its start; stops at the sixth).
ENOUGH_DIGITS = re.compile(rf"(?:\D*\d){{{MIN_DIGITS}}}")
#: A word, hyphens and apostrophes inside it included ("Jean-Pierre", "O'Neil").
WORD = re.compile("\\w+(?:['\u2019-]\\w+)*")


@dataclass(frozen=True)
class Names:
    """The names to find in a text, prepared once per record.

    ``words``: one-word names, case-folded (found by a scan of the text's words);
    ``phrases``: names of several words ("Le Gall"), found as a phrase.
    """

    words: frozenset[str] = frozenset()
    phrases: re.Pattern[str] | None = None

    @classmethod
    def of(cls, names: Iterable[str]) -> Names:
        """The names of the people on a call, prepared (once per set of names: people recur)."""
        return _prepared(tuple(n for n in names if isinstance(n, str)))


@lru_cache(maxsize=4_096)
def _prepared(names: tuple[str, ...]) -> Names:
    folded = {n.strip().casefold() for n in names if n.strip()}
    words = frozenset(n for n in folded if WORD.fullmatch(n))
    return Names(words, names_pattern(tuple(sorted(folded - words))))


NO_NAMES = Names()


def redact(text: str, pseudonyms: Pseudonyms, names: Names = NO_NAMES) -> str:
    """The text with its phone numbers, e-mail addresses and these names pseudonymised."""
    if ENOUGH_DIGITS.match(text):
        text = _phones(text, pseudonyms)
    if "@" in text:
        text = EMAIL.sub(lambda m: pseudonyms.email(m.group(0)), text)
    if names.words:
        folded = text.casefold()
        if any(word in folded for word in names.words):  # most texts name nobody: no scan
            text = WORD.sub(
                lambda m: pseudonyms.name(w) if (w := m.group(0)).casefold() in names.words else w,
                text,
            )
    if names.phrases is not None:
        text = names.phrases.sub(lambda m: pseudonyms.name(m.group(0)), text)
    return text


def _phones(text: str, pseudonyms: Pseudonyms) -> str:
    import phonenumbers  # not at start-up: only a run with privacy settings reads numbers

    matches = list(
        phonenumbers.PhoneNumberMatcher(
            text, pseudonyms.region, leniency=phonenumbers.Leniency.POSSIBLE
        )
    )
    for match in reversed(matches):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        start = match.start
        if match.raw_string.startswith("(") and ")" not in match.raw_string:
            start += 1  # "(06 12 …)": the bracket around it stays
        text = text[:start] + pseudonyms.phone(e164) + text[match.end :]
    return text


@lru_cache(maxsize=4_096)
def names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive occurrences of any of these names (longest first)."""
    if not names:
        return None
    alternatives = "|".join(re.escape(n.strip()) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
