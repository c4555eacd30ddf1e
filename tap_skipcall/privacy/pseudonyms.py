"""Keyed pseudonyms: the same value, the same pseudonym, everywhere; never a plain hash.

A pseudonym is ``<kind>:<20 hex digits of HMAC-SHA-256(privacy_key, kind, value)>``, the
value normalised first, so that analysts can join on it across streams, accounts and runs:
a phone number as E.164 (national forms read in ``privacy_phone_region``), an e-mail in lower
case, a name trimmed and case-folded, a URL trimmed. Without the key, trying every number of
a country gives nothing: an unkeyed hash of a number can be reversed in minutes.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

#: Hex digits of the HMAC kept: 80 bits, no collision in practice.
DIGITS = 20


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


def normal_email(value: str) -> str:
    """An e-mail address trimmed and in lower case."""
    return value.strip().lower()


def normal_name(value: str) -> str:
    """A name trimmed, its inner spaces one, and case-folded."""
    return " ".join(value.split()).casefold()


def normal_url(value: str) -> str:
    """A URL trimmed, without a trailing slash."""
    return value.strip().rstrip("/")


class Pseudonyms:
    """The pseudonyms of one key and region: ``phone``, ``email``, ``name``, ``url``."""

    def __init__(self, key: bytes, region: str) -> None:
        self._key = key
        self.region = region
        # Per instance: the key must not outlive it in a module-wide cache.
        self.of = lru_cache(maxsize=65_536)(self._of)

    def _of(self, kind: str, value: str) -> str:
        normal = {
            "phone": lambda v: normal_phone(v, self.region),
            "email": normal_email,
            "name": normal_name,
            "url": normal_url,
        }[kind](value)
        message = f"{kind}\x00{normal}".encode("utf-8", "surrogatepass")
        digest = hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return f"{kind}:{digest[:DIGITS]}"

    def phone(self, value: str) -> str:
        """The pseudonym of a phone number."""
        return self.of("phone", value)

    def email(self, value: str) -> str:
        """The pseudonym of an e-mail address."""
        return self.of("email", value)

    def name(self, value: str) -> str:
        """The pseudonym of a name."""
        return self.of("name", value)

    def url(self, value: str) -> str:
        """The pseudonym of a profile URL."""
        return self.of("url", value)
