"""Every use of a private singer-sdk method, in one place.

The SDK offers no public hook for these three needs. Each is pinned by
``tests/test_sdk_private.py``, which fails if the SDK renames a method or changes its
signature, so an SDK upgrade cannot silently turn one of them into dead code.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

from singer_sdk import Stream, Tap

if TYPE_CHECKING:
    from collections.abc import Callable

#: (class, method, parameters after ``self``) for each private method used here.
PRIVATE_METHODS: list[tuple[type, str, list[str]]] = [
    (Tap, "_validate_config", ["raise_errors"]),
    (Stream, "_write_schema_message", []),
    (Stream, "_write_state_message", []),
]


def signature_of(cls: type, name: str) -> list[str]:
    """The parameter names of ``cls.name`` after ``self``."""
    method: Callable[..., object] = getattr(cls, name)
    return list(inspect.signature(method).parameters)[1:]


class PlainSentenceConfig(Tap):
    """Config validation that first says, in plain sentences, what is wrong."""

    def config_problems(self) -> list[str]:
        """Problems to report before the SDK's JSON-schema check (overridden by the tap)."""
        return []

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The tap's own sentences first (they never echo the key), then the JSON schema.

        Private in the SDK (``Tap._validate_config``); overridden because the SDK's schema
        errors quote the offending value, which can be the API key.
        """
        from singer_sdk.exceptions import ConfigValidationError

        problems = self.config_problems()
        if problems and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=problems)
        return problems or super()._validate_config(raise_errors=raise_errors)


class SchemaOncePerRun(Stream):
    """A child stream that sends its SCHEMA once per run, not once per parent record."""

    def _write_schema_message(self) -> None:
        """Private in the SDK; the SDK calls it for every parent, the schema never changes."""
        if not self.__dict__.get("_schema_sent"):
            super()._write_schema_message()
            self._schema_sent = True


def write_state_now(stream: Stream) -> None:
    """Emit a STATE message with the stream's state as it is (the SDK dedups repeats).

    Private in the SDK (``Stream._write_state_message``); the calls stream uses it to
    checkpoint after every page rather than every 10,000 records.
    """
    stream.state_manager.is_flushed = False
    stream._write_state_message()
