"""Streams read once per parent record: a call's recording, a contact, a sequence's contacts."""

from __future__ import annotations

import logging
import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from singer_sdk import metrics

from tap_skipcall.client.base import SkipcallStream
from tap_skipcall.network.body import json_body
from tap_skipcall.sdk_private import schema_once_per_run

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_skipcall.network.transport import Transport
    from tap_skipcall.privacy import Privacy
    from tap_skipcall.run_context import RunContext

_Meter = TypeVar("_Meter", bound=metrics.Meter)


@schema_once_per_run
class SkipcallChildStream(SkipcallStream):
    """A stream read per parent record: no per-parent state, never ACTIVATE_VERSION.

    Only parents emitted in this sync reach it, so an incremental run costs requests only
    for what changed; a target must therefore never treat one run as the whole table.

    It reads one object per parent (``GET /v1/<things>/{id}``, 404: there is none). A list
    per parent puts :class:`~tap_skipcall.client.pages.SkipcallListStream` first among its
    bases, whose paging and parsing then apply.
    """

    state_partitioning_keys: ClassVar[list[str]] = []
    #: Context key this stream is read for; each value is requested once per sync.
    parent_key: ClassVar[str]
    #: Record field that carries the parent's id (None: the record has it already).
    parent_field: ClassVar[str | None] = None
    #: A parent outside the key's scope, or without this child, answers 404: no rows.
    not_found_means_empty = True

    def __init__(
        self,
        tap: Tap,
        *,
        transport: Transport,
        run: RunContext | None = None,
        privacy: Privacy | None = None,
    ) -> None:
        super().__init__(tap, transport=transport, run=run, privacy=privacy)
        # One sync per parent: its SDK metrics and "Beginning sync" lines would be a few per
        # call. They go to a logger that shows them only when the tap runs at DEBUG.
        quiet = logging.getLogger(f"{self.metrics_logger.name}.per_parent")
        quiet.setLevel(
            logging.DEBUG if self.metrics_logger.isEnabledFor(logging.DEBUG) else logging.WARNING
        )
        self.metrics_logger = quiet

    @override
    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        """Per-parent chatter (sync started, no pages for a parent) at DEBUG."""
        super().log(
            message, *args, level=logging.DEBUG if level == logging.INFO else level, **kwargs
        )

    @override
    def get_record_counter(self, **kwargs: Any) -> metrics.Counter:
        """Counted as usual, logged at DEBUG."""
        return self._quiet(super().get_record_counter(**kwargs))

    @override
    def get_sync_timer(self) -> metrics.Timer:
        """Timed as usual, logged at DEBUG."""
        return self._quiet(super().get_sync_timer())

    @override
    def get_http_request_counter(self) -> metrics.Counter:
        """Counted as usual, logged at DEBUG."""
        return self._quiet(super().get_http_request_counter())

    def _quiet(self, meter: _Meter) -> _Meter:
        meter.logger = self.metrics_logger
        return meter

    @override
    @property
    def emit_activate_version_messages(self) -> bool:
        """Never: a run sees only the children of changed parents."""
        return False

    @cached_property
    def _parents_read(self) -> set[Any]:
        return set()

    @cached_property
    def in_use(self) -> bool:
        """Whether this stream or one below it is selected (fixed for the run)."""
        return bool(self.selected or self.has_selected_descendents)

    def has_work_for(self, context: Context) -> bool:
        """Whether syncing this parent would cost a request worth making.

        Parents ask before handing a record to their children, because the SDK's
        per-record child sync costs milliseconds even when the child has nothing to do.
        """
        key = context.get(self.parent_key)
        return key is not None and key not in self._parents_read

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Records for this parent, unless it has none or was already read in this sync."""
        key = (context or {}).get(self.parent_key)
        if key is None or key in self._parents_read:
            return
        self._parents_read.add(key)
        for record in self._watched(super().get_records(context), span=False):
            yield {self.parent_field: key, **record} if self.parent_field else record

    @override
    def get_new_paginator(self) -> Any:
        """A single object: no pages."""
        return None

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The object, or nothing on 404."""
        if response.status_code != 404:
            yield json_body(response)
