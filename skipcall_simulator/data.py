"""Deterministic Skipcall data: workspaces, users, contacts, calls and what hangs off them.

Everything is generated from one seed so that two simulators built with the same
arguments serve byte-identical answers. Mutations (updates, creations, soft-deletes)
stamp ``updatedAt`` from a clock that never goes backwards, like a real database.
"""

from __future__ import annotations

import copy
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

FIRST_NAMES = [
    "Alice",
    "Bruno",
    "Chloé",
    "David",
    "Emma",
    "Farid",
    "Gaëlle",
    "Hugo",
    "Inès",
    "Jules",
    "Karim",
    "Léa",
    "Marc",
    "Nora",
    "Olivier",
    "Paula",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark"]
CALL_STATUSES = [
    "completed",
    "completed",
    "completed",
    "no-answer",
    "busy",
    "failed",
    "voicemail",
    "canceled",
]
TRANSCRIPTION_STATUSES = ["COMPLETED", "COMPLETED", "COMPLETED", "PENDING", "IN_PROGRESS", "FAILED"]
#: Notes a rep writes about the person called (with ``personal_text``).
PERSONAL_NOTES = [
    "rappeler au {number}",
    "{first} {last} veut un devis, mail: {email}",
    "Messagerie de {first}. Rappeler {number} demain.",
    "RDV avec {last} ({email}), tel {number}",
]


def spoken_number(e164: str, rng: random.Random) -> str:
    """A French number as people write it: national or international, any spacing."""
    digits = e164.removeprefix("+33")
    national = "0" + digits
    forms = [
        " ".join(national[i : i + 2] for i in range(0, 10, 2)),  # 06 12 34 56 78
        ".".join(national[i : i + 2] for i in range(0, 10, 2)),  # 06.12.34.56.78
        national,  # 0612345678
        "+33 " + digits[0] + " " + " ".join(digits[i : i + 2] for i in range(1, 9, 2)),
        e164,
        "-".join(national[i : i + 2] for i in range(0, 10, 2)),  # 06-12-34-56-78
    ]
    return rng.choice(forms)


SENTENCES = [
    "Hello, this is {caller} from Skipcall.",
    "Do you have two minutes?",
    "We help sales teams call more prospects.",
    "Sure, tell me more.",
    "Could you send me an email?",
    "Let's book a demo next week.",
    "I'm not interested, thanks.",
    "Who is your current provider?",
]


def iso(moment: datetime) -> str:
    """Render a timestamp the way the API does: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


class MonotonicClock:
    """Server clock for ``updatedAt``: wall time, but strictly increasing per millisecond.

    ``offset`` moves it ahead, so that tests can live days in seconds (with the tap's own
    clock moved as far).
    """

    def __init__(self) -> None:
        self._last = datetime(1970, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()
        self.offset = timedelta(0)

    def now(self) -> datetime:
        with self._lock:
            current = datetime.fromtimestamp(time.time(), tz=UTC) + self.offset
            current = current.replace(microsecond=current.microsecond // 1000 * 1000)
            if current <= self._last:
                current = self._last + timedelta(milliseconds=1)
            self._last = current
            return current


@dataclass
class Dataset:
    """All entities the simulator serves, keyed by id."""

    seed: int = 1
    n_calls: int = 200
    n_workspaces: int = 3
    clock: MonotonicClock = field(default_factory=MonotonicClock)
    workspaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    sequences: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    call_workspace: dict[str, str] = field(default_factory=dict)
    recordings: dict[str, dict[str, Any]] = field(default_factory=dict)
    transcriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: A sequence contact's status once it moved on: (sequence id, contact id) → status.
    sequence_status: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Notes, transcripts and summaries that name the people on the call, their numbers (in
    #: national and international forms, any spacing) and e-mails, as reps write and say them.
    #: Drawn from a random source of their own: every other value is as without it.
    personal_text: bool = False

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.lock = threading.RLock()
        self.version = 0
        self._build()
        if self.personal_text:
            self._write_personal_text(random.Random(self.seed + 101))

    # -- generation -------------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _phone(self) -> str:
        return "+336" + "".join(str(self.rng.randint(0, 9)) for _ in range(8))

    def _build(self) -> None:
        rng = self.rng
        org_id = self.new_id()
        self.organization_id = org_id
        for index in range(self.n_workspaces):
            workspace_id = self.new_id()
            self.workspaces[workspace_id] = {
                "id": workspace_id,
                "name": f"Team {['Paris', 'Lyon', 'Remote', 'Berlin', 'Madrid'][index % 5]}",
                "createdAt": iso(EPOCH - timedelta(days=300 - index)),
                "organizationId": org_id,
            }
        workspace_ids = list(self.workspaces)
        for index in range(max(4, self.n_workspaces * 4)):
            membership_id = self.new_id()
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            self.users[membership_id] = {
                "organizationMembershipId": membership_id,
                "id": self.new_id(),
                "firstName": first,
                "lastName": last,
                "email": f"{first.lower()}.{last.lower()}{index}@example.com",
                "role": rng.choice(["ADMIN", "MANAGER", "MEMBER", "MEMBER"]),
                "workspaceIds": sorted(
                    rng.sample(workspace_ids, rng.randint(1, len(workspace_ids)))
                ),
            }
        for workspace_id in workspace_ids:
            self.members[workspace_id] = [
                {
                    "id": self.new_id(),
                    "organizationMembershipId": user["organizationMembershipId"],
                    "firstName": user["firstName"],
                    "lastName": user["lastName"],
                    "email": user["email"],
                    "status": rng.choice(["ACTIVE", "ACTIVE", "ACTIVE", "DISABLED"]),
                    "role": user["role"],
                }
                for user in self.users.values()
                if workspace_id in user["workspaceIds"]
            ]
        for _ in range(max(2, self.n_workspaces * 3)):
            sequence_id = self.new_id()
            self.sequences[sequence_id] = {
                "id": sequence_id,
                "workspaceId": rng.choice(workspace_ids),
                "contactIds": [],
            }
        for _ in range(max(5, self.n_calls // 4)):
            self._new_contact(
                rng.choice(workspace_ids), EPOCH - timedelta(days=rng.randint(1, 200))
            )
        moment = EPOCH
        for _ in range(self.n_calls):
            moment += timedelta(seconds=rng.randint(30, 900), milliseconds=rng.randint(0, 999))
            self._new_call(
                moment,
                updated=moment
                + timedelta(minutes=rng.randint(1, 40), milliseconds=rng.randint(0, 999)),
            )

    def _workspace_index(self) -> dict[str, dict[str, list[Any]]]:
        """Users, contacts and sequences per workspace (built once, after contacts exist)."""
        if getattr(self, "_index", None) is None:
            self._index = {
                wid: {
                    "users": [u for u in self.users.values() if wid in u["workspaceIds"]],
                    "contacts": [c for c in self.contacts.values() if c["teamId"] == wid],
                    "sequences": [s for s, q in self.sequences.items() if q["workspaceId"] == wid],
                }
                for wid in self.workspaces
            }
        return self._index

    def _new_contact(self, workspace_id: str, created: datetime) -> dict[str, Any]:
        rng = self.rng
        contact_id = self.new_id()
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.choice(COMPANIES)
        contact = {
            "id": contact_id,
            "firstName": first,
            "lastName": last,
            "phoneNumbers": [self._phone() for _ in range(rng.randint(1, 2))],
            "email": rng.choice([f"{first.lower()}@{company.lower()}.com", None]),
            "company": company,
            "city": rng.choice(["Paris", "Lyon", "Lille", None]),
            "country": "FR",
            "url": f"https://{company.lower()}.example",
            "linkedinUrl": None,
            "linkedinSalesUrl": None,
            "role": rng.choice(["CTO", "CEO", "Head of Sales", None]),
            "allowPhoneCalls": rng.random() > 0.1,
            "callCount": 0,
            "teamId": workspace_id,
            "customFields": {
                "Lead source": rng.choice(["Inbound", "Outbound", "Event"]),
                "Score": str(rng.randint(1, 100)),
            },
            "lastCallAt": None,
            "createdAt": iso(created),
            "updatedAt": iso(created),
            "lastModificationSource": rng.choice(["SKIPCALL", "API", "HUBSPOT", "PIPEDRIVE"]),
        }
        self.contacts[contact_id] = contact
        return contact

    def _new_call(self, created: datetime, *, updated: datetime) -> dict[str, Any]:
        rng = self.rng
        call_id = self.new_id()
        workspace_id = rng.choice(list(self.workspaces))
        index = self._workspace_index()[workspace_id]
        caller = rng.choice(index["users"] or list(self.users.values()))
        unknown = rng.random() < 0.08
        contact = None if unknown or not index["contacts"] else rng.choice(index["contacts"])
        sequence_ids = index["sequences"]
        in_sequence = bool(sequence_ids) and rng.random() < 0.5
        status = rng.choice(CALL_STATUSES)
        answered = status == "completed"
        started = None if status in {"failed", "canceled"} else created + timedelta(seconds=5)
        ended = None if started is None else started + timedelta(seconds=rng.randint(5, 1500))
        phone_number = contact["phoneNumbers"][0] if contact else self._phone()
        call: dict[str, Any] = {
            "id": call_id,
            "callType": "CALL_SESSION" if in_sequence else "DIRECT_CALL",
            "phoneNumberId": self.new_id(),
            "userProviderSid": "CA" + uuid.UUID(int=rng.getrandbits(128)).hex,
            "adminProviderSid": ("CA" + uuid.UUID(int=rng.getrandbits(128)).hex)
            if rng.random() < 0.3
            else None,
            "providerConferenceId": "CF" + uuid.UUID(int=rng.getrandbits(128)).hex,
            "status": status,
            "type": "inbound" if rng.random() < 0.15 else "outbound",
            "transferred": rng.random() < 0.05,
            "startedAt": iso(started) if started else None,
            "endedAt": iso(ended) if ended else None,
            "createdAt": iso(created),
            "updatedAt": iso(updated),
            "sequenceRunId": self.new_id() if in_sequence else None,
            "sequenceId": rng.choice(sequence_ids) if in_sequence else None,
            "syncedWithCrmDate": iso(updated) if rng.random() < 0.4 else None,
            "deletedAt": None,
            "organizationId": self.organization_id,
            "organizationMembershipId": caller["organizationMembershipId"],
            "managedPhoneNumberId": self.new_id(),
            "notes": rng.choice(["", "Call back next week", "Interested, send pricing", None]),
            "contact": None
            if contact is None and not unknown
            else {
                "id": contact["id"] if contact else self.new_id(),
                "firstName": contact["firstName"] if contact else "",
                "lastName": contact["lastName"] if contact else "",
                "isUnknown": contact is None,
            },
            "phoneNumber": {"value": phone_number},
            "caller": {"firstName": caller["firstName"], "lastName": caller["lastName"]},
            "callerPhoneNumber": {"value": self._phone()} if rng.random() < 0.95 else None,
        }
        if call["sequenceId"] and contact:
            self.sequences[call["sequenceId"]]["contactIds"].append(contact["id"])
        if contact:
            contact["callCount"] += 1
            contact["lastCallAt"] = call["startedAt"] or call["createdAt"]
        self.calls[call_id] = call
        self.call_workspace[call_id] = workspace_id
        if answered and ended and rng.random() < 0.7:
            self._new_recording(call_id, started, ended)  # type: ignore[arg-type]
        return call

    def _new_recording(self, call_id: str, started: datetime, ended: datetime) -> None:
        rng = self.rng
        has_transcription = rng.random() < 0.6
        status = rng.choice(TRANSCRIPTION_STATUSES) if has_transcription else None
        self.recordings[call_id] = {
            "id": self.new_id(),
            "duration": int((ended - started).total_seconds()),
            "startTime": iso(started),
            "hasTranscription": has_transcription,
            "transcriptionStatus": status,
        }
        if has_transcription:
            caller = self.calls[call_id]["caller"]["firstName"]
            utterances = []
            offset = 0.0
            for index in range(rng.randint(2, 8)):
                length = round(rng.uniform(1.0, 9.0), 2)
                utterances.append(
                    {
                        "speaker": index % 2,
                        "text": rng.choice(SENTENCES).format(caller=caller),
                        "start": round(offset, 2),
                        "end": round(offset + length, 2),
                        "confidence": round(rng.uniform(0.7, 0.99), 3),
                    }
                )
                offset += length + 0.4
            done = status in {"COMPLETED", "FAILED"}
            self.transcriptions[call_id] = {
                "id": self.new_id(),
                "status": status,
                "transcript": utterances if status == "COMPLETED" else None,
                "summary": "The prospect asked for a follow-up email."
                if status == "COMPLETED"
                else None,
                "startedAt": iso(ended + timedelta(seconds=10)) if status != "PENDING" else None,
                "endedAt": iso(ended + timedelta(seconds=70)) if done else None,
            }

    def _write_personal_text(self, rng: random.Random) -> None:
        """Notes and transcripts that say who is on the call, as people write and say it."""
        for call_id, call in self.calls.items():
            contact = self.contacts.get((call["contact"] or {}).get("id") or "")
            if contact is None:
                continue
            phone = rng.choice(contact["phoneNumbers"])
            said = spoken_number(phone, rng)
            first, last = contact["firstName"], contact["lastName"]
            email = contact["email"] or f"{first.lower()}.{last.lower()}@example.org"
            call["notes"] = rng.choice(PERSONAL_NOTES).format(
                number=said, first=first, last=last, email=email
            )
            transcription = self.transcriptions.get(call_id)
            if transcription and transcription["transcript"]:
                caller = call["caller"]["firstName"]
                lines = [
                    f"Bonjour {first} {last}, c'est {caller} de Skipcall.",
                    f"Je peux vous rappeler au {spoken_number(phone, rng)} ?",
                    f"Oui, ou écrivez-moi à {email.upper()}.",
                ]
                for utterance, line in zip(transcription["transcript"], lines, strict=False):
                    utterance["text"] = line
                transcription["summary"] = (
                    f"{first} {last} ({said}) asked {caller} for a follow-up e-mail at {email}."
                )

    # -- mutation (what happens while a client pages) ---------------------------------

    def update_calls(self, count: int, *, among: list[str] | None = None) -> list[str]:
        """Touch ``count`` existing calls (new notes, new ``updatedAt``)."""
        with self.lock:
            candidates = among if among is not None else sorted(self.calls)
            chosen = self.rng.sample(candidates, min(count, len(candidates)))
            for call_id in chosen:
                call = self.calls[call_id]
                call["notes"] = f"updated {self.version}"
                call["updatedAt"] = iso(self.clock.now())
            self.version += 1
            return chosen

    def create_calls(self, count: int) -> list[str]:
        """Add ``count`` new calls, stamped now."""
        with self.lock:
            created = []
            for _ in range(count):
                moment = self.clock.now()
                created.append(self._new_call(moment, updated=moment)["id"])
            self.version += 1
            return created

    def delete_calls(self, count: int, *, among: list[str] | None = None) -> list[str]:
        """Soft-delete ``count`` calls: ``deletedAt`` and ``updatedAt`` set to now."""
        with self.lock:
            candidates = (
                among
                if among is not None
                else sorted(cid for cid, call in self.calls.items() if call["deletedAt"] is None)
            )
            chosen = self.rng.sample(candidates, min(count, len(candidates)))
            for call_id in chosen:
                stamp = iso(self.clock.now())
                self.calls[call_id]["deletedAt"] = stamp
                self.calls[call_id]["updatedAt"] = stamp
            self.version += 1
            return chosen

    def erase_calls(self, count: int, *, among: list[str] | None = None) -> list[str]:
        """Erase ``count`` calls for good (a privacy request): gone from every endpoint."""
        with self.lock:
            candidates = among if among is not None else sorted(self.calls)
            chosen = self.rng.sample(candidates, min(count, len(candidates)))
            for call_id in chosen:
                del self.calls[call_id]
                self.recordings.pop(call_id, None)
                self.transcriptions.pop(call_id, None)
            self.version += 1
            return chosen

    def snapshot_calls(self) -> dict[str, dict[str, Any]]:
        """A deep copy of every call, for comparing what a client loaded with the truth."""
        with self.lock:
            return copy.deepcopy(self.calls)
