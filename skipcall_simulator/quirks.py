"""Lists that misbehave on the wire: what an API that breaks its own paging contract answers.

None of these is documented behaviour; each is a way a real API (or a proxy, a cache, a
rename of ``page``) has been seen to break the ``{data, total, page, limit, totalPages}``
contract, so that the tap can be tested against it. A quirk applies to the endpoints in
``SimulatorConfig.quirk_endpoints`` (by default the calls list only).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from skipcall_simulator.endpoints import Query

#: The quirks a test can ask for, and what each does.
QUIRKS = {
    "page_ignored": "`page` is ignored: every answer is page 1, and says so",
    "page_ignored_echoed": "`page` is ignored: every answer is page 1, echoing the page asked",
    "total_zero": "`total` and `totalPages` are 0 beside the rows",
    "total_negative": "`total` is -1",
    "total_fraction": "`total` has a fraction",
    "total_huge": "`total` announces 10^12 rows; the pages run out at the real end",
    "endless": "`total` and `totalPages` grow a page with every answer; pages past the end "
    "start the list again",
}


def answer(
    quirk: str, handler: Callable[[Query], Any], query: Query, served: int
) -> dict[str, Any]:
    """The answer of a list with this quirk; ``served`` answers of it came before."""
    if quirk not in QUIRKS:
        msg = f"unknown list quirk {quirk!r}; one of {', '.join(QUIRKS)}"
        raise ValueError(msg)
    asked = _page_asked(query)
    if quirk.startswith("page_ignored"):
        body: dict[str, Any] = handler({**query, "page": ["1"]})
        if quirk == "page_ignored_echoed":
            body["page"] = asked
        return body
    if quirk == "endless":
        first = handler({**query, "page": ["1"]})
        pages = max(1, int(first["totalPages"]))
        body = handler({**query, "page": [str((asked - 1) % pages + 1)]})
        body["page"] = asked
        body["total"] = int(first["total"]) + (served + 1) * int(first["limit"])
        body["totalPages"] = math.ceil(body["total"] / int(first["limit"]))
        return body
    body = handler(query)
    if quirk == "total_zero":
        body["total"], body["totalPages"] = 0, 0
    elif quirk == "total_negative":
        body["total"] = -1
    elif quirk == "total_fraction":
        body["total"] = body["total"] + 0.5
    elif quirk == "total_huge":
        body["total"] = 10**12
        body["totalPages"] = math.ceil(10**12 / int(body["limit"]))
    return body


def _page_asked(query: Query) -> int:
    try:
        return max(1, int(float((query.get("page") or ["1"])[-1])))
    except ValueError:
        return 1
