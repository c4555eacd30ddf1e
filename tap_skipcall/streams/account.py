"""The account: workspaces, their members, and the organization's users (full table)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from singer_sdk import StreamSchema

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context

from tap_skipcall.client.base import SCHEMAS
from tap_skipcall.client.children import SkipcallChildStream
from tap_skipcall.client.pages import SkipcallListStream
from tap_skipcall.network.body import json_body


class WorkspacesStream(SkipcallListStream):
    """``GET /v1/workspaces``: a bare list, a ``{data}`` wrapper or a page envelope."""

    name = "workspaces"
    path = "/v1/workspaces"
    primary_keys = ("id",)
    narrows_by_workspace = False
    read_whole = True
    schema = StreamSchema(SCHEMAS)

    @override
    def check_payload(self, payload: Any) -> None:
        """A list is a documented-enough answer too (the shape is not documented)."""
        if not isinstance(payload, list):
            super().check_payload(payload)

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """Items of whichever shape arrived; only workspaces in ``workspace_ids`` if set."""
        payload = json_body(response)
        wanted = set(self.config.get("workspace_ids") or ())
        for item in payload if isinstance(payload, list) else payload["data"]:
            if not wanted or item.get("id") in wanted:
                yield item

    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> Context:
        """Members are read per workspace."""
        return {"workspace_id": record["id"]}


class WorkspaceMembersStream(SkipcallListStream, SkipcallChildStream):
    """``GET /v1/workspaces/{id}/members``: every status, as documented."""

    name = "workspace_members"
    path = "/v1/workspaces/{workspace_id}/members"
    parent_stream_type = WorkspacesStream
    parent_key = "workspace_id"
    parent_field = "workspace_id"
    primary_keys = ("workspace_id", "id")
    narrows_by_workspace = False
    read_whole = True  # versioned with its workspace
    schema = StreamSchema(SCHEMAS)


class UsersStream(SkipcallListStream):
    """``GET /v1/users``: organization users with access to an in-scope workspace."""

    name = "users"
    path = "/v1/users"
    primary_keys = ("organizationMembershipId",)
    read_whole = True
    schema = StreamSchema(SCHEMAS)
