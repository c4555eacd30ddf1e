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
ENOUGH_DIGITS = re.compile(rf"(?:\D*+\d){{{MIN_DIGITS}}}")
#: What joins the parts of one word ("Jean-Pierre", "O'Neil", "O\u2019Neil").
JOINERS = "'\u2019-"
#: A word, hyphens and apostrophes inside it included ("Jean-Pierre", "O'Neil").
WORD = re.compile(rf"\w+(?:[{JOINERS}]\w+)*")


@dataclass(frozen=True)
class Names:
    """The names to find in a text, prepared once per record.

    ``words``: one-word names, case-folded (found by a scan of the text's words);
    ``phrases``: names of several words ("Le Gall"), found as a phrase.
    """

    words: frozenset[str] = frozenset()
    phrases: re.Pattern[str] | None = None

    @classmethod
    def of(cls, names: Iterable[object]) -> Names:
        """The names of the people on a call, prepared (once per set of names: people recur)."""
        return _prepared(tuple([n for n in names if isinstance(n, str)]))


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
        text = _words(text, pseudonyms, names.words)
    if names.phrases is not None:
        text = names.phrases.sub(lambda m: pseudonyms.name(m.group(0)), text)
    return text


def _words(text: str, pseudonyms: Pseudonyms, words: frozenset[str]) -> str:
    """The text with each of its words that is one of these names (case-folded) replaced.

    A word is as :data:`WORD` reads the text from its start. Where case-folding keeps the
    text's length (it almost always does), each character folds to one, so the names are
    looked up in the folded text and checked to be whole words where they sit; else every
    word is folded and compared.
    """
    folded = text.casefold()
    if len(folded) != len(text):  # "ß" folds to "ss": positions differ, compare each word
        return every_word(text, pseudonyms, words)
    found: list[tuple[int, int]] = []
    for word in words:
        start = folded.find(word)
        while start >= 0:
            end = start + len(word)
            whole = WORD.match(text, start) if _word_starts_at(text, start) else None
            if whole is not None and whole.end() == end:
                found.append((start, end))
            start = folded.find(word, start + 1)
    if not found:
        return text
    parts: list[str] = []
    done = 0
    for start, end in sorted(found):
        parts += (text[done:start], pseudonyms.name(text[start:end]))
        done = end
    parts.append(text[done:])
    return "".join(parts)


def every_word(text: str, pseudonyms: Pseudonyms, words: frozenset[str]) -> str:
    """The same as :func:`_words`, by folding and comparing each word of the text in turn."""
    return WORD.sub(
        lambda m: pseudonyms.name(w) if (w := m.group(0)).casefold() in words else w, text
    )


def _word_starts_at(text: str, index: int) -> bool:
    """Whether a word of :data:`WORD` starts here, reading the text from its start.

    It does unless the character before is part of a word, or is an apostrophe or hyphen
    that joins a word before it ("Jean-Pierre": no word starts at "Pierre").
    """
    if index == 0:
        return True
    before = text[index - 1]
    if _in_word(before):
        return False
    return not (before in JOINERS and index >= 2 and _in_word(text[index - 2]))


def _in_word(character: str) -> bool:
    r"""Whether the character is a word character, as the pattern ``\w`` reads one.

    Letters, digits and numerals of any script, and the underscore: what ``re`` matches.
    """
    return character.isalnum() or character == "_"


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
