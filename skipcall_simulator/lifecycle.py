"""What happens to an account between two syncs without its calls changing.

The docs do not say which changes move a call's ``updatedAt`` (REFERENCE §2.12); here, by
default, none of these do (``SimulatorConfig.touch_call_on_transcription`` switches the
transcription one on):

* calls end with a recording whose transcription is still ``PENDING`` and finish later,
  some with no recording yet (a 404 until it is attached);
* contacts are edited by a CRM sync (HubSpot, Pipedrive): new email and company;
* sequence contacts move on (a new status) or are removed from their sequence.

Tests drive it day by day (:meth:`Lifecycle.day`), so that weeks pass in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from skipcall_simulator.data import COMPANIES, iso

if TYPE_CHECKING:
    from skipcall_simulator.server import Simulator

UTTERANCE = {"speaker": 0, "text": "Hello.", "start": 0, "end": 1, "confidence": 0.9}
SEQUENCE_STATUSES = ["IN_PROGRESS", "REPLIED", "MEETING_BOOKED", "NOT_INTERESTED", "FINISHED"]


@dataclass
class Lifecycle:
    """Events of one account, applied to a simulator's data under its lock."""

    api: Simulator
    #: Recordings not attached yet: call id → the recording to attach.
    late_recordings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def end_calls(self, count: int, *, late_recording_share: float = 0.2) -> list[str]:
        """Calls that just ended: a recording whose transcription is still ``PENDING``."""
        data = self.api.data
        with data.lock:
            ended = []
            for _ in range(count):
                moment = data.clock.now()
                call = data._new_call(moment - timedelta(minutes=5), updated=moment)
                call["status"], call["startedAt"] = "completed", iso(moment - timedelta(minutes=5))
                call["endedAt"] = iso(moment - timedelta(seconds=10))
                data.recordings[call["id"]] = {
                    "id": data.new_id(),
                    "duration": 290,
                    "startTime": call["startedAt"],
                    "hasTranscription": True,
                    "transcriptionStatus": "PENDING",
                }
                data.transcriptions[call["id"]] = {
                    "id": data.new_id(),
                    "status": "PENDING",
                    "transcript": None,
                    "summary": None,
                    "startedAt": None,
                    "endedAt": None,
                }
                if data.rng.random() < late_recording_share:
                    self.late_recordings[call["id"]] = data.recordings.pop(call["id"])
                ended.append(call["id"])
            data.version += 1
            return ended

    def attach_late_recordings(self) -> list[str]:
        """The recordings that were not there yet appear (the calls do not change)."""
        data = self.api.data
        with data.lock:
            attached = list(self.late_recordings)
            data.recordings.update(self.late_recordings)
            self.late_recordings.clear()
            data.version += 1
            return attached

    def finish_transcriptions(self, share: float = 1.0) -> list[str]:
        """Transcriptions still running complete (or fail), without their call changing."""
        data = self.api.data
        with data.lock:
            running = sorted(
                cid
                for cid, t in data.transcriptions.items()
                if t["status"] in ("PENDING", "IN_PROGRESS") and cid in data.recordings
            )
            chosen = data.rng.sample(running, int(len(running) * share))
            for call_id in chosen:
                status = "FAILED" if data.rng.random() < 0.1 else "COMPLETED"
                done = iso(data.clock.now())
                data.transcriptions[call_id].update(
                    status=status,
                    transcript=None
                    if status == "FAILED"
                    else [
                        {"speaker": 0, "text": "Hello.", "start": 0, "end": 1, "confidence": 0.9}
                    ],
                    summary=None if status == "FAILED" else "A short call about pricing.",
                    startedAt=data.transcriptions[call_id]["startedAt"] or done,
                    endedAt=done,
                )
                data.recordings[call_id]["transcriptionStatus"] = status
                if self.api.config.touch_call_on_transcription and call_id in data.calls:
                    data.calls[call_id]["updatedAt"] = done
            data.version += 1
            return chosen

    def crm_edits(self, count: int) -> list[str]:
        """Contacts edited by a CRM sync: email and company change, no call does."""
        data = self.api.data
        with data.lock:
            called = sorted(
                {
                    call["contact"]["id"]
                    for call in data.calls.values()
                    if call["contact"] and not call["contact"]["isUnknown"]
                }
            )
            chosen = data.rng.sample(called, min(count, len(called)))
            for contact_id in chosen:
                contact = data.contacts[contact_id]
                company = data.rng.choice(COMPANIES)
                contact.update(
                    email=f"{contact['firstName'].lower()}.{data.version}@{company.lower()}.com",
                    company=company,
                    updatedAt=iso(data.clock.now()),
                    lastModificationSource=data.rng.choice(["HUBSPOT", "PIPEDRIVE"]),
                )
            data.version += 1
            return chosen

    def sequences_move_on(self, count: int) -> list[tuple[str, str]]:
        """Sequence contacts get a new status (no call in their sequence changes)."""
        data = self.api.data
        with data.lock:
            pairs = sorted(
                (sid, cid) for sid, s in data.sequences.items() for cid in set(s["contactIds"])
            )
            chosen = data.rng.sample(pairs, min(count, len(pairs)))
            for pair in chosen:
                data.sequence_status[pair] = data.rng.choice(SEQUENCE_STATUSES)
            data.version += 1
            return chosen

    def day(self, *, ended: int = 15, crm: int = 3, sequences: int = 3) -> None:
        """One day of the account, between two daily syncs.

        Yesterday's late recordings appear and transcriptions finish, contacts and sequence
        contacts change on their own, and calls end shortly before the next sync.
        """
        self.attach_late_recordings()
        self.finish_transcriptions()
        self.crm_edits(crm)
        self.sequences_move_on(sequences)
        self.end_calls(ended)
