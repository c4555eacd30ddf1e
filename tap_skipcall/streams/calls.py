"""``GET /v1/calls`` as an SDK stream: the SDK's hooks handed to one run object per sync.

The stream itself holds nothing about a run. When the SDK begins its sync (its first hook,
``get_batch_config``), :meth:`CallsStream._begin` composes a
:class:`~tap_skipcall.calls.sync.CallsSync` from its parts: the state keeper, the run's plan,
the list client, the child fan-out, and what freshness reads afterwards. Every later hook
hands its work to that run; ``get_records`` drops it when the sync ends.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from singer_sdk import StreamSchema

from tap_skipcall import clock, sdk_private
from tap_skipcall.calls.fan_out import ChildFanOut, child_context_of
from tap_skipcall.calls.list_client import CallsList
from tap_skipcall.calls.paginator import answer_of, page_query
from tap_skipcall.calls.progress import Progress
from tap_skipcall.calls.reconcile import plan_run, unchanged_calls
from tap_skipcall.calls.rows import REPLICATION_KEY
from tap_skipcall.calls.state_keeper import StateKeeper
from tap_skipcall.calls.sync import CallsSync, ReadSettings
from tap_skipcall.client.base import SCHEMAS
from tap_skipcall.client.children import SkipcallChildStream
from tap_skipcall.client.pages import SkipcallListStream
from tap_skipcall.freshness.refresher import ListedPage, Refresher, RefreshPlan
from tap_skipcall.freshness.walk import WALK
from tap_skipcall.network.body import json_body
from tap_skipcall.values import parse_timestamp, utc_timestamp

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    import requests
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context

    from tap_skipcall.calls.paginator import NewestFirstPaginator
    from tap_skipcall.calls.position import PageRequest


@sdk_private.own_bookmark
class CallsStream(SkipcallListStream):
    """``GET /v1/calls``, newest ``updatedAt`` first, incremental on ``updatedAt``."""

    name = "calls"
    path = "/v1/calls"
    primary_keys = ("id",)
    replication_key = REPLICATION_KEY
    #: Newest-first is not what the SDK calls sorted: the bookmark is written by the run.
    is_sorted = False
    schema = StreamSchema(SCHEMAS)

    #: Deleted calls are marked so in this column, the one SDK loaders keep for soft deletes.
    DELETED_AT = "_sdc_deleted_at"

    #: The sync under way; None between syncs.
    _run: CallsSync | None = None

    @property
    def start_date(self) -> str | None:
        """``start_date`` as the run compares it (a date or an offset-less time: UTC)."""
        return utc_timestamp(self.config.get("start_date"))

    @cached_property
    def calls_list(self) -> CallsList:
        """The list outside the SDK's paging: probes, pages by number, ``--test``'s count."""
        return CallsList(
            self._send_page, self.transport, pages_ahead=self.config.get("calls_pages_ahead")
        )

    def _send_page(self, page: PageRequest) -> requests.Response:
        """A page asked for outside the SDK's paging, sent with its retries."""
        response: requests.Response = self.send_with_retries(
            self.prepared_request(None, page), None
        )
        return response

    # -- a run --------------------------------------------------------------------------

    def _begin(self) -> CallsSync:
        """The run object of the sync the SDK begins, composed from its parts."""
        config = self.config
        start_date = self.start_date
        keeper = StateKeeper(self, start_date)
        saved = keeper.saved
        started_at = clock.now()
        days = config["deletions_within_days"]
        plan = plan_run(
            saved,
            now=started_at,
            period=timedelta(days=days) if days else None,
            versions=self.versions_on
            and self.selected,  # no ACTIVATE_VERSION for a stream not sent
            full_table=self.replication_method == "FULL_TABLE",
            shared=self.run_context,
        )
        if plan.reconciles:
            self.logger.info(
                "calls: reading the whole list (%s), so that deleted calls leave the warehouse.",
                plan.why,
            )
        descendants = self._descendants_in_use()
        if not self.selected:
            self.logger.info(
                "calls: not selected, so calls are read for %s but not written; their bookmark "
                "is kept, so the next run reads only the calls changed since.",
                ", ".join(descendants),
            )
        refresh = RefreshPlan.for_run(
            keeper.entries.get(WALK),
            now=started_at,
            last_run_at=saved.last_run_at,
            has_bookmark=saved.has_bookmark,
            max_age_days=config["contacts_max_age_days"],
            walks_contacts="contacts" in descendants,
        )
        fan_out = ChildFanOut(
            children=[descendants[c.name] for c in self.child_streams if c.name in descendants],
            contacts=descendants.get("contacts"),
            unchanged=unchanged_calls(plan, saved),
            contact_due=refresh.contact_due,
        )
        self._run = CallsSync(
            plan=plan,
            keeper=keeper,
            calls_list=self.calls_list,
            fan_out=fan_out,
            refresh=partial(self._refresh, refresh, descendants),
            settings=ReadSettings(
                page_size=int(config["page_size"]),
                sort_style=str(config["sort_style"]),
                start_date=start_date,
            ),
            progress=Progress(
                self.name, self.transport, self.logger, incremental=not plan.complete_read
            ),
            started_at=started_at,
            fetch_page_ahead=partial(self.fetch_ahead, None),
            activate_version=partial(sdk_private.activate_version, self),
            logger=self.logger,
            # With `accounts`, a reconciliation's clock moves with its ACTIVATE_VERSION, which
            # the accounts' run writes once every account's read is complete.
            moves_clock=not (self.run_context.deferred and plan.reconciles),
        )
        return self._run

    @property
    def run(self) -> CallsSync:
        """The sync under way (the SDK calls the hooks below only during one)."""
        if self._run is None:
            msg = "the calls stream's hooks are called only during its sync"
            raise RuntimeError(msg)
        return self._run

    def _descendants_in_use(self) -> dict[str, SkipcallChildStream]:
        """The child streams, and theirs, that this run reads: by name."""
        found: dict[str, SkipcallChildStream] = {}
        parents: list[Any] = [self]
        while parents:
            for child in parents.pop().child_streams:
                if isinstance(child, SkipcallChildStream) and child.in_use:
                    found[child.name] = child
                    parents.append(child)
        return found

    def _refresh(
        self,
        plan: RefreshPlan,
        children: Mapping[str, SkipcallChildStream],
        met_every_call: bool,
        page_of_calls: Callable[[int], requests.Response],
    ) -> dict[str, Any] | None:
        """Read again what changed without its call; the walk's entry for the calls state."""
        if not children:
            return None
        refresher = Refresher(
            _ListedPages(page_of_calls),
            children,
            now=clock.now(),
            page_size=int(self.config["page_size"]),
            context_of=child_context_of,
            logger=self.logger,
        )
        walk = refresher.after_read(
            plan, met_every_call=met_every_call, synced_since=self.start_date
        )
        return {WALK: walk.as_state()}

    # -- the SDK's hooks, handed to the run -------------------------------------------------

    @override
    def get_batch_config(self, config: Mapping[str, Any]) -> BatchConfig | None:
        """The SDK's first hook of a sync: the run begins, and says RECORD or BATCH."""
        run = self._begin()
        return run.keeper.messages(run.plan, super().get_batch_config(config))

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """Each batch, then the state its rows make true (see the state keeper)."""
        keeper = self.run.keeper
        yield from keeper.batches(super().get_batches(batch_config, context))

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Every call to write, then the state a finished sync saves; the run ends with it."""
        run = self._run or self._begin()
        sdk_pages = super().get_records
        sdk_private.set_table_version(self, run.plan.version)
        try:
            yield from run.records(lambda: sdk_pages(context))
        finally:
            self._run = None

    @override
    def get_new_paginator(self) -> NewestFirstPaginator:
        """The paginator of the run's read under way."""
        return self.run.read.paginator

    @override
    def get_url_params(
        self, context: Context | None, next_page_token: PageRequest | None
    ) -> dict[str, Any]:
        """Page, size, newest ``updatedAt`` first in the page's wire form, workspaces."""
        params = super().get_url_params(context, None)
        if next_page_token is not None:
            params.update(page_query(next_page_token))
        return params

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The page's calls to write, as the run decides."""
        return self.run.page(response)

    @override
    def compare_start_date(self, value: str, start_date_value: str) -> str:
        """The SDK's starting value, with ``start_date`` read as the tap reads it.

        Unused by the tap (its state keeper's bookmark decides), but the SDK computes it.
        """
        start = utc_timestamp(start_date_value)
        if start is None or parse_timestamp(value) is None:
            return value
        return max(value, start, key=lambda stamp: parse_timestamp(stamp) or datetime.min)

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> None:
        """No client-clock signpost: the bookmark comes from the API's own data."""
        return

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        """Hand a call to its children only when one of them reads (the fan-out's plan)."""
        fan_out = self.run.fan_out
        return fan_out.contexts(record) if fan_out.children else ()

    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> Context:
        """What the children of a call are read for: the call, its contact, its sequence."""
        return child_context_of(record)

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Keep undeclared fields; a call without ``updatedAt`` still carries the column.

        A soft-deleted call carries its ``deletedAt`` in ``_sdc_deleted_at`` too.
        """
        row.setdefault(REPLICATION_KEY, None)
        row[self.DELETED_AT] = row.get("deletedAt")
        return super().post_process(row, context)


class _ListedPages:
    """The calls list as the contacts walk reads it (see :mod:`tap_skipcall.freshness`)."""

    def __init__(self, page_of_calls: Callable[[int], requests.Response]) -> None:
        self._page_of_calls = page_of_calls

    def listed_page(self, number: int) -> ListedPage:
        """One page: its calls, ``total`` and ``limit``."""
        response = self._page_of_calls(number)
        answer = answer_of(response)
        return ListedPage(json_body(response)["data"], answer.total, answer.limit)
