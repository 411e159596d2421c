"""A steady load through the service while the primary dies, and what it must leave behind.

Three threads run what a lab's day runs: patient creations, specimen entries and
audited reads, each through ``PatientService`` on the one running ``Core``, as
the web server does (a buffered trail, and ``core.settle()`` before an answer).
An operation is *acknowledged* when both returned: that is when the server would
answer the person. Each operation carries its own purpose (``load <n>``), so its
audit event can be found, and counted, afterwards.

``check`` then asks: is every acknowledged record stored, is every acknowledged
event in the log exactly once, is no event body stored twice, and does the log
verify along with the vault's revisions (every stored value is its last logged
write)? Used by tests/service/test_failover.py and bench/failover.py.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from sqlalchemy import select

from etanche.access import Action, Actor, Role
from etanche.audit import Outcome
from etanche.domain import Patient, Specimen
from etanche.service import Core, PatientService, Revisions
from etanche.synth import SynthNetwork
from etanche.vault import patients_table, specimens_table

CLERK = "load.biologist"


@dataclass
class Acked:
    action: str
    purpose: str
    record: str  # the patient or specimen id the operation wrote or read
    at: float  # time.monotonic() of the acknowledgement


@dataclass
class Load:
    """What the threads did: acknowledged operations, failures by kind."""

    acked: list[Acked] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    killed_at: float | None = None

    def ack(self, action: Action, purpose: str, record: str) -> None:
        with self.lock:
            self.acked.append(Acked(action.value, purpose, record, time.monotonic()))

    def fail(self, exc: BaseException) -> None:
        with self.lock:
            self.failures[type(exc).__name__] += 1

    def writes(self) -> int:
        return sum(a.action != Action.PATIENT_READ.value for a in self.acked)

    def failover_s(self) -> float | None:
        """From the kill to the first write acknowledged after it."""
        if self.killed_at is None:
            return None
        after = [
            a.at
            for a in self.acked
            if a.at > self.killed_at and a.action != Action.PATIENT_READ.value
        ]
        return min(after) - self.killed_at if after else None


class Runner:
    """The three load threads on one core; ``start``, then ``stop``."""

    def __init__(self, core: Core, network: SynthNetwork, *, seed: int = 16) -> None:
        self.core = core
        labs = frozenset(lab.id for lab in network.labs)
        self.actor = Actor(CLERK, "u-load", Role.BIOLOGIST, labs)
        self.load = Load()
        self._todo: deque[tuple[Patient, list[Specimen]]] = deque(
            (p, list(s)) for batch in network.batches() for p, s in batch
        )
        self._specimens: deque[Specimen] = deque()
        self._stored: list[str] = []
        self._random = random.Random(seed)
        self._numbers = itertools.count()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(step,), name=f"load-{step.__name__}")
            for step in (self._create, self._specimen, self._read)
        ]

    def start(self) -> Runner:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> Load:
        self._stop.set()
        for thread in self._threads:
            thread.join(120)
        self.core.settle()
        return self.load

    def _service(self) -> tuple[PatientService, str]:
        purpose = f"load {next(self._numbers)}"
        vault = self.core.vault.session(())
        return PatientService(vault, self.core.trail, self.actor, purpose=purpose), purpose

    def _loop(self, step: object) -> None:
        while not self._stop.is_set():
            try:
                if not step():  # type: ignore[operator]
                    time.sleep(0.01)
            except Exception as exc:  # not acknowledged: the person would see an error
                self.load.fail(exc)
                time.sleep(0.05)

    def _create(self) -> bool:
        if not self._todo:
            return False
        patient, specimens = self._todo.popleft()  # never offered twice, landed or not
        service, purpose = self._service()
        service.add(patient)
        self.core.settle()
        self.load.ack(Action.PATIENT_CREATE, purpose, patient.id)
        with self.load.lock:
            self._stored.append(patient.id)
        self._specimens.extend(specimens)
        return True

    def _specimen(self) -> bool:
        if not self._specimens:
            return False
        specimen = self._specimens.popleft()
        service, purpose = self._service()
        service.add_specimen(specimen)
        self.core.settle()
        self.load.ack(Action.SPECIMEN_CREATE, purpose, specimen.id)
        return True

    def _read(self) -> bool:
        with self.load.lock:
            if not self._stored:
                return False
            patient_id = self._random.choice(self._stored)
        service, purpose = self._service()
        service.get(patient_id)
        self.core.settle()
        self.load.ack(Action.PATIENT_READ, purpose, patient_id)
        return True


@dataclass(frozen=True)
class Verdict:
    acknowledged_lost: int
    duplicates: int
    log_ok: bool
    problems: list[str]


def check(core: Core, load: Load, auditor: Actor) -> Verdict:
    """Every acknowledged write and event present exactly once; the log and vault verify."""
    core.settle()
    engine = core.vault.engine
    with engine.connect() as conn:
        patients = {r for (r,) in conn.execute(select(patients_table.c.id))}
        specimens = {r for (r,) in conn.execute(select(specimens_table.c.id))}
    events = [e for _, e in core.trail.log.events(limit=10_000_000)]
    ours = Counter(
        (e.purpose, e.action)
        for e in events
        if e.outcome == Outcome.OK and e.purpose and e.purpose.startswith("load ")
    )
    bodies = Counter(e.canonical() for e in events)
    lost = 0
    duplicates = sum(n - 1 for n in bodies.values() if n > 1)
    for op in load.acked:
        stored = {
            Action.PATIENT_CREATE.value: op.record in patients,
            Action.SPECIMEN_CREATE.value: op.record in specimens,
            Action.PATIENT_READ.value: True,
        }[op.action]
        logged = ours[(op.purpose, op.action)]
        lost += int(not stored) + int(logged == 0)
        duplicates += max(0, logged - 1)
    report = Revisions(core.vault, core.trail, auditor, client="failover check").verify()
    return Verdict(lost, duplicates, report.ok, report.problems()[:10])
