"""The ``/_sim/...`` control API: statistics, faults, mutations, settings and the truth.

Every change to shared state is made under the simulator's lock, like the API's own reads.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from skipcall_simulator.errors import ApiError
from skipcall_simulator.faults import Fault
from skipcall_simulator.mutations import MutationRule

if TYPE_CHECKING:
    from skipcall_simulator.server import Simulator


def handle(api: Simulator, method: str, path: str, body: Any) -> Any:
    """Answer one control request."""
    with api.lock:
        if path == "/_sim/stats":
            return api.stats.as_dict()
        if path == "/_sim/reset_stats":
            api.stats = type(api.stats)()
            return {"ok": True}
        if path == "/_sim/faults":
            if method == "DELETE":
                api.faults.clear()
            else:
                api.faults.append(Fault(**body))
            return {"faults": [asdict(f) for f in api.faults]}
        if path == "/_sim/mutate":
            return {
                "updated": api.data.update_calls(body.get("update", 0)),
                "deleted": api.data.delete_calls(body.get("delete", 0)),
                "created": api.data.create_calls(body.get("create", 0)),
                "erased": api.data.erase_calls(body.get("erase", 0)),
            }
        if path == "/_sim/mutation_rules":
            api.mutations.append(MutationRule(**body))
            return {"ok": True}
        if path == "/_sim/config":
            for key, value in (body or {}).items():
                setattr(api.config, key, tuple(value) if key == "sort_styles" else value)
            return asdict(api.config)
        if path == "/_sim/truth":
            return api.data.snapshot_calls()
    raise ApiError(404, "NOT_FOUND", f"No control endpoint {path}")
