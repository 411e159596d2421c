"""One synthetic person: INS traits, NIR, contacts, insurance and clinical data.

Everything a patient needs is drawn here from one ``random.Random`` per cycle of
the stream, without Faker (its pools were built once, see ``_names``): this is
the hot loop that must make half a million patients in well under a minute.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from stdnum.fr import nir as stdnum_nir

from etanche.domain import (
    Address,
    IdentityStatus,
    Insurance,
    Lab,
    Patient,
    Physician,
    Sex,
)
from etanche.synth import _contacts as contacts
from etanche.synth._clinical import clinical
from etanche.synth._names import NamePools
from etanche.synth._places import (
    CORSICAN_BIRTHPLACES,
    FOREIGN_BIRTHPLACES,
    NW_COMMUNES,
    OTHER_FRENCH_BIRTHPLACES,
    REGION_OF_DEPT,
    Commune,
)

T = TypeVar("T")

# Birth-year weights per decade: lab patients are older than the population.
_DECADE_WEIGHTS: tuple[tuple[int, float], ...] = (
    (1920, 2.5),
    (1930, 6.0),
    (1940, 10.0),
    (1950, 13.0),
    (1960, 14.0),
    (1970, 13.0),
    (1980, 13.0),
    (1990, 11.0),
    (2000, 8.0),
    (2010, 8.0),
    (2020, 5.0),
)
NIR_RATE_FRENCH_BORN = 0.93
NIR_RATE_FOREIGN_BORN = 0.75
USED_NAME_RATE = 0.35  # adult women (>= 20) registered under a spouse's name too


def _weighted_urn(items: list[tuple[T, float]], size: int) -> tuple[T, ...]:
    total = sum(w for _, w in items)
    out: list[T] = []
    for item, w in items:
        out.extend([item] * max(1, round(size * w / total)))
    return tuple(out)


def age_on(birth: date, day: date) -> int:
    """Age in whole years on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass(frozen=True, slots=True)
class LabArea:
    """What a lab's patients draw from: nearby communes, physicians, landline zone."""

    lab: Lab
    dept: str
    communes: tuple[Commune, ...]  # urn of the lab's département
    region_communes: tuple[Commune, ...]  # urn of the lab's region
    physicians: tuple[Physician, ...]


def lab_areas(labs: tuple[Lab, ...], pools: NamePools, rng: random.Random) -> tuple[LabArea, ...]:
    """Communes and a physician pool (unique RPPS numbers) for each lab."""
    seen: set[str] = set()
    out = []
    for lab in labs:
        dept = next(c.dept for c in NW_COMMUNES if c.name == lab.city)
        region = REGION_OF_DEPT[dept]
        local = [(c, float(c.weight)) for c in NW_COMMUNES if c.dept == dept]
        regional = [(c, float(c.weight)) for c in NW_COMMUNES if REGION_OF_DEPT[c.dept] == region]
        out.append(
            LabArea(
                lab=lab,
                dept=dept,
                communes=_weighted_urn(local, 400),
                region_communes=_weighted_urn(regional, 800),
                physicians=contacts.physicians(rng, pools, 40, seen),
            )
        )
    return tuple(out)


class PersonFactory:
    """Draws whole patients; holds the precomputed urns so each draw is cheap."""

    def __init__(self, pools: NamePools, start: date, end: date) -> None:
        self.pools = pools
        self.end = end
        self.start_ord = start.toordinal()
        self.end_ord = end.toordinal()
        last_year = min(end.year, 2020)
        years = [
            (y, w / 10)
            for decade, w in _DECADE_WEIGHTS
            for y in range(decade, decade + 10)
            if y <= last_year
        ]
        self.birth_years = _weighted_urn(years, 20_000)
        self.foreign = _weighted_urn([((c, o), float(w)) for c, w, o in FOREIGN_BIRTHPLACES], 400)
        self.nw_communes = _weighted_urn([(c, float(c.weight)) for c in NW_COMMUNES], 1000)
        self.first_by_year = {
            y: next(g for g in pools.first_names if y <= g[0]) for y in range(1900, 2101)
        }

    def birth_date(self, rnd: random.Random) -> date:
        """A birth date with the age structure of a lab's patients, before ``end``."""
        year = self.birth_years[int(rnd.random() * len(self.birth_years))]
        ordinal = date(year, 1, 1).toordinal() + int(rnd.random() * 365)
        return date.fromordinal(min(ordinal, self.end_ord - 1))

    def last_visit(self, rnd: random.Random, birth: date) -> date:
        """Most patients came recently; the rest any time since the start."""
        lo = max(self.start_ord, birth.toordinal())
        hi = self.end_ord
        if rnd.random() < 0.6:
            day = max(lo, hi - int(rnd.random() * 730))
        else:
            day = lo + int(rnd.random() * (hi - lo + 1))
        return date.fromordinal(day)

    def person(
        self,
        rng: random.Random,
        patient_id: str,
        area: LabArea,
        *,
        dirt: random.Random,
        missing: float = 0.0,
    ) -> Patient:
        """One patient registered by ``area.lab``.

        ``missing`` drops contacts, physician or insurance on top of the natural
        rates, drawing from ``dirt`` so that the clean draws stay aligned: the
        same seed gives the same people whatever the dirt knobs.
        """
        rnd = rng.random
        pools = self.pools
        female = rnd() < 0.51
        sex = Sex.FEMALE if female else Sex.MALE
        birth = self.birth_date(rng)
        last_visit = self.last_visit(rng, birth)
        age = age_on(birth, last_visit)

        # Birthplace: mostly the west, some elsewhere in France, Corsica, abroad.
        origin = "general"
        x = rnd()
        if x < 0.01:
            insee = CORSICAN_BIRTHPLACES[int(rnd() * len(CORSICAN_BIRTHPLACES))]
        elif x < 0.05:
            insee, origin = self.foreign[int(rnd() * len(self.foreign))]
        elif x < 0.09:
            insee = OTHER_FRENCH_BIRTHPLACES[int(rnd() * len(OTHER_FRENCH_BIRTHPLACES))]
        elif x < 0.55:
            insee = area.communes[int(rnd() * len(area.communes))].insee
        else:
            insee = self.nw_communes[int(rnd() * len(self.nw_communes))].insee
        foreign_born = insee.startswith("99")
        if origin == "general" and rnd() < 0.04:  # born in France, parents from abroad
            origins = tuple(pools.origin_surnames)
            origin = origins[int(rnd() * len(origins))]
        use_origin = origin != "general" and rnd() < 0.75

        # Names.
        surnames = pools.origin_surnames[origin] if use_origin else pools.surnames
        birth_name = surnames[int(rnd() * len(surnames))]
        _, males, females = self.first_by_year[birth.year]
        urn = females if female else males
        n_first = 1 if rnd() < 0.45 else 2 if rnd() < 0.73 else 3
        firsts: list[str] = []
        if use_origin:
            o_m, o_f = pools.origin_first_names[origin]
            o_urn = o_f if female else o_m
            firsts.append(o_urn[int(rnd() * len(o_urn))])
        while len(firsts) < n_first:
            name = urn[int(rnd() * len(urn))]
            if name not in firsts:
                firsts.append(name)
        used_name = None
        if female and age >= 20 and rnd() < USED_NAME_RATE:
            used_name = pools.surnames[int(rnd() * len(pools.surnames))]

        # NIR and identity status (QUAL and RECUP need the INS, hence a NIR).
        nir_rate = NIR_RATE_FOREIGN_BORN if foreign_born else NIR_RATE_FRENCH_BORN
        if age < 2:
            nir_rate = 0.6
        nir = None
        y = rnd()
        if rnd() < nir_rate:
            body = (
                f"{'2' if female else '1'}{birth.year % 100:02d}{birth.month:02d}"
                f"{insee}{1 + int(rnd() * 999):03d}"
            )
            nir = body + stdnum_nir.calc_check_digits(body)
            status = (
                IdentityStatus.QUALIFIED
                if y < 0.5
                else IdentityStatus.RECOVERED
                if y < 0.62
                else IdentityStatus.VALIDATED
                if y < 0.9
                else IdentityStatus.PROVISIONAL
            )
        else:
            status = IdentityStatus.VALIDATED if y < 0.6 else IdentityStatus.PROVISIONAL

        # Address in the lab's area.
        addresses: tuple[Address, ...] = ()
        dept = area.dept
        if rnd() < 0.98:
            addresses = (self.address(rng, area),)
            dept = addresses[0].postcode[:2]
            if rnd() < 0.03:
                addresses += (self.address(rng, area),)

        # Phones (E.164), the elderly keep their landline first.
        phones: tuple[str, ...] = ()
        if rnd() < 0.93:
            landline_first = rnd() < (0.6 if age >= 75 else 0.15)
            first = contacts.landline(rng, dept) if landline_first else contacts.mobile(rng)
            phones = (first,)
            if rnd() < 0.25:
                phones += (
                    contacts.mobile(rng) if landline_first else contacts.landline(rng, dept),
                )

        emails: tuple[str, ...] = ()
        p_email = 0.3 if age < 15 else 0.7 if age < 70 else 0.35 if age < 85 else 0.1
        if rnd() < p_email:
            last = used_name if used_name and rnd() < 0.6 else birth_name
            emails = (contacts.email(rng, firsts[0], last, birth.year),)

        physician = None
        if rnd() < 0.85:
            physician = area.physicians[int(rnd() * len(area.physicians))]

        insurance = None
        if rnd() < 0.98:
            z = rnd()
            regime = "01" if z < 0.86 else "02" if z < 0.94 else "03"
            amc = amc_number = None
            if rnd() < 0.72:  # ~70% of all patients have a mutuelle
                amc, amc_number = contacts.mutuelle(rng)
            insurance = Insurance(regime, contacts.caisse(dept, rng), amc, amc_number)

        if missing:
            drop = dirt.random
            if drop() < missing:
                phones = ()
            if drop() < missing:
                emails = ()
            if drop() < missing:
                addresses = ()
            if drop() < missing:
                physician = None
            if drop() < missing:
                insurance = None

        data = clinical(
            rng,
            sex=sex,
            age=age,
            has_phone=bool(phones),
            has_email=bool(emails),
            physician_surname=physician.name.split(" ", 2)[2] if physician else None,
        )
        return Patient(
            id=patient_id,
            lab_id=area.lab.id,
            birth_name=birth_name,
            first_names=tuple(firsts),
            sex=sex,
            birth_date=birth,
            birthplace_insee=insee,
            used_name=used_name,
            nir=nir,
            identity_status=status,
            addresses=addresses,
            phones=phones,
            emails=emails,
            physician=physician,
            insurance=insurance,
            clinical=data,
            last_visit=last_visit,
        )

    def address(self, rng: random.Random, area: LabArea) -> Address:
        """A street address in the lab's département (sometimes elsewhere in its region)."""
        rnd = rng.random
        urn = area.communes if rnd() < 0.85 else area.region_communes
        commune = urn[int(rnd() * len(urn))]
        streets = self.pools.streets
        street = streets[int(rnd() * len(streets))]
        if street.startswith("lieu-dit"):
            line = street[0].upper() + street[1:]
        else:
            number = 1 + int(rnd() * 120)
            z = rnd()
            suffix = " bis" if z < 0.05 else " ter" if z < 0.06 else ""
            line = f"{number}{suffix} {street}"
            if rnd() < 0.1:
                line += f", appt {1 + int(rnd() * 60)}"
        return Address(line=line, postcode=commune.postcode, city=commune.name)
