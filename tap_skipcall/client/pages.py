"""Streams over the API's paginated lists: ``{data, total, page, limit, totalPages}``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.pagination import BaseAPIPaginator, PageNumberPaginator

from tap_skipcall.client.base import SkipcallStream
from tap_skipcall.errors import SkipcallAPIError
from tap_skipcall.network.body import json_body
from tap_skipcall.values import positive_int

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context


class EnvelopePaginator(PageNumberPaginator):
    """``page`` from 1 until ``totalPages`` (or an empty page)."""

    def __init__(self) -> None:
        super().__init__(start_value=1)

    @override
    def has_more(self, response: requests.Response) -> bool:
        """More pages while this one is not the last announced one.

        An answer without ``totalPages`` (a bare list, a ``{data}`` wrapper) is one page.
        """
        if response.status_code == 404:
            return False
        payload = json_body(response)
        if not isinstance(payload, dict) or not payload.get("data"):
            return False
        total_pages = positive_int(payload.get("totalPages"))
        page = positive_int(payload.get("page")) or self.current_value
        return total_pages is not None and page < total_pages


class SkipcallListStream(SkipcallStream):
    """A stream over a paginated list: ``{data, total, page, limit, totalPages}``."""

    #: Whether the endpoint takes ``workspaceIds`` (documented for calls and users).
    narrows_by_workspace: ClassVar[bool] = True

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        """Page numbers from 1 to ``totalPages``."""
        return EnvelopePaginator()

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
