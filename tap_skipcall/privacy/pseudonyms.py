"""Keyed pseudonyms: the same value, the same pseudonym, everywhere; never a plain hash.

A pseudonym is ``<kind>:<20 hex digits of HMAC-SHA-256(privacy_key, kind, value)>``, the
value normalised first, so that analysts can join on it across streams, accounts and runs:
a phone number as E.164 (national forms read in ``privacy_phone_region``), an e-mail in lower
case, a name trimmed and case-folded, a URL trimmed. Without the key, trying every number of
a country gives nothing: an unkeyed hash of a number can be reversed in minutes.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hashlib import _Hash as Sha256

#: Hex digits of the HMAC kept: 80 bits, no collision in practice.
DIGITS = 20
#: Pseudonyms remembered per kind (people recur: most values are met again).
REMEMBERED = 65_536


def normal_phone(value: str, region: str) -> str:
    """A phone number as E.164 when it reads as one, else its digits (with a leading +).

    A value already in E.164 (``+`` and 8 to 15 digits, as the API sends numbers) is one.
    """
    text = value.strip()
    if text.startswith("+") and text[1:].isdigit() and 8 <= len(text) - 1 <= 15:
        return text
    import phonenumbers  # not at start-up: only a run with privacy settings reads numbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    plus = "+" if text.startswith("+") else ""
    return plus + "".join(c for c in text if c.isdigit())


def normal_email(value: str, region: str = "") -> str:
    """An e-mail address trimmed and in lower case."""
    return value.strip().lower()


def normal_name(value: str, region: str = "") -> str:
    """A name trimmed, its inner spaces one, and case-folded."""
    return " ".join(value.split()).casefold()


def normal_url(value: str, region: str = "") -> str:
    """A URL trimmed, without a trailing slash."""
    return value.strip().rstrip("/")


#: How each kind of value is normalised before it is keyed (each is given the region; only
#: phone numbers read it).
NORMAL_FORMS = {
    "phone": normal_phone,
    "email": normal_email,
    "name": normal_name,
    "url": normal_url,
}


def _hmac_states(key: bytes) -> tuple[Sha256, Sha256]:
    """HMAC-SHA-256's inner and outer hashes once fed the key (RFC 2104), to copy per value.

    What ``hmac.new(key, message, "sha256")`` computes, at half its cost: copying two of
    these is cheaper than copying an ``hmac.HMAC``, and a run keys every person it meets.
    """
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))
    return inner, outer


def _fed(state: Sha256, more: str | bytes) -> Sha256:
    """A copy of this hash state fed more (text as UTF-8)."""
    fed = state.copy()
    fed.update(more if isinstance(more, bytes) else more.encode("utf-8", "surrogatepass"))
    return fed


class Pseudonyms:
    """The pseudonyms of one key and region: ``phone``, ``email``, ``name``, ``url``.

    Each kind remembers the pseudonyms it gave, per value as met (a dict lookup: this runs
    for every personal value of every record), up to :data:`REMEMBERED` each.
    """

    def __init__(self, key: bytes, region: str) -> None:
        # Per instance: the key must not outlive it in a module-wide cache.
        inner, self._outer = _hmac_states(key)
        self._inner = {kind: _fed(inner, f"{kind}\x00") for kind in NORMAL_FORMS}
        self.region = region
        self._given: dict[str, dict[str, str]] = {kind: {} for kind in NORMAL_FORMS}
        self._phones = self._given["phone"]
        self._names = self._given["name"]

    def of(self, kind: str, value: str) -> str:
        """The pseudonym of a value of this kind."""
        given = self._given[kind]
        pseudonym = given.get(value)
        if pseudonym is None:
            if len(given) >= REMEMBERED:
                given.clear()
            normal = NORMAL_FORMS[kind](value, self.region)
            inner = _fed(self._inner[kind], normal)
            digest = _fed(self._outer, inner.digest()).hexdigest()
            pseudonym = given[value] = f"{kind}:{digest[:DIGITS]}"
        return pseudonym

    def phone(self, value: str) -> str:
        """The pseudonym of a phone number."""
        return self._phones.get(value) or self.of("phone", value)

    def email(self, value: str) -> str:
        """The pseudonym of an e-mail address."""
        return self.of("email", value)

    def name(self, value: str) -> str:
        """The pseudonym of a name."""
        return self._names.get(value) or self.of("name", value)

    def url(self, value: str) -> str:
        """The pseudonym of a profile URL."""
        return self.of("url", value)
