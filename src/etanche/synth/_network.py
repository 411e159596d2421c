"""The synthetic lab network: a lazy, deterministic stream of patients and specimens.

The stream is cut into cycles of ``DECK_SIZE`` patients. Each cycle has its own
seeded RNGs and a shuffled "deck" telling, slot by slot, which lab registered the
patient and which other labs saw them. Because every lab appears the same number
of times in every cycle, a patient's lab-local number (dossier, accession) is a
closed formula of its index: no global state, bounded memory, and any patient's
specimens can be regenerated from the patient alone (its id decodes to its index).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property, lru_cache

from etanche.domain import IdentityStatus, Lab, Patient, Physician, Sex, Specimen
from etanche.errors import UsageError
from etanche.synth._dirt import typo, wrong_nir_key
from etanche.synth._ids import IdCipher, derive_seed, mix64, v7_hex
from etanche.synth._labs import build_labs
from etanche.synth._names import name_pools
from etanche.synth._people import LabArea, PersonFactory, age_on, lab_areas
from etanche.synth._places import COMMUNES_BY_NAME, REGION_OF_DEPT
from etanche.synth._twins import (
    CHILD_ON_PARENT_NIR,
    DUPLICATE,
    ORIGINAL,
    POOL_SIZE,
    DuplicateMix,
    Truth,
    child_on,
    vary,
)

DECK_SIZE = 1_000
MULTI_LAB_RATE = 0.15  # patients with specimens in 1-2 labs besides their own

# Specimens per patient (1..8) and specimen types, as urns.
_COUNT_URN: tuple[int, ...] = tuple(
    n
    for n, w in ((1, 28), (2, 20), (3, 14), (4, 11), (5, 9), (6, 7), (7, 6), (8, 5))
    for _ in range(w)
)
_TYPE_URN: tuple[str, ...] = tuple(
    t
    for t, w in (
        ("sang veineux", 700),
        ("urine", 180),
        ("selles", 30),
        ("écouvillon nasopharyngé", 40),
        ("prélèvement vaginal", 25),
        ("sang capillaire", 20),
        ("LCR", 2),
    )
    for _ in range(w)
)
_PHONE_COMMENTS = frozenset({"Ne pas appeler avant 10h", "Prévenir si résultat anormal"})
_COVID_ORD = date(2020, 3, 1).toordinal()
_ACC_MULT = 48_271  # coprime with 10: scrambles lab-local numbers bijectively


@dataclass(frozen=True)
class SynthConfig:
    """What to generate; the dirt knobs are fractions of patients, 0.0 meaning clean."""

    patients: int = 491_840
    labs: int = 30
    seed: int = 0
    specimens_start: date = date(2015, 1, 1)
    specimens_end: date = date(2020, 10, 31)
    invalid_nir_key: float = 0.0  # share of NIRs given a wrong check key
    typos: float = 0.0  # a typo in birth name or first name
    missing_fields: float = 0.0  # each of phone/email/address/physician/insurance dropped
    duplicates_across_labs: float = 0.0  # share of records re-registering a person elsewhere
    duplicates: float = 0.0  # share of records registering an earlier person again, with faults
    child_on_parent_nir: float = 0.0  # share of minors registered under a parent's NIR
    duplicate_mix: DuplicateMix = field(default_factory=DuplicateMix)

    def __post_init__(self) -> None:
        if self.patients < 0:
            raise UsageError("patients: must be >= 0")
        if self.labs < 1:
            raise UsageError("labs: must be >= 1")
        if self.specimens_start > self.specimens_end:
            raise UsageError("specimens_start: must not be after specimens_end")
        for name in (
            "invalid_nir_key",
            "typos",
            "missing_fields",
            "duplicates_across_labs",
            "duplicates",
            "child_on_parent_nir",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise UsageError(f"{name}: must be a fraction in [0, 1]")


@dataclass(frozen=True, slots=True)
class _Deck:
    """One cycle's arrangement: per slot, home lab, visited labs and lab-local ranks."""

    homes: tuple[int, ...]
    others: tuple[tuple[int, ...], ...]
    home_rank: tuple[int, ...]
    visit_rank: tuple[tuple[int, ...], ...]


class _Engine:
    """Everything derived from the config once: labs, pools, base deck, number spaces."""

    def __init__(self, config: SynthConfig, labs: tuple[Lab, ...], weights: tuple[int, ...]):
        self.config = config
        self.labs = labs
        self.cipher = IdCipher(config.seed)
        self.spec_key = derive_seed(config.seed, "specimens")
        self.deck_size = max(DECK_SIZE, 10 * len(labs))
        self.cycles = -(-config.patients // self.deck_size)
        self._base_deck(weights)

    def _base_deck(self, weights: tuple[int, ...]) -> None:
        rng = random.Random(derive_seed(self.config.seed, "deck"))
        n, size = len(self.labs), self.deck_size
        total = sum(weights)
        # Largest-remainder apportionment of the deck's slots between labs.
        exact = [size * w / total for w in weights]
        counts = [max(1, int(e)) for e in exact]
        by_remainder = sorted(range(n), key=lambda i: int(counts[i]) - exact[i])
        k = 0
        while sum(counts) < size:
            counts[by_remainder[k % n]] += 1
            k += 1
        while sum(counts) > size:
            biggest = max(range(n), key=counts.__getitem__)
            counts[biggest] -= 1
        homes = [lab for lab in range(n) for _ in range(counts[lab])]
        rng.shuffle(homes)
        depts = [COMMUNES_BY_NAME[lab.city].dept for lab in self.labs]
        others: list[tuple[int, ...]] = []
        for home in homes:
            if n == 1 or rng.random() >= MULTI_LAB_RATE:
                others.append(())
                continue
            region = REGION_OF_DEPT[depts[home]]
            near = [i for i in range(n) if i != home and REGION_OF_DEPT[depts[i]] == region]
            anywhere = [i for i in range(n) if i != home]
            want = 1 if rng.random() < 0.8 or n == 2 else 2
            chosen: list[int] = []
            while len(chosen) < want:
                pool = near if near and rng.random() < 0.7 else anywhere
                pick = pool[int(rng.random() * len(pool))]
                if pick not in chosen:
                    chosen.append(pick)
            others.append(tuple(chosen))
        self.base_homes = tuple(homes)
        self.base_others = tuple(others)
        self.home_count = tuple(counts)
        visits = [0] * n
        for labs in others:
            for lab in labs:
                visits[lab] += 1
        self.visit_count = tuple(visits)
        # Lab-local numbers: home patients first, then visitors; digits for the largest.
        self.home_capacity = tuple(self.cycles * c for c in counts)
        largest = max(
            (self.home_capacity[i] + self.cycles * visits[i] for i in range(n)), default=0
        )
        self.acc_digits = max(5, len(str(max(largest - 1, 0))))
        self.acc_modulus = 10**self.acc_digits

    @cached_property
    def factory(self) -> PersonFactory:
        pools = name_pools(self.config.seed)
        return PersonFactory(pools, self.config.specimens_start, self.config.specimens_end)

    @cached_property
    def areas(self) -> tuple[LabArea, ...]:
        rng = random.Random(derive_seed(self.config.seed, "areas"))
        return lab_areas(self.labs, self.factory.pools, rng)

    @lru_cache(maxsize=4)  # noqa: B019 - the engine lives as long as its network
    def deck(self, cycle: int) -> _Deck:
        """The base deck shuffled for ``cycle``, with lab-local ranks within it."""
        order = list(range(self.deck_size))
        random.Random(derive_seed(self.config.seed, "cycle-deck", cycle)).shuffle(order)
        homes = tuple(self.base_homes[i] for i in order)
        others = tuple(self.base_others[i] for i in order)
        n = len(self.labs)
        home_seen = [0] * n
        visit_seen = [0] * n
        home_rank: list[int] = []
        visit_rank: list[tuple[int, ...]] = []
        for home, labs in zip(homes, others, strict=True):
            home_rank.append(home_seen[home])
            home_seen[home] += 1
            ranks = []
            for lab in labs:
                ranks.append(visit_seen[lab])
                visit_seen[lab] += 1
            visit_rank.append(tuple(ranks))
        return _Deck(homes, others, tuple(home_rank), tuple(visit_rank))

    # -- patients ---------------------------------------------------------------

    def cycle_patients(self, cycle: int) -> Iterator[Patient]:
        """The patients of one cycle, in stream order."""
        for patient, _ in self.cycle_records(cycle):
            yield patient

    def cycle_records(self, cycle: int) -> Iterator[tuple[Patient, Truth]]:
        """The patients of one cycle with the truth about each (which person it is)."""
        cfg = self.config
        size = self.deck_size
        first = cycle * size
        stop = min(cfg.patients, first + size)
        deck = self.deck(cycle)
        factory = self.factory
        areas = self.areas
        encode = self.cipher.encode
        rng = random.Random(derive_seed(cfg.seed, "cycle", cycle))
        dirt = random.Random(derive_seed(cfg.seed, "dirt", cycle))
        # A separate stream for the duplicate knobs: the other draws stay as they were.
        twins = random.Random(derive_seed(cfg.seed, "twins", cycle))
        pool: list[Patient] = []  # recent originals, newest last
        recent: list[Patient] = []  # originals a duplicate may copy, newest last
        for index in range(first, stop):
            lab = deck.homes[index - first]
            patient = factory.person(
                rng, encode(index), areas[lab], dirt=dirt, missing=cfg.missing_fields
            )
            if cfg.duplicates_across_labs and dirt.random() < cfg.duplicates_across_labs:
                original = next((p for p in reversed(recent) if p.lab_id != patient.lab_id), None)
                if original is not None:
                    recent.remove(original)  # registered again once, not in every lab
                    yield (
                        self._duplicate(dirt, original, patient),
                        Truth(patient.id, original.id, DUPLICATE),
                    )
                    continue
            if cfg.typos and dirt.random() < cfg.typos:
                patient = _with_typo(dirt, patient)
            if cfg.invalid_nir_key and patient.nir and dirt.random() < cfg.invalid_nir_key:
                patient = replace(patient, nir=wrong_nir_key(dirt, patient.nir))
            twin = self._twin(twins, pool, patient)
            if twin is not None:
                yield twin
                continue
            if cfg.duplicates_across_labs:
                recent.append(patient)
                if len(recent) > 8:
                    del recent[0]
            yield patient, Truth(patient.id, patient.id, ORIGINAL)

    def _twin(
        self, rng: random.Random, pool: list[Patient], slot: Patient
    ) -> tuple[Patient, Truth] | None:
        """The slot given to a duplicate or a child on a parent's NIR, or None (an original)."""
        cfg = self.config
        if not (cfg.duplicates or cfg.child_on_parent_nir):
            return None
        if cfg.duplicates and rng.random() < cfg.duplicates:
            same = rng.random() < cfg.duplicate_mix.same_lab
            original = next((p for p in reversed(pool) if (p.lab_id == slot.lab_id) == same), None)
            if original is not None:
                pool.remove(original)  # one second record per person
                dup = vary(rng, self._duplicate(rng, original, slot), cfg.duplicate_mix)
                return dup, Truth(slot.id, original.id, DUPLICATE)
        if cfg.child_on_parent_nir and rng.random() < cfg.child_on_parent_nir:
            for parent in reversed(pool):
                child = child_on(parent, slot)
                if child is not None:
                    return child, Truth(slot.id, slot.id, CHILD_ON_PARENT_NIR)
        pool.append(slot)
        if len(pool) > POOL_SIZE:
            del pool[0]
        return None

    def _duplicate(self, dirt: random.Random, original: Patient, slot: Patient) -> Patient:
        """``original`` registered again by ``slot``'s lab under ``slot``'s id."""
        cfg = self.config
        assert original.last_visit is not None
        lo = max(cfg.specimens_start, original.birth_date).toordinal()
        hi = cfg.specimens_end.toordinal()
        day = original.last_visit.toordinal() + int(dirt.random() * 181) - 90
        last_visit = date.fromordinal(min(hi, max(lo, day)))
        if original.clinical.pregnant and not 18 <= age_on(original.birth_date, last_visit) <= 45:
            last_visit = original.last_visit
        nir = original.nir if dirt.random() >= 0.15 else None
        # Registered at a desk that did not check the document or call INSi.
        status = IdentityStatus.PROVISIONAL if dirt.random() < 0.5 else IdentityStatus.VALIDATED
        phones = original.phones if dirt.random() >= 0.3 else ()
        clinical = original.clinical
        if not phones:  # keep the comments consistent: no call advice without a phone
            kept = tuple(c for c in clinical.comments if c not in _PHONE_COMMENTS)
            clinical = replace(clinical, comments=kept)
        dup = replace(
            original,
            id=slot.id,
            lab_id=slot.lab_id,
            nir=nir,
            identity_status=status,
            last_visit=last_visit,
            phones=phones,
            clinical=clinical,
        )
        if dirt.random() < 0.3:
            dup = _with_typo(dirt, dup)
        return dup

    # -- specimens --------------------------------------------------------------

    def locate(self, patient: Patient) -> int:
        """The stream index of a patient of this network (its id decodes to it)."""
        try:
            index = self.cipher.decode(patient.id)
        except ValueError:
            index = -1
        if not 0 <= index < self.config.patients:
            raise ValueError("patient id: not a patient of this synthetic network")
        cycle, slot = divmod(index, self.deck_size)
        if self.labs[self.deck(cycle).homes[slot]].id != patient.lab_id:
            raise ValueError("patient lab_id: not the lab this network gave the patient")
        return index

    def dossier(self, index: int) -> int:
        """Lab-local patient number (from 1) in the patient's home lab."""
        cycle, slot = divmod(index, self.deck_size)
        deck = self.deck(cycle)
        lab = deck.homes[slot]
        return cycle * self.home_count[lab] + deck.home_rank[slot] + 1

    def specimens(self, index: int, patient: Patient) -> list[Specimen]:
        """1-8 specimens up to the last visit, in the home lab and the visited labs."""
        cfg = self.config
        cycle, slot = divmod(index, self.deck_size)
        deck = self.deck(cycle)
        home = deck.homes[slot]
        # Lab-local numbers of this patient: its dossier at home, a visitor number elsewhere.
        numbers = {home: cycle * self.home_count[home] + deck.home_rank[slot]}
        for lab, rank in zip(deck.others[slot], deck.visit_rank[slot], strict=True):
            numbers[lab] = self.home_capacity[lab] + cycle * self.visit_count[lab] + rank
        visited = deck.others[slot]

        rng = random.Random(mix64(self.spec_key ^ index))
        rnd = rng.random
        count = max(_COUNT_URN[int(rnd() * len(_COUNT_URN))], 1 + len(visited))
        assert patient.last_visit is not None
        hi = patient.last_visit.toordinal()
        lo = min(hi, max(cfg.specimens_start.toordinal(), patient.birth_date.toordinal()))
        # (day, lab) pairs: at most one specimen per lab and day keeps accessions unique.
        plan = {(hi, home)}
        for k in range(count - 1):
            lab = visited[k] if k < len(visited) else home
            if k >= len(visited) and visited and rnd() < 0.35:
                lab = visited[int(rnd() * len(visited))]
            plan.add((lo + int(rnd() * (hi - lo + 1)), lab))

        areas = self.areas
        labs = self.labs
        female = patient.sex is Sex.FEMALE
        physician = patient.physician
        patient_id = patient.id
        modulus = self.acc_modulus
        digits = self.acc_digits
        n_types = len(_TYPE_URN)
        getrandbits = rng.getrandbits
        created = self.cipher.millis(index)  # the patient's clock: its specimens sort beside it
        out: list[Specimen] = []
        for day, lab in sorted(plan):
            when = date.fromordinal(day)
            kind = _TYPE_URN[int(rnd() * n_types)]
            if day >= _COVID_ORD and rnd() < 0.2:
                kind = "écouvillon nasopharyngé"
            elif kind == "prélèvement vaginal" and not female:
                kind = "urine"
            hour = 7 + int(rnd() * rnd() * 11)  # mornings are busier
            prescriber: Physician | None
            if physician is not None and rnd() < 0.7:
                prescriber = physician
            elif rnd() < 0.95:
                pool = areas[lab].physicians
                prescriber = pool[int(rnd() * len(pool))]
            else:
                prescriber = None
            local = (numbers[lab] * _ACC_MULT + day * 7_919) % modulus
            lab_id = labs[lab].id
            y, m, d = when.year, when.month, when.day
            out.append(
                Specimen(
                    id=v7_hex(created, getrandbits(128)),
                    patient_id=patient_id,
                    lab_id=lab_id,
                    accession=f"{lab_id}{y % 100:02d}{m:02d}{d:02d}{local:0{digits}d}",
                    collected_at=datetime(y, m, d, hour, int(rnd() * 60)),
                    specimen_type=kind,
                    prescriber=prescriber,
                )
            )
        return out


def _with_typo(rng: random.Random, patient: Patient) -> Patient:
    if rng.random() < 0.6 or not patient.first_names:
        return replace(patient, birth_name=typo(rng, patient.birth_name))
    firsts = (typo(rng, patient.first_names[0]), *patient.first_names[1:])
    return replace(patient, first_names=firsts)


@dataclass(frozen=True)
class SynthNetwork:
    """A synthetic lab network; patients are generated lazily, on iteration."""

    config: SynthConfig
    labs: tuple[Lab, ...]
    _engine: _Engine = field(repr=False, compare=False)

    def patients(self) -> Iterator[Patient]:
        """All patients in stream order; deterministic for the seed, bounded memory."""
        engine = self._engine
        for cycle in range(engine.cycles):
            yield from engine.cycle_patients(cycle)

    def truth(self) -> Iterator[Truth]:
        """Which person each record is, in stream order: for measuring linkage only."""
        engine = self._engine
        for cycle in range(engine.cycles):
            for _, truth in engine.cycle_records(cycle):
                yield truth

    def specimens(self, patient: Patient) -> list[Specimen]:
        """The specimens of a patient of this network, the same on every call."""
        return self._engine.specimens(self._engine.locate(patient), patient)

    def batches(self, size: int = 10_000) -> Iterator[list[tuple[Patient, list[Specimen]]]]:
        """Patients with their specimens, ``size`` at a time (the last batch may be short)."""
        if size < 1:
            raise UsageError("size: must be >= 1")
        engine = self._engine
        batch: list[tuple[Patient, list[Specimen]]] = []
        for cycle in range(engine.cycles):
            index = cycle * engine.deck_size
            for patient in engine.cycle_patients(cycle):
                batch.append((patient, engine.specimens(index, patient)))
                index += 1
                if len(batch) == size:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def dossier_number(self, patient: Patient) -> str:
        """The patient's lab-local file number ("N° dossier") in its home lab."""
        return f"{self._engine.dossier(self._engine.locate(patient)):07d}"


def generate(config: SynthConfig) -> SynthNetwork:
    """A network for ``config``: labs now, patients when iterated."""
    rng = random.Random(derive_seed(config.seed, "labs"))
    labs, weights = build_labs(config.labs, rng)
    return SynthNetwork(config=config, labs=labs, _engine=_Engine(config, labs, weights))
