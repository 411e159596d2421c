"""The legacy flat export of the old lab software, as it leaked in 2020.

One row per patient, every field at once (identity, NIR, contacts, insurance,
blood group, the two free comments and even the results-portal credentials):
semicolon-separated, cp1252, CRLF. We write it only to reproduce the leak on
synthetic data, for tests, benchmarks and leak-tracing drills; importers must
refuse the portal columns.
"""

from __future__ import annotations

import csv
import random
import string
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from etanche._files import open_private
from etanche.domain import Patient

if TYPE_CHECKING:  # the writer only iterates the network: no import-time dependency
    from etanche.synth import SynthNetwork

LEGACY_COLUMNS: tuple[str, ...] = (
    "Code labo",
    "N° dossier",
    "Nom de naissance",
    "Nom d'usage",
    "Prénoms",
    "Sexe",
    "Date de naissance",
    "Lieu de naissance",
    "NIR",
    "Statut identité",
    "Adresse",
    "Code postal",
    "Ville",
    "Téléphone",
    "Email",
    "Médecin traitant",
    "RPPS médecin",
    "Régime",
    "Caisse",
    "Mutuelle",
    "N° adhérent",
    "Groupe sanguin",
    "Date dernière visite",
    "Commentaire 1",
    "Commentaire 2",
    "Identifiant portail",
    "Mot de passe portail",
)
ENCODING = "cp1252"
DELIMITER = ";"
PORTAL_RATE = 0.20  # share of patients whose portal login and password leaked too
_BATCH = 10_000
_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def _fr_date(day: date | None) -> str:
    return "" if day is None else f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def _national_phone(e164: str) -> str:
    """ "+33612345678" -> "06 12 34 56 78" (other numbers are left as they are)."""
    if not e164.startswith("+33") or len(e164) != 12:
        return e164
    digits = "0" + e164[3:]
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def _portal(rng: random.Random, patient: Patient) -> tuple[str, str]:
    """A login (initials + digits) and a random password, or blanks for most patients."""
    if rng.random() >= PORTAL_RATE:
        return "", ""
    initials = (patient.first_first_name[:1] + patient.birth_name[:1]).lower()
    initials = initials.encode("ascii", "ignore").decode() or "p"
    login = f"{initials}{rng.randrange(10**5):05d}"
    password = "".join(rng.choice(_PASSWORD_ALPHABET) for _ in range(8 + rng.randrange(5)))
    return login, password


def legacy_row(patient: Patient, dossier: str, portal: tuple[str, str]) -> list[str]:
    """The cells of one patient, in ``LEGACY_COLUMNS`` order."""
    address = patient.addresses[0] if patient.addresses else None
    physician = patient.physician
    insurance = patient.insurance
    clinical = patient.clinical
    comments = (*clinical.comments, "", "")
    return [
        patient.lab_id,
        dossier,
        patient.birth_name,
        patient.used_name or "",
        " ".join(patient.first_names),
        patient.sex.value,
        _fr_date(patient.birth_date),
        patient.birthplace_insee or "",
        patient.nir or "",
        patient.identity_status.value,
        address.line if address else "",
        address.postcode if address else "",
        address.city if address else "",
        _national_phone(patient.phones[0]) if patient.phones else "",
        patient.emails[0] if patient.emails else "",
        physician.name if physician else "",
        physician.rpps if physician else "",
        insurance.amo_regime if insurance else "",
        insurance.amo_caisse if insurance else "",
        (insurance.amc_name or "") if insurance else "",
        (insurance.amc_member_number or "") if insurance else "",
        str(clinical.blood_group) if clinical.blood_group else "",
        _fr_date(patient.last_visit),
        comments[0],
        comments[1],
        *portal,
    ]


def _rows(network: SynthNetwork) -> Iterator[list[str]]:
    rng = random.Random(f"etanche-legacy-portal:{network.config.seed}")
    for patient in network.patients():
        yield legacy_row(patient, network.dossier_number(patient), _portal(rng, patient))


def write_legacy_csv(
    network: SynthNetwork,
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the flat export of ``network`` to ``path``; return the number of data rows.

    ``progress`` is called with the number of rows written so far after every
    batch of 10,000 rows and at the end, so a CLI can drive a progress bar.
    Characters cp1252 cannot encode are replaced by "?", as the old software did.
    """
    written = 0
    with open_private(path, "w", encoding=ENCODING, errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=DELIMITER, lineterminator="\r\n")
        writer.writerow(LEGACY_COLUMNS)
        batch: list[list[str]] = []
        for row in _rows(network):
            batch.append(row)
            if len(batch) == _BATCH:
                writer.writerows(batch)
                written += len(batch)
                batch = []
                if progress is not None:
                    progress(written)
        if batch or written == 0:
            writer.writerows(batch)
            written += len(batch)
            if progress is not None:
                progress(written)
    return written
