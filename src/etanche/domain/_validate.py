"""Pure validators of the domain: identifiers, contacts, clinical codes, records.

Every validator returns the canonical form of a good value and raises
:class:`~etanche.errors.ValidationError` naming the field and the reason for a bad
one. Reasons never quote the value: they end up in logs and on terminals, and the
value is personal data (DESIGN.md, "No personal value in logs, exceptions").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime

import email_validator
import phonenumbers
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fr import nir as stdnum_nir

from etanche.domain._models import BloodGroup, Patient, Sex, Specimen
from etanche.domain._normalize import normalize_nir
from etanche.errors import ValidationError, ValidationErrors

__all__ = [
    "normalize_phone",
    "validate_atc",
    "validate_birth_date",
    "validate_blood_group",
    "validate_email",
    "validate_finess",
    "validate_insee_commune",
    "validate_nir",
    "validate_patient",
    "validate_postcode",
    "validate_rpps",
    "validate_specimen",
]

# --------------------------------------------------------------------------- NIR

# First digit of the NIR: 1 and 2 give the sex of people registered in the RNIPP;
# 7 and 8 are temporary numbers (NIA) given by the health insurance to people
# born abroad while their registration is pending. Any other first digit is
# rejected.
_NIR_SEX_DIGIT: dict[str, Sex | None] = {
    "1": Sex.MALE,
    "2": Sex.FEMALE,
    # Temporary numbers: accepted without a sex check, by choice: the first digit
    # of a pending registration is not trusted enough to reject a record on it.
    "7": None,
    "8": None,
}

# Month digits of the NIR that are not a calendar month. INSEE writes a fictitious
# month when the civil-status document used for registration does not give the
# month of birth: 20, and 30 to 42, and 50 to 99 for people registered from an
# incomplete civil status (mostly born abroad). These codes carry no real month,
# so there is nothing to compare with the birth date: they are accepted as is.
_NIR_UNKNOWN_MONTHS = frozenset({20, *range(30, 43), *range(50, 100)})


# 15 ASCII characters stdnum's compact() leaves as they are and whose format it
# accepts (digits, Corsica 2A/2B): for them only the key remains to be checked.
_NIR_SHAPE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{8}")


def validate_nir(
    value: str,
    *,
    sex: Sex | None = None,
    birth_date: date | None = None,
    field: str = "nir",
) -> str:
    """Check a NIR (French social security number) and return its compact form.

    The format and the key (97 - N mod 97, Corsica 2A/2B counted as 19/18) are
    python-stdnum's; this adds what stdnum cannot know: the first digit, and the
    agreement with the patient's sex and birth date when they are given.
    """
    compact = normalize_nir(value)
    try:
        if _NIR_SHAPE.fullmatch(compact) is None:
            compact = stdnum_nir.validate(compact)
        elif stdnum_nir.calc_check_digits(compact) != compact[13:]:
            # what stdnum's validate decides for this shape, without its slow clean-up
            raise InvalidChecksum()
    except InvalidLength:
        raise ValidationError(field, "invalid NIR length (expected 15 characters)") from None
    except InvalidChecksum:
        raise ValidationError(field, "invalid NIR check key (expected 97 - N mod 97)") from None
    except InvalidFormat:
        raise ValidationError(
            field,
            "invalid NIR format (expected 13 digits, 2A or 2B allowed for Corsica, "
            "then a 2-digit key)",
        ) from None
    except StdnumValidationError:
        raise ValidationError(field, "invalid NIR") from None

    first = compact[0]
    if first not in _NIR_SEX_DIGIT:
        raise ValidationError(
            field, "invalid NIR first digit (expected 1 or 2, or 7 or 8 for a temporary number)"
        )
    month = int(compact[3:5])
    if not (1 <= month <= 12 or month in _NIR_UNKNOWN_MONTHS):
        raise ValidationError(field, "invalid NIR month code (expected 01-12, 20, 30-42 or 50-99)")
    expected_sex = _NIR_SEX_DIGIT[first]
    if sex in (Sex.MALE, Sex.FEMALE) and expected_sex is not None and sex != expected_sex:
        raise ValidationError(field, "NIR does not match sex")
    if birth_date is not None:
        if int(compact[1:3]) != birth_date.year % 100:
            raise ValidationError(field, "NIR does not match birth year")
        if 1 <= month <= 12 and month != birth_date.month:
            raise ValidationError(field, "NIR does not match birth month")
    return compact


# ---------------------------------------------------------------- contact details


_FR_WRITING = re.compile(r"(?:\+33|0033|0)([1-9][0-9]{8})")
_PHONE_SEPARATORS = str.maketrans("", "", " .-")


def _french_national(value: str) -> int | None:
    """The 9-digit national number of "06 12 34 56 78", "+33 6 12…", "0033…", else None."""
    found = _FR_WRITING.fullmatch(value.strip().translate(_PHONE_SEPARATORS))
    return int(found.group(1)) if found else None


@functools.cache
def _french_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """phonenumbers' own French patterns for 9-digit national numbers: the general
    one, and every number type's joined in one alternation (what is_valid_number
    tries one type at a time)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("FR")
    assert meta is not None
    kinds = "premium_rate toll_free shared_cost voip personal_number pager uan voicemail"
    kinds += " fixed_line mobile"

    def pattern(desc: phonenumbers.PhoneNumberDesc | None) -> str | None:
        if desc is None or not desc.national_number_pattern:
            return None
        lengths = desc.possible_length
        return desc.national_number_pattern if not lengths or 9 in lengths else None

    general = pattern(meta.general_desc)
    types = [p for kind in kinds.split() if (p := pattern(getattr(meta, kind))) is not None]
    assert general is not None and types
    return re.compile(general), re.compile("|".join(f"(?:{p})" for p in types))


def _french_valid(national: str) -> bool:
    """``phonenumbers.is_valid_number`` for +33 and a 9-digit national number."""
    general, types = _french_patterns()
    return general.fullmatch(national) is not None and types.fullmatch(national) is not None


def normalize_phone(value: str, *, field: str = "phone", region: str = "FR") -> str:
    """Parse a phone number written any usual way and return it in E.164.

    ``region`` is the country assumed for numbers written without "+" (national
    form such as "06 12 34 56 78").
    """
    if region == "FR" and (national := _french_national(value)) is not None:
        # The usual French writings: build the number instead of parsing the text
        # (the same number, and answer, as phonenumbers.parse gives; a bulk load's hot path).
        if not _french_valid(str(national)):
            raise ValidationError(field, "not a valid phone number for its country")
        return f"+33{national}"
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(field, "not a parsable phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(field, "not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A dot-atom of RFC 5322 "atext" characters: a local part email-validator always accepts.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_MAX_EMAIL = 254


@functools.lru_cache(maxsize=8192)
def _normal_domain(domain: str) -> str | None:
    """email-validator's normal form of a domain, None if refused (few domains, many people)."""
    try:
        return str(email_validator.validate_email("a@" + domain, check_deliverability=False).domain)
    except email_validator.EmailNotValidError:
        return None


def validate_email(value: str, *, field: str = "email") -> str:
    """Check the syntax of an email address and return email-validator's normal form.

    Deliverability (DNS) is never checked: validation must stay pure and offline.
    email-validator's messages quote the offending characters, so they are
    replaced by our own value-free reasons. A plain ASCII local part at a domain
    already seen skips the full parse (the same answer, a bulk load's hot path).
    """
    if value.count("@") != 1:
        raise ValidationError(field, "invalid email address (expected exactly one @ sign)")
    local, domain = value.split("@")
    if len(local) <= 64 and len(value) <= _MAX_EMAIL and _PLAIN_LOCAL.fullmatch(local):
        normal = _normal_domain(domain)
        if normal is not None and len(local) + 1 + len(normal) <= _MAX_EMAIL:
            return f"{local}@{normal}"
    try:
        result = email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        message = str(exc)
        if "before the @-sign" in message:
            reason = "invalid email address (bad part before the @ sign)"
        elif "after the @-sign" in message or "domain" in message.lower():
            reason = "invalid email address (bad domain after the @ sign)"
        else:
            reason = "invalid email address syntax"
        raise ValidationError(field, reason) from None
    return str(result.normalized)


# ---------------------------------------------------- professionals and facilities

_RPPS_RE = re.compile(r"[0-9]{11}")
_FINESS_RE = re.compile(r"(?:[0-9]{2}|2A|2B)[0-9]{7}")
# Corsican FINESS numbers start with 2A/2B; for the Luhn key the letters count as
# 21 and 22. This is the rule used by a French public-administration codebase
# (gip-inclusion "pilotage"); it holds for the Corsican hospital numbers we know
# (2A0000014, 2B0000020), which fail if the letters are read as 20 or as the
# NIR's 19/18. Not confirmed against an official FINESS (DREES) specification.
_FINESS_CORSICA = {"2A": "21", "2B": "22"}


_DOUBLED = tuple(sum(divmod(2 * d, 10)) for d in range(10))


def luhn_valid(digits: str) -> bool:
    """The Luhn check of a string of ASCII digits (python-stdnum's answer, property-tested):
    every patient's physician carries one, and stdnum's general alphabet costs 8 times more."""
    odd = sum(map(int, digits[-1::-2]))
    even = sum(_DOUBLED[int(c)] for c in digits[-2::-2])
    return (odd + even) % 10 == 0


def validate_rpps(value: str, *, field: str = "rpps") -> str:
    """Check an RPPS number (health professional): 11 digits, Luhn check digit."""
    digits = value.strip()
    if not _RPPS_RE.fullmatch(digits):
        raise ValidationError(field, "invalid RPPS number (expected exactly 11 digits)")
    if not luhn_valid(digits):
        raise ValidationError(field, "invalid RPPS check digit (Luhn)")
    return digits


def validate_finess(value: str, *, field: str = "finess") -> str:
    """Check a FINESS number (health facility): 9 characters with a Luhn key.

    Two characters of département (digits, or 2A/2B for Corsica), 6 digits, and a
    Luhn check digit over the whole number with 2A/2B read as 21/22.
    """
    compact = value.strip().upper().replace(" ", "")
    if len(compact) != 9:
        raise ValidationError(field, "invalid FINESS length (expected 9 characters)")
    if not _FINESS_RE.fullmatch(compact):
        raise ValidationError(
            field, "invalid FINESS format (expected 2-character département, then 7 digits)"
        )
    prefix = _FINESS_CORSICA.get(compact[:2], compact[:2])
    if not luhn_valid(prefix + compact[2:]):
        raise ValidationError(field, "invalid FINESS check digit (Luhn)")
    return compact


# ------------------------------------------------------------------ clinical codes

_BLOOD_GROUP_RE = re.compile(
    r"(?:GROUPE|GROUP)?(?P<abo>AB|A|B|O|0)"
    r"(?:RH(?:ESUS)?D?)?"
    r"(?P<rh>\+|-|POS|POSITIF|POSITIVE|NEG|NEGATIF|NEGATIVE)"
)
_BLOOD_GROUP_FOLD = str.maketrans(
    {
        "\u2212": "-",  # minus sign
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2010": "-",
        "\u2011": "-",
        "\uff0b": "+",  # full-width plus
        "(": None,
        ")": None,
        " ": None,
        "\t": None,
        "_": None,
        ".": None,
        ":": None,
    }
)


def validate_blood_group(value: str, *, field: str = "blood_group") -> BloodGroup:
    """Read a blood group in the usual French and English writings.

    Accepts "A+", "AB-", "0+" (zero for O), "A Rh+", "O positif", "B négatif",
    "AB RhD-", "Groupe A Rhésus positif"… case- and accent-insensitively.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = folded.upper().translate(_BLOOD_GROUP_FOLD)
    match = _BLOOD_GROUP_RE.fullmatch(folded)
    if match is None:
        raise ValidationError(
            field, "unrecognised blood group (expected ABO group A, B, AB or O and Rh + or -)"
        )
    abo = "O" if match["abo"] == "0" else match["abo"]
    rh = "+" if match["rh"].startswith(("+", "P")) else "-"
    return BloodGroup(abo=abo, rh=rh)


# The 14 anatomical main groups of the WHO ATC classification.
_ATC_MAIN_GROUPS = frozenset("ABCDGHJLMNPRSV")
_ATC_RE = re.compile(r"[A-Z](?:[0-9]{2}(?:[A-Z](?:[A-Z](?:[0-9]{2})?)?)?)?")


def validate_atc(value: str, *, field: str = "atc") -> str:
    """Check a WHO ATC code at any level (B, B01, B01A, B01AA, B01AA03); upper-case it."""
    code = value.strip().upper()
    if len(code) not in (1, 3, 4, 5, 7):
        raise ValidationError(field, "invalid ATC code length (expected 1, 3, 4, 5 or 7)")
    if code[0] not in _ATC_MAIN_GROUPS:
        raise ValidationError(field, "unknown ATC anatomical main group")
    if not _ATC_RE.fullmatch(code):
        raise ValidationError(
            field, "invalid ATC code structure (expected letter, 2 digits, 2 letters, 2 digits)"
        )
    return code


# ------------------------------------------------------------- dates and places

_OLDEST_BIRTH_DATE = date(1900, 1, 1)
_INSEE_COMMUNE_RE = re.compile(r"(?:[0-9]{2}|2A|2B)[0-9]{3}")
_POSTCODE_RE = re.compile(r"[0-9]{5}")


def validate_birth_date(
    value: date, *, today: date | None = None, field: str = "birth_date"
) -> date:
    """Check a birth date: not in the future and not before 1900-01-01.

    ``today`` is a parameter so tests and batch imports are reproducible.
    """
    if isinstance(value, datetime):
        raise ValidationError(field, "expected a date without time")
    reference = today if today is not None else date.today()
    if value > reference:
        raise ValidationError(field, "birth date is in the future")
    if value < _OLDEST_BIRTH_DATE:
        raise ValidationError(field, "birth date is before 1900-01-01")
    return value


def validate_insee_commune(value: str, *, field: str = "birthplace_insee") -> str:
    """Check an INSEE COG commune code: 2 digits or 2A/2B, then 3 digits.

    Codes 99xxx name a foreign country (born abroad) and are valid; 20xxx stays
    valid for Corsican births registered before the 1976 split into 2A/2B.
    """
    code = value.strip().upper()
    if not _INSEE_COMMUNE_RE.fullmatch(code):
        raise ValidationError(
            field, "invalid INSEE commune code (expected 2 digits or 2A/2B, then 3 digits)"
        )
    if code.startswith("00"):
        raise ValidationError(field, "invalid INSEE commune code (no département 00)")
    return code


def validate_postcode(value: str, *, field: str = "postcode") -> str:
    """Check a French postcode: 5 digits, never starting with 00."""
    code = value.strip()
    if not _POSTCODE_RE.fullmatch(code):
        raise ValidationError(field, "invalid French postcode (expected 5 digits)")
    if code.startswith("00"):
        raise ValidationError(field, "invalid French postcode (no département 00)")
    return code


# ----------------------------------------------------------------------- records

_AMO_REGIME_RE = re.compile(r"[0-9]{2}")
_AMO_CAISSE_RE = re.compile(r"[0-9]{3}")
_ABO_GROUPS = frozenset({"A", "B", "AB", "O"})
_RH_FACTORS = frozenset({"+", "-"})


class _Collector:
    """Gathers every problem of one record, so the user fixes them in one go."""

    def __init__(self, record: str) -> None:
        self.record = record
        self.errors: list[ValidationError] = []

    def add(self, field: str, reason: str) -> None:
        self.errors.append(ValidationError(field, reason, record=self.record))

    def check(
        self,
        field: str,
        validator: Callable[[str], object],
        value: str,
        *,
        canonical_reason: str | None = None,
    ) -> None:
        """Run ``validator`` on a stored value.

        With ``canonical_reason``, the stored value must also already be the
        validator's canonical form: records hold canonical values (E.164 phones,
        compact NIRs), which blind indexes and exports rely on.
        """
        try:
            canonical = validator(value)
        except ValidationError as exc:
            self.add(field, exc.reason)
            return
        if canonical_reason is not None and canonical != value:
            self.add(field, canonical_reason)

    def non_empty(self, field: str, value: str | None) -> None:
        if value is not None and not value.strip():
            self.add(field, "must not be empty")

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationErrors(self.errors)


def validate_patient(p: Patient, *, today: date | None = None) -> Patient:
    """Run every applicable check on a patient and report all problems at once.

    Raises :class:`~etanche.errors.ValidationErrors` whose items name each field
    (with an index for repeated ones, e.g. ``phones[1]``); returns ``p`` unchanged.
    """
    reference = today if today is not None else date.today()
    c = _Collector(p.id)

    c.non_empty("lab_id", p.lab_id)
    if not p.birth_name.strip():
        c.add("birth_name", "must not be empty")
    c.non_empty("used_name", p.used_name)
    if not p.first_names:
        c.add("first_names", "at least one first name is required")
    for i, first_name in enumerate(p.first_names):
        c.non_empty(f"first_names[{i}]", first_name)

    try:
        validate_birth_date(p.birth_date, today=reference)
    except ValidationError as exc:
        c.add("birth_date", exc.reason)

    if p.nir is not None:
        c.check(
            "nir",
            lambda v: validate_nir(v, sex=p.sex, birth_date=p.birth_date),
            p.nir,
            canonical_reason="NIR is not stored in compact form (15 characters, upper-case)",
        )
    if p.birthplace_insee is not None:
        c.check(
            "birthplace_insee",
            validate_insee_commune,
            p.birthplace_insee,
            canonical_reason="INSEE commune code is not stored in canonical form",
        )

    for i, address in enumerate(p.addresses):
        if address.country.strip().upper() == "FR":
            c.check(f"addresses[{i}].postcode", validate_postcode, address.postcode)
    for i, phone in enumerate(p.phones):
        c.check(
            f"phones[{i}]",
            normalize_phone,
            phone,
            canonical_reason="phone number is not stored in E.164 form",
        )
    for i, email in enumerate(p.emails):
        c.check(f"emails[{i}]", validate_email, email)

    if p.physician is not None:
        c.non_empty("physician.name", p.physician.name)
        c.check("physician.rpps", validate_rpps, p.physician.rpps)

    if p.insurance is not None:
        if not _AMO_REGIME_RE.fullmatch(p.insurance.amo_regime):
            c.add("insurance.amo_regime", "invalid AMO regime code (expected 2 digits)")
        if not _AMO_CAISSE_RE.fullmatch(p.insurance.amo_caisse):
            c.add("insurance.amo_caisse", "invalid AMO caisse code (expected 3 digits)")

    clinical = p.clinical
    if clinical.blood_group is not None:
        if clinical.blood_group.abo not in _ABO_GROUPS:
            c.add("clinical.blood_group.abo", "invalid ABO group (expected A, B, AB or O)")
        if clinical.blood_group.rh not in _RH_FACTORS:
            c.add("clinical.blood_group.rh", "invalid Rh factor (expected + or -)")
    for i, treatment in enumerate(clinical.treatments):
        c.non_empty(f"clinical.treatments[{i}].name", treatment.name)
        c.check(
            f"clinical.treatments[{i}].atc",
            validate_atc,
            treatment.atc,
            canonical_reason="ATC code is not stored in upper-case form",
        )
    if clinical.pregnant and p.sex != Sex.FEMALE:
        c.add("clinical.pregnant", "pregnancy recorded for a patient whose sex is not F")

    if p.last_visit is not None:
        if p.last_visit > reference:
            c.add("last_visit", "last visit is in the future")
        elif p.last_visit < p.birth_date:
            c.add("last_visit", "last visit is before the birth date")

    c.raise_if_any()
    return p


def validate_specimen(s: Specimen, *, now: datetime | None = None) -> Specimen:
    """Check a specimen and report all problems at once; returns ``s`` unchanged.

    ``now`` defaults to the current time in the time zone of ``collected_at``
    (naive stays naive), so the comparison is always between like datetimes.
    """
    c = _Collector(s.id)
    c.non_empty("patient_id", s.patient_id)
    c.non_empty("lab_id", s.lab_id)
    if not s.accession.strip():
        c.add("accession", "must not be empty")
    c.non_empty("specimen_type", s.specimen_type)

    reference = now if now is not None else datetime.now(s.collected_at.tzinfo)
    if (reference.tzinfo is None) != (s.collected_at.tzinfo is None):
        c.add(
            "collected_at",
            "cannot compare a naive and a time-zone-aware datetime (give both or neither)",
        )
    elif s.collected_at > reference:
        c.add("collected_at", "collection time is in the future")

    if s.prescriber is not None:
        c.non_empty("prescriber.name", s.prescriber.name)
        c.check("prescriber.rpps", validate_rpps, s.prescriber.rpps)

    c.raise_if_any()
    return s
