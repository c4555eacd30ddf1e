"""Opt-in reports over a window of days: tags, statuses, teams."""

from __future__ import annotations

import datetime as datetime_module
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

from tap_skipcall.client.base import SCHEMAS, SkipcallStream
from tap_skipcall.network.body import json_body
from tap_skipcall.values import calendar_date


class StatsStream(SkipcallStream):
    """An opt-in report over the window ``stats_start_date`` .. ``stats_end_date``."""

    selected_by_default = False

    @property
    def window(self) -> tuple[str, str]:
        """The report window as ISO dates (default: the last 30 days)."""
        today = datetime_module.datetime.now(datetime_module.UTC).date()
        start = calendar_date(self.config.get("stats_start_date"))
        end = calendar_date(self.config.get("stats_end_date"))
        return start or str(today - datetime_module.timedelta(30)), end or str(today)

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """Window and granularity, for each stats endpoint alike."""
        start, end = self.window
        return {
            "startDate": start,
            "endDate": end,
            "granularity": self.config["stats_granularity"],
        }

    @override
    def get_new_paginator(self) -> None:
        """Reports are not paginated."""
        return

    def labelled(self, row: dict[str, Any]) -> dict[str, Any]:
        """The window and bucket make rows of different runs and days distinct."""
        start, end = self.window
        return {
            "window_start": start,
            "window_end": end,
            "granularity": self.config["stats_granularity"],
            "bucket": row.get("date") or "total",
            **row,
        }


class TagRepartitionStream(StatsStream):
    """``GET /v1/stats/tag-repartition``."""

    name = "stats_tag_repartition"
    path = "/v1/stats/tag-repartition"
    primary_keys = ("window_start", "window_end", "granularity", "bucket", "tagId")
    schema = StreamSchema(SCHEMAS)

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """One row per tag and bucket."""
        for row in json_body(response).get("data") or []:
            yield self.labelled(row)


class StatusRepartitionStream(StatsStream):
    """``GET /v1/stats/status-repartition``; ``nonCalledCount`` repeated on each row."""

    name = "stats_status_repartition"
    path = "/v1/stats/status-repartition"
    primary_keys = ("window_start", "window_end", "granularity", "bucket", "status")
    schema = StreamSchema(SCHEMAS)

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """One row per status and bucket."""
        payload = json_body(response)
        for row in payload.get("data") or []:
            yield {**self.labelled(row), "nonCalledCount": payload.get("nonCalledCount")}


class TeamStatsStream(StatsStream):
    """``GET /v1/teams/stats`` with ``period=custom`` over the window."""

    name = "stats_teams"
    path = "/v1/teams/stats"
    primary_keys = ("window_start", "window_end", "teamId")
    schema = StreamSchema(SCHEMAS)

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """``period`` is required; ``custom`` takes the window's dates."""
        start, end = self.window
        return {"period": "custom", "startDate": start, "endDate": end}

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """One row per team, each carrying the response's aggregate."""
        payload = json_body(response)
        start, end = self.window
        for team in payload.get("teams") or []:
            yield {
                "window_start": start,
                "window_end": end,
                **team,
                "aggregate": payload.get("aggregate"),
            }
