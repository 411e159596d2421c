"""Canaries that look like the exported lab's own patients, column by column.

A canary drawn by the synthetic generator alone carries the towns, insurance
offices, physicians and phone areas of a made-up lab: a leaker who keeps only
the file's usual values removes it. ``localise`` keeps the drawn sex and
takes every column from a different real patient of the lab (a donor), so that
each column's distribution over canaries is the lab's own:

- birth name, first names, used name: a donor's, among values two donors at
  least share (first and used names from donors of the same sex born within
  5 years);

- postcode, city, country: one donor's address (the street line stays the drawn one);
- birth date: a donor born within 5 years of the drawn date (first names follow
  the year), moved by up to 15 days;
- birthplace, identity status: a donor holding a NIR; the NIR is rebuilt from
  the canary's sex, birth date and that birthplace, its serial drawn;
- phones: a donor's phones, their last six digits drawn;
- e-mail: the drawn local part at a donor's domain (none when the donor has none);
- physician, insurance (member number's digits after the third drawn), blood group, last visit:
  each from a donor.

Nothing personal of a donor is copied: its NIR, phone digits, member number,
street line and name never reach the canary. Pairs of columns (a town and a
phone area) may still disagree: see docs/leak-tracing.md.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import TypeVar

from stdnum.fr import nir as stdnum_nir

from etanche.domain import Address, Patient, Sex

__all__ = ["localise", "localiser"]

T = TypeVar("T")
_SHIFT_DAYS = 15
_NEAR_YEARS = 5


def _digits_drawn(text: str, rng: random.Random, keep: int = 0) -> str:
    """The same shape, every digit after the first ``keep`` ones drawn anew."""
    out: list[str] = []
    seen = 0
    for char in text:
        if char.isdigit():
            seen += 1
            out.append(char if seen <= keep else str(rng.randrange(10)))
        else:
            out.append(char)
    return "".join(out)


def _phone(donor_phone: str, rng: random.Random) -> str:
    digits = sum(c.isdigit() for c in donor_phone)
    return _digits_drawn(donor_phone, rng, keep=max(0, digits - 6))


def _nir(patient: Patient, insee: str, rng: random.Random) -> str:
    body = (
        f"{'2' if patient.sex is Sex.FEMALE else '1'}{patient.birth_date.year % 100:02d}"
        f"{patient.birth_date.month:02d}{insee}{1 + rng.randrange(999):03d}"
    )
    return body + str(stdnum_nir.calc_check_digits(body))


def _local_part(patient: Patient) -> str:
    """first.last + two digits, in ASCII (the drawn identity had no e-mail)."""
    words = [patient.first_first_name, patient.birth_name]
    folded = [
        re.sub(r"[^a-z0-9]+", "", unicodedata.normalize("NFKD", w).encode("ascii", "ignore")
               .decode().lower())
        for w in words
    ]  # fmt: skip
    return ".".join(w for w in folded if w) + f"{patient.birth_date.year % 100:02d}"


def _common(
    donors: Sequence[Patient], value: Callable[[Patient], T], rng: random.Random, default: T
) -> T:
    """A donor's value among those two donors at least share (a rare one could point
    at its family), else ``default``."""
    counts = Counter(value(d) for d in donors)
    shared = [value(d) for d in donors if counts[value(d)] >= 2]
    return shared[rng.randrange(len(shared))] if shared else default


def _pick(donors: Sequence[Patient], rng: random.Random) -> Patient:
    return donors[rng.randrange(len(donors))]


def localise(identity: Patient, donors: Sequence[Patient], rng: random.Random) -> Patient:
    """The drawn ``identity`` with every non-identity column from the lab's donors."""
    if not donors:
        return identity
    year = identity.birth_date.year  # first names follow the birth year: stay near it
    near = [d for d in donors if abs(d.birth_date.year - year) <= _NEAR_YEARS] or list(donors)
    born = _pick(near, rng).birth_date + timedelta(days=rng.randint(-_SHIFT_DAYS, _SHIFT_DAYS))
    peers = [d for d in near if d.sex is identity.sex] or near
    out = replace(
        identity,
        birth_date=min(born, date.today() - timedelta(days=1)),
        birth_name=_common(donors, lambda d: d.birth_name, rng, identity.birth_name),
        first_names=_common(peers, lambda d: d.first_names, rng, identity.first_names),
        used_name=_common(peers, lambda d: d.used_name, rng, identity.used_name),
    )
    with_nir = [d for d in donors if d.nir and d.birthplace_insee] or list(donors)
    civil = _pick(with_nir, rng)
    nir = _nir(out, civil.birthplace_insee, rng) if civil.birthplace_insee else None
    place = _pick(donors, rng)
    street = identity.addresses[0].line if identity.addresses else "1 rue de l'Église"
    addresses = tuple(
        Address(line=street if i == 0 else a.line, postcode=a.postcode, city=a.city,
                country=a.country)
        for i, a in enumerate(place.addresses[:1])
    )  # fmt: skip
    phones = tuple(_phone(p, rng) for p in _pick(donors, rng).phones)
    mail = _pick(donors, rng).emails
    local = identity.emails[0].split("@")[0] if identity.emails else _local_part(identity)
    emails = tuple(f"{local}@{e.split('@', 1)[1]}" for e in mail[:1] if "@" in e)
    insurance = _pick(donors, rng).insurance
    if insurance is not None and insurance.amc_member_number:
        number = _digits_drawn(insurance.amc_member_number, rng, keep=3)
        insurance = replace(insurance, amc_member_number=number)
    clinical_donor = _pick(donors, rng)
    return replace(
        out,
        birthplace_insee=civil.birthplace_insee,
        identity_status=civil.identity_status,
        nir=nir,
        addresses=addresses,
        phones=phones,
        emails=emails,
        physician=_pick(donors, rng).physician,
        insurance=insurance,
        last_visit=_visit_after(_pick(donors, rng).last_visit, out.birth_date),
        clinical=replace(out.clinical, blood_group=clinical_donor.clinical.blood_group),
        ins=None,
        identity_document=None,
        identity_downgrade=None,
    )


def _visit_after(visit: date | None, born: date) -> date | None:
    """A donor's last visit, never before the decoy's own birth (a valid patient)."""
    return None if visit is None else max(visit, born)


def localiser(donors: Sequence[Patient], rng: random.Random) -> Callable[[Patient], Patient]:
    """``localise`` bound to the lab's donors (what ``plant_decoys`` applies)."""
    return lambda identity: localise(identity, donors, rng)
