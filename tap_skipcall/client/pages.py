"""Streams over the API's paginated lists: ``{data, total, page, limit, totalPages}``."""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from singer_sdk.pagination import BaseAPIPaginator, PageNumberPaginator

from tap_skipcall.client.base import SkipcallStream
from tap_skipcall.client.envelope import Envelope, stop_sentence
from tap_skipcall.errors import SkipcallAPIError
from tap_skipcall.network.body import json_body

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable

    import requests
    from singer_sdk.helpers.types import Context


class EnvelopePaginator(PageNumberPaginator):
    """``page`` from 1 until ``totalPages`` (or an empty page), on answers that can be true.

    Each answer is held to what it says of itself (:mod:`tap_skipcall.client.envelope`), and
    a page holding only rows already read stops the read: these lists are read whole, and
    their ``ACTIVATE_VERSION`` would otherwise mark every row not read deleted.
    """

    def __init__(self, key_of: Callable[[Any], Hashable], *, read_whole: bool) -> None:
        super().__init__(start_value=1)
        self.key_of = key_of
        self.read_whole = read_whole
        self._seen: set[Hashable] = set()

    @override
    def has_more(self, response: requests.Response) -> bool:
        """More pages while this one is not the last announced one.

        An answer without ``totalPages`` (a bare list, a ``{data}`` wrapper) is one page.
        """
        if response.status_code == 404:
            return False
        payload = json_body(response)
        said = Envelope.of(payload)
        asked = self.current_value
        limit = count_of_query(response, "limit")
        problem = said.contradiction(asked, limit)
        if problem is None and asked > 1 and not said.past_end(asked, limit):
            problem = self._repeat(payload, asked)
        if problem is not None:
            path = urlsplit(str(response.request.url)).path if response.request else "a list"
            kept = (
                "before any of its rows is marked deleted"
                if self.read_whole
                else "its state unchanged"
            )
            raise SkipcallAPIError(stop_sentence(path, f"page {asked} {problem}", kept))
        if not isinstance(payload, dict) or not payload.get("data") or said.past_end(asked, limit):
            return False
        total_pages = said.total_pages
        if total_pages is None and said.total is not None:
            total_pages = math.ceil(said.total / said.page_size(limit))
        page = said.page or asked
        return total_pages is not None and page < total_pages

    def _repeat(self, payload: Any, asked: int) -> str | None:
        """Why this page cannot be true if it holds only rows already read (None: new rows)."""
        keys = [self.key_of(row) for row in payload.get("data") or []]
        new = [key for key in keys if key not in self._seen]
        self._seen.update(keys)
        if keys and not new:
            return "holds only rows already read on earlier pages: the pages repeat"
        return None


def count_of_query(response: requests.Response, name: str) -> int | None:
    """A whole-number query parameter of the request this answers (None: not sent)."""
    request = response.request
    values = parse_qs(urlsplit(str(request.url)).query).get(name) if request else None
    return int(values[-1]) if values and values[-1].isdigit() else None


class SkipcallListStream(SkipcallStream):
    """A stream over a paginated list: ``{data, total, page, limit, totalPages}``."""

    #: Whether the endpoint takes ``workspaceIds`` (documented for calls and users).
    narrows_by_workspace: ClassVar[bool] = True

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        """Page numbers from 1 to ``totalPages``, each answer held to what it says."""
        return EnvelopePaginator(self.row_key, read_whole=self.read_whole)

    def row_key(self, row: Any) -> Hashable:
        """What tells two rows of this list apart: their primary key as the API sends it."""
        if not isinstance(row, dict):
            return repr(row)
        return tuple(str(row.get(name)) for name in self.primary_keys if name in row) or repr(row)

    @override
    def check_payload(self, payload: Any) -> None:
        """The documented envelope, or a clear error naming what arrived instead."""
        super().check_payload(payload)
        if not isinstance(payload.get("data"), list):
            keys = ", ".join(sorted(payload)) or "nothing"
            msg = (
                f"Skipcall answered {self.path} without the documented `data` list "
                f"(got keys: {keys})."
            )
            raise SkipcallAPIError(msg)

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The page's items (none for a parent the API says is not there)."""
        if response.status_code != 404:
            yield from json_body(response)["data"]

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """Page number and size; workspaces narrowed when configured."""
        params: dict[str, Any] = {
            "page": next_page_token or 1,
            "limit": self.config["page_size"],
        }
        if self.narrows_by_workspace and self.config.get("workspace_ids"):
            params["workspaceIds"] = ",".join(self.config["workspace_ids"])
        return params
