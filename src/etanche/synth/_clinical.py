"""Clinical compartment: pathologies, treatments, blood group and secretary comments.

Frequencies follow French orders of magnitude (age- and sex-dependent), so that
the clinical columns of a synthetic leak are as sensitive, and as sparse, as in
the real one. Comments are derived from the drawn facts: they never contradict
the patient's data.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from etanche.domain import BloodGroup, Clinical, Sex, Treatment

_RandomFn = Callable[[], float]

# French ABO/RhD distribution (EFS), cumulated for one draw.
_BLOOD_GROUPS: tuple[tuple[BloodGroup, float], ...] = (
    (BloodGroup("O", "+"), 36.0),
    (BloodGroup("A", "+"), 37.0),
    (BloodGroup("B", "+"), 8.0),
    (BloodGroup("AB", "+"), 3.0),
    (BloodGroup("O", "-"), 6.0),
    (BloodGroup("A", "-"), 7.0),
    (BloodGroup("B", "-"), 1.0),
    (BloodGroup("AB", "-"), 0.5),
)
_BG_TOTAL = sum(w for _, w in _BLOOD_GROUPS)
BLOOD_GROUP_RATE = 0.39  # share of patients whose group is on file (~40% with pregnancies)

T = Treatment
METFORMINE = T("metformine", "A10BA02")
GLICLAZIDE = T("gliclazide", "A10BB09")
SITAGLIPTINE = T("sitagliptine", "A10BH01")
GLARGINE = T("insuline glargine", "A10AE04")
ASPARTE = T("insuline asparte", "A10AB05")
LEVOTHYROXINE = T("lévothyroxine", "H03AA01")
WARFARINE = T("warfarine", "B01AA03")
FLUINDIONE = T("fluindione", "B01AA12")
ACENOCOUMAROL = T("acénocoumarol", "B01AA07")
APIXABAN = T("apixaban", "B01AF02")
RIVAROXABAN = T("rivaroxaban", "B01AF01")
TDF_FTC = T("ténofovir/emtricitabine", "J05AR03")
DOLUTEGRAVIR = T("dolutégravir", "J05AX12")
BIC_FTC_TAF = T("bictégravir/emtricitabine/ténofovir alafénamide", "J05AR20")
TAMOXIFENE = T("tamoxifène", "L02BA01")
LETROZOLE = T("létrozole", "L02BG04")
ANASTROZOLE = T("anastrozole", "L02BG03")
BICALUTAMIDE = T("bicalutamide", "L02BB03")
LEUPRORELINE = T("leuproréline", "L02AE02")
SOF_VEL = T("sofosbuvir/velpatasvir", "J05AP55")
TENOFOVIR = T("ténofovir disoproxil", "J05AF07")
ENTECAVIR = T("entécavir", "J05AF10")
EPOETINE = T("époétine alfa", "B03XA01")
HYDROXYCARBAMIDE = T("hydroxycarbamide", "L01XX05")
IVACAFTOR = T("ivacaftor", "R07AX02")
del T

AVK = (WARFARINE, FLUINDIONE, ACENOCOUMAROL)
_AVK_BRAND = {FLUINDIONE: "Previscan", WARFARINE: "Coumadine", ACENOCOUMAROL: "Sintrom"}
_ANTICOAGULANTS = (
    (FLUINDIONE, 0.30),
    (WARFARINE, 0.15),
    (ACENOCOUMAROL, 0.05),
    (APIXABAN, 0.30),
    (RIVAROXABAN, 0.20),
)

_CANCERS_F = (
    ("cancer du sein", 45),
    ("cancer colorectal", 15),
    ("cancer du poumon", 8),
    ("lymphome", 8),
    ("mélanome", 7),
    ("cancer de la thyroïde", 7),
    ("cancer de l'ovaire", 5),
    ("leucémie", 5),
)
_CANCERS_M = (
    ("cancer de la prostate", 40),
    ("cancer du poumon", 15),
    ("cancer colorectal", 15),
    ("cancer de la vessie", 8),
    ("lymphome", 8),
    ("mélanome", 8),
    ("leucémie", 6),
)


def _pick_weighted(rnd: _RandomFn, table: tuple[tuple[str, int], ...]) -> str:
    x = rnd() * sum(w for _, w in table)
    for name, w in table:
        x -= w
        if x < 0:
            return name
    return table[-1][0]


def blood_group(rnd: _RandomFn) -> BloodGroup:
    """One ABO/RhD group drawn from the French distribution."""
    x = rnd() * _BG_TOTAL
    for bg, w in _BLOOD_GROUPS:
        x -= w
        if x < 0:
            return bg
    return _BLOOD_GROUPS[0][0]


def _pathologies(rnd: _RandomFn, female: bool, age: int) -> list[str]:
    """Draw pathologies with age/sex-dependent prevalences (diabetes ~6%, HIV ~0.3%...)."""
    out: list[str] = []
    # Diabetes: ~6% overall, rising with age; type 1 in the young.
    p_diab = 0.003 if age < 20 else 0.015 if age < 40 else 0.07 if age < 65 else 0.135
    if rnd() < p_diab:
        out.append("diabète de type 1" if age < 30 or rnd() < 0.08 else "diabète de type 2")
    if 18 <= age <= 80 and rnd() < 0.0045:
        out.append("infection VIH")
    p_cancer = 0.003 if age < 40 else 0.03 if age < 65 else 0.08
    if rnd() < p_cancer:
        kind = _pick_weighted(rnd, _CANCERS_F if female else _CANCERS_M)
        if kind == "cancer de la prostate" and age < 50:
            kind = "cancer colorectal"
        out.append(kind)
    p_irc = 0.004 if age < 50 else 0.025 if age < 70 else 0.09
    if rnd() < p_irc:
        out.append("insuffisance rénale chronique")
    if age >= 25 and rnd() < (0.06 if female else 0.012):
        out.append("hypothyroïdie")
    if age >= 25 and rnd() < 0.005:
        out.append("hépatite C")
    if age >= 18 and rnd() < 0.004:
        out.append("hépatite B")
    if age >= 65 and rnd() < 0.03:
        out.append("fibrillation atriale")
    elif age >= 30 and rnd() < (0.012 if age >= 65 else 0.004):
        out.append("maladie thromboembolique veineuse")
    # Rare genetic diseases (hemochromatosis is frequent in Brittany, still rare).
    if rnd() < 0.0005:
        out.append("drépanocytose")
    if age < 60 and rnd() < 0.0003:
        out.append("mucoviscidose")
    if age >= 30 and rnd() < 0.003:
        out.append("hémochromatose")
    return out


def _treatments(rnd: _RandomFn, pathologies: list[str], age: int) -> list[Treatment]:
    """ATC-coded treatments consistent with the pathologies."""
    out: list[Treatment] = []
    for p in pathologies:
        if p == "diabète de type 2":
            if rnd() < 0.85:
                out.append(METFORMINE)
            if rnd() < 0.2:
                out.append(GLICLAZIDE)
            if rnd() < 0.15:
                out.append(SITAGLIPTINE)
            if rnd() < 0.2:
                out.append(GLARGINE)
        elif p == "diabète de type 1":
            out += (GLARGINE, ASPARTE)
        elif p == "infection VIH":
            out += (TDF_FTC, DOLUTEGRAVIR) if rnd() < 0.6 else (BIC_FTC_TAF,)
        elif p == "cancer du sein" and rnd() < 0.7:
            out.append(TAMOXIFENE if age < 50 else LETROZOLE if rnd() < 0.5 else ANASTROZOLE)
        elif p == "cancer de la prostate" and rnd() < 0.5:
            out.append(BICALUTAMIDE if rnd() < 0.4 else LEUPRORELINE)
        elif p == "hypothyroïdie":
            out.append(LEVOTHYROXINE)
        elif p in ("fibrillation atriale", "maladie thromboembolique veineuse"):
            x = rnd()
            for drug, w in _ANTICOAGULANTS:
                x -= w
                if x < 0:
                    out.append(drug)
                    break
            else:
                out.append(APIXABAN)
        elif p == "hépatite C" and rnd() < 0.4:
            out.append(SOF_VEL)
        elif p == "hépatite B" and rnd() < 0.6:
            out.append(TENOFOVIR if rnd() < 0.6 else ENTECAVIR)
        elif p == "insuffisance rénale chronique" and rnd() < 0.25:
            out.append(EPOETINE)
        elif p == "drépanocytose" and rnd() < 0.5:
            out.append(HYDROXYCARBAMIDE)
        elif p == "mucoviscidose" and rnd() < 0.3:
            out.append(IVACAFTOR)
    return list(dict.fromkeys(out))


def _pick(rng: random.Random, options: tuple[str, ...]) -> str:
    return options[int(rng.random() * len(options))]


def _generic(
    female: bool, age: int, has_phone: bool, has_email: bool, physician_surname: str | None
) -> tuple[str, ...]:
    """Non-medical remarks that still fit the patient (no SMS advice without a phone)."""
    out = ["Prélèvement difficile, veines fines", "Allergie latex"]
    out.append("Pte anxieuse, aiguille fine" if female else "Pt anxieux, aiguille fine")
    if has_phone:
        out += ["Ne pas appeler avant 10h", "Prévenir si résultat anormal"]
    else:
        out.append("Pas de téléphone, envoyer par courrier")
    if has_email:
        out.append("Résultats par mail")
    if age >= 70:
        out += ["RDV domicile IDE", "Malentendant, parler fort", "Vient avec sa fille"]
    if age < 12:
        out.append("Enfant, patch Emla")
    if physician_surname:
        out.append(f"Double des résultats au Dr {physician_surname}")
    return tuple(out)


def _comments(
    rng: random.Random,
    *,
    female: bool,
    age: int,
    pathologies: list[str],
    treatments: list[Treatment],
    pregnant: bool | None,
    weeks: int,
    has_phone: bool,
    has_email: bool,
    physician_surname: str | None,
) -> tuple[str, ...]:
    """Up to two comments in a lab secretary's style, derived from the patient's facts."""
    patient = "Patiente" if female else "Patient"
    sensitive: list[str] = []
    if pregnant:
        sensitive.append(
            _pick(
                rng,
                (
                    f"Pte enceinte {weeks} SA, contrôle toxo",
                    f"Grossesse {weeks} SA, séro rubéole/toxo",
                    f"Enceinte {weeks} SA, RAI à faire",
                    f"G2P1, {weeks} SA, suivi sage-femme",
                ),
            )
        )
    for p in pathologies:
        if p == "infection VIH":
            sensitive.append(
                _pick(
                    rng,
                    (f"{patient} VIH+, suivi CHU", "VIH, CV indétectable", "Suivi VIH Pr CHU"),
                )
            )
        elif p.startswith("diabète"):
            sensitive.append(
                _pick(
                    rng,
                    (
                        "Diabétique, à jeun",
                        "DT2 sous metformine" if METFORMINE in treatments else "DT2, HbA1c /3 mois",
                        "Diabète insulino-dépendant" if GLARGINE in treatments else "Diabétique",
                        "HbA1c tous les 3 mois",
                    ),
                )
            )
        elif p.startswith("cancer") or p in ("lymphome", "leucémie", "mélanome"):
            options = ["Chimio en cours, NFS avant cure", "Suivi onco CHU"]
            if p == "cancer du sein":
                hormone = "tamoxifène" if TAMOXIFENE in treatments else "hormonothérapie"
                options.append(f"ATCD K sein, sous {hormone}")
            elif p == "cancer de la prostate":
                options.append("K prostate, PSA de contrôle")
            elif p in ("lymphome", "leucémie"):
                options.append(f"{p.capitalize()}, NFS hebdo")
            sensitive.append(_pick(rng, tuple(options)))
        elif p == "insuffisance rénale chronique":
            if rng.random() < 0.1:
                sensitive.append("Dialysée lun/mer/ven" if female else "Dialysé mar/jeu/sam")
            else:
                sensitive.append(_pick(rng, ("IRC, créat tous les mois", "IRC stade 3")))
        elif p == "hypothyroïdie":
            sensitive.append(_pick(rng, ("TSH sous Levothyrox", "Hypothyroïdie, TSH /6 mois")))
        elif p == "hépatite C":
            sensitive.append(_pick(rng, ("Hépatite C, suivi hépato", "VHC+, attention AES")))
        elif p == "hépatite B":
            sensitive.append("AgHBs+, suivi hépato")
        elif p == "drépanocytose":
            sensitive.append(f"{patient} drépanocytaire, NFS réticulocytes")
        elif p == "mucoviscidose":
            sensitive.append("Mucoviscidose, suivi CRCM")
        elif p == "hémochromatose":
            sensitive.append("Hémochromatose, saignées, ferritine /3 mois")
    for t in treatments:
        if t in AVK:
            brand = _AVK_BRAND
            sensitive.append(
                _pick(rng, ("Sous AVK, INR cible 2-3", f"Ttt {brand[t]}", f"{brand[t]}, INR /15j"))
            )
        elif t in (APIXABAN, RIVAROXABAN):
            sensitive.append("Sous Eliquis" if t is APIXABAN else "Sous Xarelto")

    chosen = [c for c in sensitive if rng.random() < 0.65]
    if pregnant is False and rng.random() < 0.15:
        chosen.append("Pas de grossesse en cours")  # a negated mention, still sensitive
    elif rng.random() < 0.12:
        chosen.append(_pick(rng, _generic(female, age, has_phone, has_email, physician_surname)))
    return tuple(dict.fromkeys(chosen))[:2]


def clinical(
    rng: random.Random,
    *,
    sex: Sex,
    age: int,
    has_phone: bool,
    has_email: bool,
    physician_surname: str | None,
) -> Clinical:
    """The whole clinical compartment of one patient, ``age`` taken at the last visit."""
    rnd = rng.random
    female = sex is Sex.FEMALE
    pregnant: bool | None = None
    weeks = 0
    if female and 18 <= age <= 45:
        if rnd() < 0.08:
            pregnant = True
            weeks = 4 + int(rnd() * 37)
        elif rnd() < 0.5:
            pregnant = False  # recorded as "not pregnant" on the request form
    pathologies = _pathologies(rnd, female, age)
    treatments = _treatments(rnd, pathologies, age) if pathologies else []
    group = blood_group(rnd) if rnd() < (0.9 if pregnant else BLOOD_GROUP_RATE) else None
    comments = _comments(
        rng,
        female=female,
        age=age,
        pathologies=pathologies,
        treatments=treatments,
        pregnant=pregnant,
        weeks=weeks,
        has_phone=has_phone,
        has_email=has_email,
        physician_surname=physician_surname,
    )
    return Clinical(
        blood_group=group,
        comments=comments,
        pregnant=pregnant,
        treatments=tuple(treatments),
        pathologies=tuple(pathologies),
    )
