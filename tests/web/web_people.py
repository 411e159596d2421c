"""The web tests' named synthetic patients: Maëlle Le Bihan of L01 and her homonym in L02.

A module of its own (not conftest) so test files import the same objects, with the same
random ids, whichever conftest Python resolves first.
"""

from __future__ import annotations

from datetime import date, datetime

from etanche.domain import (
    Address,
    BloodGroup,
    Clinical,
    IdentityStatus,
    Insurance,
    Patient,
    Physician,
    Sex,
    Specimen,
    Treatment,
)
from etanche.vault import new_record_id


def with_key(first13: str) -> str:
    """A NIR with its check key (97 - N mod 97)."""
    return first13 + f"{97 - int(first13) % 97:02d}"


# A patient of L01 with a homonym in L02 (same INS traits, same phone): the L02 record
# must never show to L01 staff, only be counted as "known in another lab".
MAELLE = Patient(
    id=new_record_id(),
    lab_id="L01",
    birth_name="Le Bihan",
    first_names=("Maëlle", "Anne"),
    sex=Sex.FEMALE,
    birth_date=date(1985, 7, 14),
    birthplace_insee="29019",
    used_name="Morvan",
    nir=with_key("2850729019123"),
    identity_status=IdentityStatus.QUALIFIED,
    addresses=(Address("12 rue de Siam", "29200", "Brest"),),
    phones=("+33612345678",),
    emails=("maelle.lebihan@example.org",),
    physician=Physician("Dr Céline Courtois", "10507989589"),
    insurance=Insurance("01", "291", "MGEN", "380460560"),
    clinical=Clinical(
        blood_group=BloodGroup("A", "+"), treatments=(Treatment("Lévothyrox", "H03AA01"),)
    ),
)
MAELLE_ELSEWHERE = Patient(
    id=new_record_id(),
    lab_id="L02",
    birth_name="Le Bihan",
    first_names=("Maëlle",),
    sex=Sex.FEMALE,
    birth_date=date(1985, 7, 14),
    phones=("+33612345678",),
)
MAELLE_SPECIMEN = Specimen(
    id=new_record_id(),
    patient_id=MAELLE.id,
    lab_id="L01",
    accession="L0125110300017",
    collected_at=datetime(2025, 11, 3, 8, 15),
    specimen_type="sang veineux",
    prescriber=Physician("Dr Céline Courtois", "10507989589"),
)
