"""The children of a call: one plan for the SDK's child sync and for the requests ahead."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tap_skipcall.calls.fan_out import ChildFanOut, child_context_of


@dataclass
class FakeChild:
    """A child stream: reads each value of its key once, and notes requests started ahead."""

    key: str
    read: set[Any] = field(default_factory=set)
    started: list[dict[str, Any]] = field(default_factory=list)

    def has_work_for(self, context):
        value = context.get(self.key)
        return value is not None and value not in self.read

    def fetch_ahead(self, context, token=None):
        self.started.append(context)


def call(call_id="c1", *, contact="k1", unknown=False, sequence="s1", changed=True):
    return {
        "id": call_id,
        "contact": None if contact is None else {"id": contact, "isUnknown": unknown},
        "sequenceId": sequence,
        "endedAt": "2026-01-01T00:00:00.000Z",
        "changed": changed,
    }


def fan_out(*, due=None, read_contacts=(), children=("call_id", "contact_id", "sequence_id")):
    kids = {key: FakeChild(key) for key in children}
    if "contact_id" in kids:
        kids["contact_id"].read.update(read_contacts)
    return (
        ChildFanOut(
            children=list(kids.values()),
            contacts=kids.get("contact_id"),
            unchanged=lambda c: not c["changed"],
            contact_due=None if due is None else (lambda contact: contact in due),
        ),
        kids,
    )


@pytest.mark.parametrize(
    ("the_call", "due", "read_contacts", "context", "readers"),
    [
        # A changed call: every child with work, the whole context.
        (call(), None, (), child_context_of(call()), ["call_id", "contact_id", "sequence_id"]),
        # ... its contact already read this run: the others still read.
        (call(), None, ("k1",), child_context_of(call()), ["call_id", "sequence_id"]),
        # ... an unknown contact and no sequence: only the recording.
        (call(unknown=True, sequence=None), None, (), None, ["call_id"]),
        # Unchanged, no refresh this run: nothing.
        (call(changed=False), None, (), None, []),
        # Unchanged, its contact's turn: the contact alone, in a context no other child reads.
        (
            call(changed=False),
            {"k1"},
            (),
            {"call_id": None, "contact_id": "k1", "sequence_id": None},
            ["contact_id"],
        ),
        # Unchanged, another contact's turn: nothing.
        (call(changed=False), {"k2"}, (), None, []),
        # Unchanged, its contact due but already read this run: nothing.
        (call(changed=False), {"k1"}, ("k1",), None, []),
        # Unchanged, no contact: nothing.
        (call(changed=False, contact=None), {"k1"}, (), None, []),
    ],
    ids=[
        "changed",
        "contact-read",
        "recording-only",
        "unchanged",
        "contact-due",
        "other-due",
        "due-but-read",
        "no-contact",
    ],
)
def test_one_plan_per_call(the_call, due, read_contacts, context, readers):
    plan, kids = fan_out(due=due, read_contacts=read_contacts)
    reads = plan.plan(the_call)
    if not readers:
        assert reads is None
        assert list(plan.contexts(the_call)) == []
        return
    assert [reader.key for reader in reads.readers] == readers
    if context is not None:
        assert reads.context == context
    # The SDK's child sync gets that context, and the requests ahead go to those readers.
    assert list(plan.contexts(the_call)) == [reads.context]
    plan.fetch_ahead([the_call])
    assert {key for key, kid in kids.items() if kid.started} == set(readers)
    assert all(kid.started == [reads.context] for kid in kids.values() if kid.started)


def test_without_children_in_use_no_call_is_handed_on():
    plan, _ = fan_out(children=())
    assert plan.plan(call()) is None


def test_the_context_names_the_call_its_known_contact_its_sequence():
    assert child_context_of(call()) == {
        "call_id": "c1",
        "contact_id": "k1",
        "sequence_id": "s1",
        "ended_at": "2026-01-01T00:00:00.000Z",
        "deleted_at": None,
    }
    assert child_context_of({**call(), "deletedAt": "x"})["deleted_at"] == "x"
    assert child_context_of(call(unknown=True))["contact_id"] is None
    assert child_context_of(call(contact=None))["contact_id"] is None
