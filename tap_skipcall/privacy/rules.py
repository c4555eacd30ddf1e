"""The privacy settings: what is pseudonymised, what happens to free text, whose data.

``privacy_pseudonymize`` names the kinds of values replaced by keyed pseudonyms,
``privacy_free_text`` says what happens to notes and transcripts (``keep``, ``redact``,
``drop``), ``privacy_people`` whose data (``contacts``, the people called, or ``everyone``,
reps and users too), ``privacy_phone_region`` how a national number in text is read, and
``privacy_key`` keys every pseudonym. None set: every record is exactly as without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The kinds of values a pseudonym replaces, and the prefix each pseudonym shows.
KINDS = {"phone_numbers": "phone", "names": "name", "emails": "email", "profile_urls": "url"}
FREE_TEXT = ("keep", "redact", "drop")
PEOPLE = ("contacts", "everyone")
DEFAULT_REGION = "FR"
#: The privacy settings; any of them given asks for ``privacy_key``.
SETTINGS = (
    "privacy_pseudonymize",
    "privacy_free_text",
    "privacy_people",
    "privacy_phone_region",
)
#: The shortest key accepted: a pseudonym is only as hard to reverse as its key is to guess.
MIN_KEY_LENGTH = 16


@dataclass(frozen=True)
class Rules:
    """What the privacy settings ask, read."""

    kinds: frozenset[str]
    key: bytes
    free_text: str = "keep"
    everyone: bool = False
    region: str = DEFAULT_REGION

    def covers(self, kind: str) -> bool:
        """Whether values of this kind (phone, name, email, url) are pseudonymised."""
        return kind in self.kinds

    @property
    def changes_text(self) -> bool:
        """Whether free text is redacted or dropped."""
        return self.free_text != "keep"


def rules_of(config: dict[str, Any]) -> Rules | None:
    """The rules the settings ask for (None: no privacy setting, records as they are)."""
    if not any(config.get(name) is not None for name in SETTINGS):
        return None
    kinds = frozenset(KINDS[k] for k in config.get("privacy_pseudonymize") or ())
    return Rules(
        kinds=kinds,
        key=str(config["privacy_key"]).encode("utf-8"),
        free_text=str(config.get("privacy_free_text") or "keep"),
        everyone=config.get("privacy_people") == "everyone",
        region=str(config.get("privacy_phone_region") or DEFAULT_REGION).upper(),
    )


def privacy_problems(config: dict[str, Any]) -> list[str]:
    """One sentence per problem of the privacy settings (never echoing the key)."""
    given = [name for name in SETTINGS if config.get(name) is not None]
    problems = []
    kinds = config.get("privacy_pseudonymize")
    if kinds is not None and (
        not isinstance(kinds, list) or not all(isinstance(k, str) and k in KINDS for k in kinds)
    ):
        problems.append(
            f"`privacy_pseudonymize` must be a list of {', '.join(KINDS)} "
            f"(got {str(kinds)[:60]!r})."
        )
    for name, allowed in (("privacy_free_text", FREE_TEXT), ("privacy_people", PEOPLE)):
        value = config.get(name)
        if value is not None and value not in allowed:
            problems.append(f"`{name}` must be one of {', '.join(allowed)} (got {value!r:.40}).")
    region = config.get("privacy_phone_region")
    if region is not None and (not isinstance(region, str) or not _known_region(region)):
        problems.append(
            "`privacy_phone_region` must be a two-letter region code, such as FR, DE or GB, "
            f"how national numbers in notes and transcripts are read (got {region!r:.20})."
        )
    key = config.get("privacy_key")
    if given and (key is None or (isinstance(key, str) and not key.strip())):
        problems.append(
            f"`privacy_key` is missing: {', '.join(f'`{n}`' for n in given)} need a secret key "
            f"for the pseudonyms (at least {MIN_KEY_LENGTH} characters, kept in .env, such as "
            "the output of `openssl rand -hex 32`)."
        )
    elif key is not None and (not isinstance(key, str) or len(key) < MIN_KEY_LENGTH):
        problems.append(
            f"`privacy_key` must be text of at least {MIN_KEY_LENGTH} characters: a short key "
            "can be guessed, and every pseudonym reversed with it."
        )
    return problems


def _known_region(region: str) -> bool:
    """Whether libphonenumber knows this region (imported here: only privacy needs it)."""
    import phonenumbers

    return region.upper() in phonenumbers.SUPPORTED_REGIONS
