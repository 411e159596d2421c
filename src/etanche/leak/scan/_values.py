"""Vectorised value tests (polars expressions): what a cell holds, checked in Rust.

Each function takes a string expression and returns a boolean (or normalised
string) expression, so a whole column is validated at once on every core: the
NIR key is integer arithmetic mod 97 on the 13-digit body, phones are matched
in their French shapes, dates parsed in the usual writings.
"""

from __future__ import annotations

from datetime import date

import polars as pl

__all__ = [
    "ACCENTS",
    "amc_number",
    "birth_date",
    "blood_group",
    "capitalised",
    "compact_nir",
    "date_formats",
    "digits",
    "email",
    "iban_shape",
    "iban_valid",
    "insee_code",
    "insurer",
    "nir_valid",
    "password_shape",
    "person_name",
    "phone",
    "phone_e164",
    "postcode",
    "postcode_city",
    "record_code",
    "rpps",
    "secret_like",
    "sex",
    "street",
    "token",
    "unaccent_lower",
]

_NIR = r"^[12378]\d{2}(?:0[1-9]|1[0-2]|20|3\d|4[0-2]|[5-9]\d)(?:\d{2}|2[AB])\d{8}$"
_PHONE = r"(?-u)^(?:(?:\+|00)33 ?(?:\(0\) ?)?|0)[1-9](?:[ .\-/]?[0-9]{2}){4}$"
_EMAIL = r"^[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$"
_IBAN = r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$"
_BLOOD = r"^(?i)(?:groupe\s+)?(?:A|B|AB|O)\s?(?:\+|-|pos(?:itif)?|n[eé]g(?:atif)?|rh\s?[+-])$"
_STREET_WORDS = (
    "rue|avenue|av|bd|boulevard|chemin|impasse|all[ée]e|place|route|rte|quai|cours|square|"
    "lieu-dit|lieu dit|r[ée]sidence|lotissement|hameau|faubourg|passage|sentier|voie|cit[ée]|"
    "rond-point|esplanade|promenade|villa|mont[ée]e|all"
)
STREET_WORDS = _STREET_WORDS
_STREET = rf"^(?i)(?:\d{{1,4}}\s?(?:bis|ter|b|t)?,?\s+)?(?:{_STREET_WORDS})\.?\s+\S"
_NOT_NAME = r"(?-u)[0-9@_=/\\:;<>|#$%*+]"
_SEX = r"^(?i)(?:M|F|H|I|U|1|2|masculin|f[ée]minin|homme|femme|male|female)$"
_POSTCODE = r"^(?:0[1-9]|[1-8]\d|9[0-8])\d{3}$"
_INSEE = r"^(?:\d{5}|2[AB]\d{3})$"
_BEARER_SHAPES = (
    r"^(?:eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}|(?:sk|pk|rk)_(?:live|test)_\w{10,}|"
    r"gh[pousr]_\w{30,}|AKIA[0-9A-Z]{16}|xox[abpr]-[\w-]{10,}|\$2[aby]\$\d\d\$.{53}|"
    r"\$argon2\w*\$.{20,}|Bearer\s+[\w.\-]{16,}|\$[156]\$[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{22,}|"
    r"\{S?SHA(?:256|512)?\}[A-Za-z0-9+/=]{20,}|pbkdf2_sha\d+\$\d+\$\S{8,}|"
    r"[a-f0-9]{32}(?:[a-f0-9]{8}|[a-f0-9]{32})?|[A-F0-9]{32}(?:[A-F0-9]{8}|[A-F0-9]{32})?)$"
)  # bearer tokens, API keys and password hashes (bcrypt, argon2, crypt, LDAP, Django, hex)
# A generated password: no space, 6 to 32 characters, letters of both cases and a digit.
_PASSWORD = r"^\S{6,32}$"  # noqa: S105 (a pattern, not a secret)
_CAPITALISED = (
    r"^(?:Dr\.?\s|Pr\.?\s)?\p{Lu}[\p{L}'’\-]*"
    r"(?:\s+(?:(?:de|du|des|la|le|d'|l')\s*)?\p{Lu}[\p{L}'’\-]*){0,4}$"
)
_POSTCODE_CITY = r"^(?:0[1-9]|[1-8]\d|9[0-8])\d{3}\s+\p{L}"
# Health insurers: compulsory (AMO) régimes and caisses, complementary (AMC) organisations.
_INSURERS = (
    r"(?i)\b(?:cpam|caisse primaire|msa|mutualit[ée] sociale agricole|cgss|cnmss|enim|crpcen|"
    r"cavimac|camieg|rsi|s[ée]curit[ée] sociale|r[ée]gime (?:g[ée]n[ée]ral|agricole|local)|"
    r"lmde|mutuelles?|mgen|mnt|mgefi|mfp|macif|maaf|maif|matmut|harmonie|malakoff|humanis|"
    r"ag2r|groupama|axa|apivia|swiss ?life|allianz|generali|pro ?btp|klesia|a[ée]sio|vyv|"
    r"ociane|solimut|eovi|adrea|un[ée]o|int[ée]riale|mutualia|cegema|henner|almerys|viamedis|"
    r"ipeca|audiens|ccmo|compl[ée]mentaire sant[ée]|pr[ée]voyance)\b"
)
_SECRET = r"^\S{3,128}$"  # noqa: S105 (a pattern, not a secret)
_FIRST_YEAR = 1900

ACCENTS = {
    "àáâãäå": "a",
    "ç": "c",
    "èéêë": "e",
    "ìíîï": "i",
    "ñ": "n",
    "òóôõö": "o",
    "ùúûü": "u",
    "ýÿ": "y",
    "œ": "oe",
    "æ": "ae",
}
_FROM = [c for group in ACCENTS for c in group]
_TO = [ACCENTS[group] for group in ACCENTS for _ in group]


def unaccent_lower(expr: pl.Expr) -> pl.Expr:
    """Lower case without the usual French diacritics (Aho-Corasick replacement)."""
    return expr.str.to_lowercase().str.replace_many(_FROM, _TO)


def compact_nir(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"(?-u)[ \t.\-]", "").str.to_uppercase()


def nir_valid(compact: pl.Expr) -> pl.Expr:
    """Shape, month code and key: 97 - (body mod 97), Corsica 2A/2B counted as 19/18."""
    # one pass for both; only the department (characters 6-7) can hold a letter once shaped
    body = compact.str.slice(0, 13).str.replace_many(["2A", "2B"], ["19", "18"])
    key = compact.str.slice(13, 2).cast(pl.Int64, strict=False)
    number = body.cast(pl.Int64, strict=False)
    shaped = compact.str.contains(_NIR)
    return shaped.fill_null(False) & ((97 - number % 97) == key).fill_null(False)


def phone(expr: pl.Expr) -> pl.Expr:
    """A French number in one of its usual writings (0X XX.., +33 X.., 0033.., +33 (0)X..)."""
    return expr.str.strip_chars().str.contains(_PHONE).fill_null(False)


def phone_e164(expr: pl.Expr) -> pl.Expr:
    """French numbers in any usual writing as +33XXXXXXXXX, else null."""
    tail = expr.str.replace_all(r"\D", "").str.slice(-9)
    return pl.when(phone(expr)).then(pl.lit("+33") + tail).otherwise(None)


def email(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.contains(_EMAIL).fill_null(False)


def iban_shape(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s", "").str.to_uppercase().str.contains(_IBAN).fill_null(False)


def iban_valid(value: str) -> bool:
    """ISO 13616 check: the rearranged number mod 97 is 1 (on shape-checked values only)."""
    compact = value.replace(" ", "").upper()
    moved = compact[4:] + compact[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")


def birth_date(expr: pl.Expr, formats: tuple[str, ...] = DATE_FORMATS) -> pl.Expr:
    """The date in the cell (dd/mm/yyyy, yyyy-mm-dd, dd-mm-yyyy, dd.mm.yyyy), if plausible.

    ``formats`` narrows the parse to the writings a column was seen to use.
    """
    text = expr.str.slice(0, 10)
    tries = [text.str.to_date(f, strict=False) for f in formats]
    parsed = tries[0] if len(tries) == 1 else pl.coalesce(tries)
    plausible = parsed.is_between(date(_FIRST_YEAR, 1, 1), date.today())
    return pl.when(plausible).then(parsed).otherwise(None)


def date_formats(values: pl.Series) -> tuple[str, ...]:
    """The formats, among DATE_FORMATS, that parse some of ``values`` (all if none)."""
    text = values.str.strip_chars().str.slice(0, 10)
    used = tuple(f for f in DATE_FORMATS if text.str.to_date(f, strict=False).is_not_null().any())
    return used or DATE_FORMATS


def blood_group(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.contains(_BLOOD).fill_null(False)


def street(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.contains(_STREET).fill_null(False)


def person_name(expr: pl.Expr) -> pl.Expr:
    """Words of letters: no digit, no symbol, not too long (names, cities, "Dr X")."""
    length = expr.str.len_bytes()
    plain = ~expr.str.contains(_NOT_NAME)
    return (plain & (length >= 2) & (length <= 100)).fill_null(False)


def sex(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.contains(_SEX).fill_null(False)


def postcode(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.contains(_POSTCODE).fill_null(False)


def insee_code(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.contains(_INSEE).fill_null(False)


def insurer(expr: pl.Expr) -> pl.Expr:
    """The name of a health insurer (AMO caisse or régime, AMC mutuelle or insurer)."""
    return expr.str.contains(_INSURERS).fill_null(False)


def amc_number(expr: pl.Expr) -> pl.Expr:
    """A complementary insurer's organisation number (numéro AMC): 9 digits."""
    compact = expr.str.replace_all(r"[\s.]", "")
    return compact.str.contains(r"^\d{9}$").fill_null(False)


def capitalised(expr: pl.Expr) -> pl.Expr:
    """One to five words each starting with a capital, letters only (a name, a city)."""
    return expr.str.strip_chars().str.contains(_CAPITALISED).fill_null(False)


def password_shape(expr: pl.Expr) -> pl.Expr:
    """A generated password: upper and lower case letters and a digit, no space."""
    text = expr.str.strip_chars()
    mixed = text.str.contains(r"\p{Lu}") & text.str.contains(r"\p{Ll}") & text.str.contains(r"\d")
    return (text.str.contains(_PASSWORD) & mixed).fill_null(False)


def postcode_city(expr: pl.Expr) -> pl.Expr:
    """ "35000 Rennes": a postcode and a city in one cell."""
    return expr.str.strip_chars().str.contains(_POSTCODE_CITY).fill_null(False)


def token(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.contains(_BEARER_SHAPES).fill_null(False)


def secret_like(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.contains(_SECRET).fill_null(False)


def rpps(expr: pl.Expr) -> pl.Expr:
    """An RPPS number: 11 digits (a physician's national identifier)."""
    return expr.str.strip_chars().str.contains(r"^\d{11}$").fill_null(False)


def digits(expr: pl.Expr, n: int) -> pl.Expr:
    """Exactly ``n`` digits (an insurance régime or caisse code)."""
    return expr.str.strip_chars().str.contains(rf"^\d{{{n}}}$").fill_null(False)


def record_code(expr: pl.Expr) -> pl.Expr:
    """A file or member number: 3 to 30 letters, digits and separators, at least one digit."""
    text = expr.str.strip_chars()
    shape = text.str.contains(r"^[A-Za-z0-9][A-Za-z0-9 ./\-]{2,29}$") & text.str.contains(r"\d")
    return shape.fill_null(False)
