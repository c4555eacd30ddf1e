"""tap-skipcall: the Tap, its settings and the streams it offers."""

from __future__ import annotations

import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.helpers.capabilities import CapabilitiesEnum, TapCapabilities

from tap_skipcall.client import DEFAULT_API_URL
from tap_skipcall.incremental import StateError, state_problem
from tap_skipcall.sdk_private import PlainSentenceConfig
from tap_skipcall.settings import (
    DEFAULT_CONCURRENT_REQUESTS,
    SETTINGS,
    config_problems,
    unknown_settings,
)
from tap_skipcall.streams import STREAM_TYPES, CallsStream
from tap_skipcall.transport import Transport

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from tap_skipcall.client import SkipcallStream


class TapSkipcall(PlainSentenceConfig):
    """Singer tap for the Skipcall Public API."""

    name = "tap-skipcall"
    config_jsonschema = SETTINGS.to_dict()
    #: msgspec encodes Singer messages several times faster than the default writer.
    message_writer_class = MsgSpecWriter
    #: The SDK's, and `test`: `--test` checks the key with one request.
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        *Tap.capabilities,
        TapCapabilities.TEST,
    ]

    @override
    def config_problems(self) -> list[str]:
        """Plain sentences for bad settings; a warning for each unknown one."""
        for warning in unknown_settings(
            dict(self.config), set(self.config_jsonschema["properties"])
        ):
            self.logger.warning("%s", warning)
        return config_problems(dict(self.config))

    @cached_property
    def transport(self) -> Transport:
        """The session and request budget every stream shares (the limit is per key)."""
        return Transport(
            self.config.get("max_requests_per_minute"),
            max_concurrent_requests=int(
                self.config.get("max_concurrent_requests", DEFAULT_CONCURRENT_REQUESTS)
            ),
            api_url=str(self.config.get("api_url", DEFAULT_API_URL)),
        )

    @override
    def load_state(self, state: dict[str, Any]) -> None:
        """Refuse, before any request, a state this tap did not write."""
        problem = state_problem(state, {str(stream.name) for stream in self.streams.values()})
        if problem:
            raise StateError(problem)
        super().load_state(state)

    @override
    def discover_streams(self) -> list[SkipcallStream]:
        """The streams this tap offers, each handed the shared transport."""
        return [stream_type(self, transport=self.transport) for stream_type in STREAM_TYPES]

    def check_connection(self) -> str:
        """One request: can this key read calls? The sentence to show if it can.

        ``--test`` runs this instead of the SDK's connection test, which syncs a record of
        every stream and logs an ERROR for each full-table one it cuts short.
        """
        calls = self.streams["calls"]
        assert isinstance(calls, CallsStream)
        visible = calls.count_visible()
        count = "an unknown number of" if visible is None else f"{visible:,}"
        return f"Connection test passed: the API key can read calls ({count} visible)."
