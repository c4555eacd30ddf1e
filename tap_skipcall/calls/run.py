"""What kind of run a sync of calls is, from the state and the settings (see :mod:`.reconcile`)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tap_skipcall import clock
from tap_skipcall.calls.reconcile import RunPlan, plan_run
from tap_skipcall.calls.state import (
    Bookmark,
    SavedState,
    read_state,
)
from tap_skipcall.client.pages import SkipcallListStream
from tap_skipcall.sdk_private import (
    OwnBookmark,
)

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Mapping

    from singer_sdk.helpers._batch import BatchConfig

    from tap_skipcall.calls.paginator import NewestFirstPaginator


class PlannedRun(OwnBookmark, SkipcallListStream):
    """A sync of calls and what kind of run it is: incremental, backfill or reconciliation."""

    #: The paginator of the read under way (set by ``get_new_paginator``).
    paginator: NewestFirstPaginator
    #: Set while a reconciliation reads the head again (see ``CallsStream._head_passes``).
    _pass_bookmark: Bookmark | None = None

    @cached_property
    def saved(self) -> SavedState:
        """The calls state this run started from."""
        return read_state(self.stream_state, self.config.get("start_date"))

    @cached_property
    def started_at(self) -> datetime:
        """When this sync of calls began (the tap's clock)."""
        return clock.now()

    @cached_property
    def plan(self) -> RunPlan:
        """Incremental, backfill or reconciliation (see :mod:`.reconcile`)."""
        days = self.config["deletions_within_days"]
        plan = plan_run(
            self.saved,
            now=self.started_at,
            period=timedelta(days=days) if days else None,
            versions=self.versions_on,
            full_table=self.replication_method == "FULL_TABLE",
        )
        if plan.reconciles:
            self.logger.info(
                "calls: reading the whole list (%s), so that deleted calls leave the warehouse.",
                plan.why,
            )
        return plan

    @override
    def get_batch_config(self, config: Mapping[str, Any]) -> BatchConfig | None:
        """RECORD messages for a reconciliation: ``ACTIVATE_VERSION`` needs versioned rows."""
        return None if self.plan.reconciles else super().get_batch_config(config)
