"""Pure data model of a lab network: labs, patients, specimens.

Plain frozen dataclasses: no I/O, no validation here (see ``_validate``), so the
synthetic generator and the vault can build millions of them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Sex(StrEnum):
    """INS sex trait."""

    MALE = "M"
    FEMALE = "F"
    UNKNOWN = "I"


class IdentityStatus(StrEnum):
    """Identity status of the INS referential (référentiel national d'identitovigilance)."""

    PROVISIONAL = "PROV"  # identity entered without a checked document
    RECOVERED = "RECUP"  # INS retrieved from the INSi teleservice, document not checked
    VALIDATED = "VALI"  # document checked, INS not retrieved
    QUALIFIED = "QUAL"  # document checked and INS retrieved: the INS may be used


class IdentityDocument(StrEnum):
    """High-trust identity documents of the RNIV (a minor's family record book or birth
    certificate counts only with a parent's document, checked by the same person)."""

    ID_CARD = "cni"  # carte nationale d'identité
    PASSPORT = "passeport"
    RESIDENCE_PERMIT = "titre_sejour"  # titre de séjour (permanent)
    FAMILY_BOOK = "livret_famille"  # minors
    BIRTH_CERTIFICATE = "extrait_naissance"  # minors


class DowngradeReason(StrEnum):
    """Why an identity lost its status: codes, never free text (it reaches the log)."""

    STRICT_TRAIT_CHANGED = "strict_trait_changed"
    DOCUMENT_DOUBT = "document_doubt"  # the document checked is doubtful or not the person's
    INS_DOUBT = "ins_doubt"  # the INS returned is doubtful (collision, wrong person)
    IDENTITY_DOUBT = "identity_doubt"  # usurpation or collision suspected


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    """A high-trust document checked at the desk: its kind, who checked it and when.

    The document itself (number, scan) is never kept.
    """

    kind: IdentityDocument
    checked_by: str  # username of the person who checked it
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class InsTraits:
    """The five strict traits as the INSi teleservice returned them."""

    birth_name: str
    first_names: tuple[str, ...]
    sex: Sex
    birth_date: date
    birthplace_insee: str | None


@dataclass(frozen=True, slots=True)
class InsRetrieval:
    """A result of the INSi teleservice, entered here (this system never calls it)."""

    matricule: str  # the INS: NIR or NIA, 15 characters
    oid: str  # the OID of its assigning authority (NIR, NIA, test)
    traits: InsTraits
    retrieved_at: datetime
    entered_by: str


@dataclass(frozen=True, slots=True)
class Downgrade:
    """The last downgrade of an identity: from which status, why, by whom and when."""

    from_status: IdentityStatus
    reason: DowngradeReason
    by: str
    at: datetime


class Compartment(StrEnum):
    """Encryption compartment a field belongs to (DESIGN.md, data protection)."""

    ADMIN = "admin"
    CLINICAL = "clinical"


@dataclass(frozen=True, slots=True)
class Lab:
    """A medical biology laboratory site of the network."""

    id: str  # short stable code, e.g. "L07"
    name: str
    finess: str  # 9-character FINESS établissement number
    city: str
    street: str = ""  # postal address, the sender of its letters (empty when unknown)
    postcode: str = ""
    # the legal entity running the site: the controller of its patients' data (GDPR art. 4(7))
    legal_name: str = ""  # e.g. "SELAS Biologie Armor", empty when unknown
    legal_address: str = ""  # registered office, one line
    siren: str = ""  # 9-digit SIREN number of the entity


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address in France (or abroad when ``country`` is not FR)."""

    line: str
    postcode: str
    city: str
    country: str = "FR"


@dataclass(frozen=True, slots=True)
class Physician:
    """A treating physician or prescriber, identified by the RPPS number."""

    name: str
    rpps: str  # 11 digits


@dataclass(frozen=True, slots=True)
class Insurance:
    """Compulsory (AMO) and complementary (AMC, mutuelle) health insurance."""

    amo_regime: str  # 2 digits, e.g. "01" régime général
    amo_caisse: str  # 3 digits, caisse code
    amc_name: str | None = None
    amc_member_number: str | None = None


@dataclass(frozen=True, slots=True)
class BloodGroup:
    """ABO group and RhD factor."""

    abo: str  # "A", "B", "AB" or "O"
    rh: str  # "+" or "-"

    def __str__(self) -> str:
        return f"{self.abo}{self.rh}"


@dataclass(frozen=True, slots=True)
class Treatment:
    """A drug treatment with its ATC code (e.g. B01AA03 warfarin)."""

    name: str
    atc: str


@dataclass(frozen=True, slots=True)
class Clinical:
    """Everything of the clinical compartment of a patient."""

    blood_group: BloodGroup | None = None
    comments: tuple[str, ...] = ()
    pregnant: bool | None = None
    treatments: tuple[Treatment, ...] = ()
    pathologies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Patient:
    """A patient: INS traits, identifiers, contacts, insurance and clinical data.

    ``id`` is a random pseudonymous identifier, never derived from identity.
    ``lab_id`` is the lab that registered the patient and whose keys protect it.
    """

    id: str
    lab_id: str
    birth_name: str
    first_names: tuple[str, ...]
    sex: Sex
    birth_date: date
    birthplace_insee: str | None = None  # INSEE COG code; "99xxx" born abroad
    used_name: str | None = None
    nir: str | None = None  # 15 characters, Corsica as 2A / 2B
    identity_status: IdentityStatus = IdentityStatus.PROVISIONAL
    addresses: tuple[Address, ...] = ()
    phones: tuple[str, ...] = ()  # E.164
    emails: tuple[str, ...] = ()
    physician: Physician | None = None
    insurance: Insurance | None = None
    clinical: Clinical = field(default_factory=Clinical)
    last_visit: date | None = None
    # Evidence behind ``identity_status`` (RNIV), sealed with the identity: see _identity.
    identity_document: DocumentCheck | None = None
    ins: InsRetrieval | None = None
    identity_downgrade: Downgrade | None = None

    @property
    def first_first_name(self) -> str:
        """First of the birth first names (an INS trait used for matching)."""
        return self.first_names[0] if self.first_names else ""


@dataclass(frozen=True, slots=True)
class Specimen:
    """A specimen collected for a patient at a lab."""

    id: str
    patient_id: str
    lab_id: str
    accession: str  # lab accession number
    collected_at: datetime
    specimen_type: str  # e.g. "sang veineux", "urine"
    prescriber: Physician | None = None
