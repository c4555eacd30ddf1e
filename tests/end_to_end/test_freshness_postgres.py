"""End to end: day after day, what changes without its call reaches PostgreSQL in time.

The account lives between syncs (``skipcall_simulator.Lifecycle``): transcriptions finish,
recordings appear late, a CRM edits contacts, sequence contacts move on. The tap runs under
`faketime` a day later each time, with the API's clock moved as far.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from skipcall_simulator import Lifecycle
from skipcall_simulator.endpoints import sequence_contacts
from tests.end_to_end.meltano_postgres import connection, meltano_run
from tests.end_to_end.test_deletions_postgres import faketime

pytestmark = pytest.mark.slow
PERIOD_DAYS = 2
STREAMS = ["calls", "call_recordings", "call_transcriptions", "contacts", "sequence_contacts"]
#: The fields compared, per table: what the lifecycle changes, as PostgreSQL returns it.
FIELDS = {
    "call_recordings": ("id", "hasTranscription", "transcriptionStatus"),
    "call_transcriptions": ("id", "status", "summary"),
    "contacts": ("id", "email", "company", "lastModificationSource"),
    "sequence_contacts": ("sequence_id", "id", "status"),
}


def loaded(postgres: dict, schema: str, table: str) -> dict[tuple, tuple]:
    fields = FIELDS[table]
    columns = ", ".join(f'"{f}"' for f in fields)
    with connection(postgres, "skipcall") as conn:
        rows = conn.execute(f"SELECT {columns} FROM {schema}.{table}").fetchall()
    keys = 2 if table == "sequence_contacts" else 1
    return {tuple(row[:keys]): tuple(row) for row in rows}


def truth(sim, table: str) -> dict[tuple, tuple]:
    data, fields = sim.simulator.data, FIELDS[table]
    if table == "call_recordings":
        items = [r for c, r in data.recordings.items() if c in data.calls]
    elif table == "call_transcriptions":
        items = [t for c, t in data.transcriptions.items() if c in data.recordings]
    elif table == "contacts":
        items = list(data.contacts.values())
    else:
        items = []
        for sequence_id in data.sequences:
            body = sequence_contacts(sim.simulator, {"limit": ["100"]}, id=sequence_id)
            items += [{**item, "sequence_id": sequence_id} for item in body["data"]]
    keys = 2 if table == "sequence_contacts" else 1
    return {tuple(i[f] for f in fields[:keys]): tuple(i[f] for f in fields) for i in items}


def test_every_child_table_is_current_within_its_bounds_after_every_sync(
    make_simulator, postgres, meltano
):
    sim = make_simulator(n_calls=400)
    data = sim.simulator.data
    life = Lifecycle(sim.simulator)
    state_id = uuid.uuid4().hex[:8]
    schema = f"fresh_{state_id}"
    env = {
        "TAP_SKIPCALL__SELECT": json.dumps([f"{stream}.*" for stream in STREAMS]),
        "TAP_SKIPCALL_CONTACTS_MAX_AGE_DAYS": str(PERIOD_DAYS),
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
    }
    changed_on: dict[tuple, int] = {}
    for day in range(5):
        if day:
            data.clock.offset = timedelta(days=day)  # the API's clock moves with the tap's
            life.attach_late_recordings()
            life.finish_transcriptions()
            changed_on.update({(c,): day for c in life.crm_edits(4)})
            changed_on.update(dict.fromkeys(life.sequences_move_on(4), day))
            life.end_calls(10)
        meltano_run(meltano, sim, postgres, state_id, prefix=faketime(day), **env)
        for table in ("call_recordings", "call_transcriptions"):
            want, have = truth(sim, table), loaded(postgres, schema, table)
            assert {k for k, v in want.items() if have.get(k) != v} == set(), (day, table)
        for table in ("contacts", "sequence_contacts"):
            have, want = loaded(postgres, schema, table), truth(sim, table)
            stale = {k for k in have if have[k] != want.get(k)}
            late = {k for k in stale if day - changed_on.get(k, -99) >= PERIOD_DAYS}
            assert late == set(), (day, table)
    assert changed_on  # the account did change without its calls
