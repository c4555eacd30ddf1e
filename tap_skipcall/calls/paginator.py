"""The SDK's paginator interface over a :class:`~tap_skipcall.calls.pager.CallPager`.

The pager decides; this module only turns HTTP answers into what it reads, and its
decisions into the page tokens and query parameters the SDK sends.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from singer_sdk.pagination import BaseAPIPaginator

from tap_skipcall.calls.pager import PaginationError
from tap_skipcall.calls.rows import REPLICATION_KEY, Answer, rows_of
from tap_skipcall.client.envelope import Envelope
from tap_skipcall.errors import SkipcallAPIError
from tap_skipcall.network.body import json_body

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

    from tap_skipcall.calls.pager import CallPager
    from tap_skipcall.calls.position import PageRequest, Verdict
    from tap_skipcall.calls.rows import Probe


class NewestFirstPaginator(BaseAPIPaginator["PageRequest"]):
    """Relays each answer to the pager once, and its plan back to the SDK."""

    def __init__(self, pager: CallPager) -> None:
        super().__init__(pager.current)
        self.pager = pager
        self.verdict: Verdict | None = None
        #: The last answer read, as the pager read it (its rows parsed once).
        self.answer: Answer | None = None

    def read(
        self,
        response: requests.Response,
        probe: Probe | Callable[[], Probe] | None = None,
        head: Callable[[], Answer] | None = None,
    ) -> Verdict:
        """What the pager makes of this answer (called once per page, before its rows)."""
        self.answer = answer_of(response)
        try:
            self.verdict = self.pager.read(self.answer, probe, head)
        except PaginationError as error:
            raise SkipcallAPIError(str(error)) from error
        return self.verdict

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        """A page may be emptied on purpose (a probe, delivered calls): go on if planned."""
        return self.has_more(response)

    @override
    def has_more(self, response: requests.Response) -> bool:
        """Whether the pager planned another page."""
        return self.verdict is not None and self.verdict.next_page is not None

    @override
    def get_next(self, response: requests.Response) -> PageRequest | None:
        """The page the pager chose."""
        return self.verdict.next_page if self.verdict else None


def answer_of(response: requests.Response) -> Answer:
    """A page of calls as the pager reads it."""
    return answer_from(json_body(response))


def answer_from(payload: Any) -> Answer:
    """A page of calls as the pager reads it, from the parsed body."""
    envelope = Envelope.of(payload)
    return Answer(
        rows_of(payload["data"]), limit=envelope.limit, total=envelope.total, envelope=envelope
    )


def sort_params(style: str, field: str, order: str) -> dict[str, str]:
    """``sort`` as the API may expect it; the docs give its schema but not its encoding."""
    if style == "json":
        return {"sort": json.dumps({"orderBy": field, "order": order}, separators=(",", ":"))}
    if style == "flat":
        return {"orderBy": field, "order": order}
    return {"sort[orderBy]": field, "sort[order]": order}


def page_query(page: PageRequest) -> dict[str, Any]:
    """Page number, newest first in the page's wire form of ``sort`` (if any), its limit."""
    query: dict[str, Any] = {"page": page.number}
    if page.sort_style is not None:
        query.update(sort_params(page.sort_style, REPLICATION_KEY, "desc"))
    if page.limit is not None:
        query["limit"] = page.limit
    return query
