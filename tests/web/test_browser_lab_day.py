"""A lab's day in a real Chromium (fr-FR): tube labels, last visit, French on every page.

- a secretary records a specimen: the prescriber comes prefilled from the
  treating doctor, the success message repeats the accession number, the sheet's
  "Dernière visite" moves to the specimen's day, and the tube label PDF downloaded
  from the sheet carries a Code 128 that a maintained reader (zxing-cpp) decodes
  back to the accession number;
- every role walks every page it can reach with a GET (the navigation, then
  every same-site link found, detail pages of synthetic objects included), and
  no English word may show.

How "English word" is decided, without a hand-made list that would only catch
what its author thought of: wordfreq (word frequencies of many corpora) gives the
20,000 most frequent English words; a word is English-not-French when it is at
least 30 times (1.5 on the Zipf scale) more frequent in English than in French.
So "plan", "date", "page", "message", "client" or "total" (French words too) pass,
while "the", "with", "account", "failed", "approved" or "closed" are caught. The
visible text of each page (document title, body text, and the title, aria-label
and placeholder attributes) is split into words; what is inside code, pre, kbd
and samp elements, or marked class "code" (identifiers, commands, plan files)
or "saisie" (free text a person typed, such as a plan's purpose), is not the
application's language and is skipped, and so are words in capitals (acronyms:
NIR, TOTP, PDF) and an allow-list of proper nouns and technical words below.
Pages added later are walked too: the walk follows links, it has no page list.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pypdfium2
import wordfreq
import yaml
import zxingcpp
from browser_support import SHOTS, log_in, shot

from etanche.access import Role
from etanche.crypto import AgeIdentity
from etanche.migrate import Plans, load_plan
from etanche.web._state import COOKIE

if TYPE_CHECKING:
    from tests.web.conftest import WebVault

# Proper nouns, product names and technical words the walk accepts.
ALLOWED = frozenset(
    {
        "étanche", "ed25519", "sha", "json", "pem", "html", "htmx", "age", "fhir", "api",
        "totp", "hl7", "hprim", "enisa", "cnil", "rgpd", "rpps", "insee", "finess", "nir",
        "merkle", "rfc", "oathtool", "pkcs", "softhsm", "telegram", "paste", "web", "dark",
        "cloud", "ftp", "dpo", "email", "log", "vitale",
        "export", "exports",  # in French usage (« le marquage des exports »)
    }
)  # fmt: skip
SKIPPED = "code, pre, kbd, samp, .code, .saisie, script, style, template, [hidden]"
VISIBLE_TEXT = f"""() => {{
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll({SKIPPED!r}).forEach(e => e.remove());
  const attributes = Array.from(copy.querySelectorAll('[title], [aria-label], [placeholder]'))
    .flatMap(e => ['title', 'aria-label', 'placeholder'].map(a => e.getAttribute(a) || ''));
  return [document.title, copy.textContent, ...attributes].join('\\n');
}}"""
LINKS = """() => Array.from(document.querySelectorAll('a[href]'))
  .filter(a => !a.hasAttribute('download'))
  .map(a => a.getAttribute('href'))"""
NOT_PAGES = re.compile(r"\.(pdf|pem|json|csv|png|svg|txt|js|css)$|^/(static|logout)")
PER_SHAPE = 2  # pages of one shape (ids replaced) visited per role
MAX_PAGES = 60
WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿœŒ]+")


@cache
def english_words() -> frozenset[str]:
    """Common English words that are not (common) French words: see the docstring."""
    words = wordfreq.top_n_list("en", 20_000)
    return frozenset(
        w
        for w in words
        if w.isascii()
        and w.isalpha()
        and len(w) > 1
        and wordfreq.zipf_frequency(w, "fr") <= wordfreq.zipf_frequency(w, "en") - 1.5
    )


# e-mail addresses, URLs and identifiers (a digit, "_" or "." inside: user names, plan
# ids, action codes, accession numbers): not prose
ADDRESSES = re.compile(r"\S+@\S+|https?://\S+|\S*(?:_|\d|\w\.\w)\S*")


def english_in(text: str) -> list[str]:
    found = []
    english = english_words()
    for word in WORD.findall(ADDRESSES.sub(" ", text)):
        if word.isupper() and len(word) > 1:
            continue  # an acronym or a code
        lower = word.lower()
        if lower in english and lower not in ALLOWED:
            found.append(word)
    return found


def _shape(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"[0-9a-f]{32}|INC-[0-9]{8}-[0-9a-f]+", "{id}", parts.path)
    keys = sorted(q.split("=")[0] for q in parts.query.split("&") if q)
    return path + ("?" + "&".join(keys) if keys else "")


def walk(page: Any, seeds: list[str]) -> Iterator[tuple[str, str]]:
    """Every page reachable by GET from the seeds: (url, visible text)."""
    queue = list(seeds)
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        shape = _shape(url)
        if url in seen or shapes.get(shape, 0) >= PER_SHAPE:
            continue
        seen.add(url)
        shapes[shape] = shapes.get(shape, 0) + 1
        response = page.goto(url)
        assert response is not None and response.status < 500, url
        if response.status >= 400:
            continue  # a refusal page is walked through its own test
        yield url, page.evaluate(VISIBLE_TEXT)
        for href in page.evaluate(LINKS):
            target = urlsplit(href)
            if target.scheme or target.netloc or not target.path.startswith("/"):
                continue
            if NOT_PAGES.search(target.path) or target.path == "/login":
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))


def _session_of(page: Any, live_server: str, member: Any) -> None:
    """Open the member's session by its cookie: the login form is tested elsewhere, and
    six more logins from one address would meet the login rate limit."""
    page.context.add_cookies([{"name": COOKIE, "value": member.token, "url": live_server}])


def _synthetic_objects(web_vault: WebVault, live_server: str, folder: Path) -> None:
    """A plan, an incident and an alert, so that their detail pages are walked too."""
    admin, dpo = web_vault.members[Role.LAB_ADMIN], web_vault.members[Role.DPO]
    plan = {
        "plan": "transfert-l01",
        "controller": {"name": "Réseau de démonstration", "labs": ["L01", "L02"]},
        "processor": {"name": "Éditeur SIL SAS"},
        "purpose": "Transfert des dossiers de L01 vers le nouveau SIL",
        "source": {"format": "legacy-csv", "path": "export.csv"},
        "scope": {"labs": ["L01"]},
        "fields": {"admin": ["birth_name", "nir"]},
        "recipients": [{"name": "Nouveau SIL", "age": AgeIdentity.generate().public_text()}],
        "retention": {"expires": "2099-12-31"},
        "approvers": [
            {"username": admin.username, "role": "lab_admin"},
            {"username": dpo.username, "role": "dpo"},
        ],
    }
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    plans = Plans(web_vault.vault)
    if not any(p.id == "transfert-l01" for p in plans.all()):
        plans.register(load_plan(path), web_vault.members[Role.MIGRATION_OPERATOR].username)
    bearer = {"Authorization": f"Bearer {dpo.token}"}
    opened = httpx.post(
        f"{live_server}/api/v1/incidents",
        json={"title": "Fichier de patients trouvé sur un forum", "found_on": "forum"},
        headers=bearer,
    )
    assert opened.status_code == 200, opened.text
    refused = httpx.get(  # a lab admin reading a patient: refused, audited, alerted
        f"{live_server}/api/v1/patients/{web_vault.maelle.id}",
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert refused.status_code == 403


def test_every_page_of_every_role_reads_without_english(
    tabs: Any, web_vault: WebVault, live_server: str, tmp_path: Path
) -> None:
    maelle = web_vault.maelle
    _synthetic_objects(web_vault, live_server, tmp_path)
    leaks: list[str] = []
    walked: dict[Role, int] = {}
    for role in Role:
        page = tabs()
        labs = ("*",) if role in (Role.DPO, Role.AUDITOR, Role.MIGRATION_OPERATOR) else ("L01",)
        member = web_vault.person(role, labs)  # fresh: other tests may have locked theirs
        _session_of(page, live_server, member)
        seeds = ["/", "/home"]
        if role in (Role.RECEPTION, Role.BIOLOGIST):
            seeds += [f"/patients/{maelle.id}", f"/patients/{maelle.id}/specimens/new"]
        count = 0
        for url, text in walk(page, seeds):
            count += 1

            leaks += [f"{role.value} {url}: {word}" for word in english_in(text)]
        walked[role] = count
        page.context.close()
    assert all(n >= 2 for n in walked.values()), walked
    assert leaks == [], "English on the pages:\n" + "\n".join(sorted(set(leaks)))


def test_the_word_test_catches_english_and_spares_french() -> None:
    assert {"ran", "event"} <= set(english_in("tguivarch ran migration.run (ok, event seq 12)"))
    assert {"the", "account", "approved"} <= set(english_in("the account was approved"))
    french = "Le plan de migration du 3 décembre 2026 : date, page, message, client, total."
    assert english_in(french) == []
    assert english_in("NIR TOTP PDF") == []
    assert english_in("plan api-export-the_operator0, migration.run, the.dpo@example.org") == []


def _decode(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(io.BytesIO(pdf))
    try:
        image = document[0].render(scale=600 / 72).to_pil()
    finally:
        document.close()
    return [f"{r.format.name}:{r.text}" for r in zxingcpp.read_barcodes(image)]


def _label_screenshot(pdf: bytes) -> None:
    """docs/screenshots/tube-label.png: the label as printed, rendered from its PDF."""
    import os

    if os.environ.get("ETANCHE_SCREENSHOTS") != "1":
        return
    document = pypdfium2.PdfDocument(io.BytesIO(pdf))
    try:
        image = document[0].render(scale=300 / 72).to_pil()
    finally:
        document.close()
    SHOTS.mkdir(parents=True, exist_ok=True)
    image.save(Path(SHOTS) / "tube-label.png")


def test_a_specimen_prefills_the_prescriber_moves_the_visit_and_prints_its_label(
    tabs: Any, web_vault: WebVault
) -> None:
    maelle = web_vault.maelle
    web_vault.vault.update(replace(web_vault.vault.get(maelle.id), last_visit=date(2025, 11, 3)))
    page = tabs()
    log_in(page, web_vault, web_vault.person(Role.RECEPTION))
    page.goto(f"/patients/{maelle.id}")
    page.get_by_role("link", name="Enregistrer un prélèvement").click()
    page.wait_for_url(f"**/patients/{maelle.id}/specimens/new")
    assert page.get_by_label("Nom du prescripteur").input_value() == "Dr Céline Courtois"
    assert page.get_by_label("Numéro RPPS").input_value() == "10507989589"
    accession = page.get_by_label(re.compile("^Numéro d'enregistrement")).input_value()
    page.get_by_label(re.compile("^Date et heure du prélèvement")).fill("2026-12-02T08:30")
    page.get_by_role("button", name="Enregistrer le prélèvement").click()
    page.wait_for_url(re.compile(rf"/patients/{maelle.id}\?"))
    status = page.locator("#prelevement-enregistre")
    assert f"Prélèvement n° {accession} enregistré" in status.inner_text()
    visit = page.locator("dt:has-text('Dernière visite') + dd").inner_text()
    assert visit == "02/12/2026"
    with page.expect_download() as download_info:
        status.get_by_role("link", name="Imprimer l'étiquette du tube").click()
    download = download_info.value
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert _decode(pdf) == [f"Code128:{accession}"]
    _label_screenshot(pdf)
    shot(page, "specimen-recorded")


def test_the_dpo_reads_the_audit_and_migrations_and_opens_an_incident_in_french(
    tabs: Any, web_vault: WebVault, live_server: str, tmp_path: Path
) -> None:
    _synthetic_objects(web_vault, live_server, tmp_path)
    page = tabs()
    _session_of(page, live_server, web_vault.person(Role.DPO, ("*",)))
    page.goto("/migrations")
    deadline = page.locator("#plan-transfert-l01 ~ dl dt:has-text('Échéance') + dd")
    assert deadline.inner_text() == "sans échéance"
    assert english_in(page.evaluate(VISIBLE_TEXT)) == []
    shot(page, "migration-fr")
    page.goto("/audit")
    details = page.locator("td.details").first.inner_text()
    assert "=" not in details
    assert english_in(page.evaluate(VISIBLE_TEXT)) == []
    shot(page, "audit-fr")
    page.goto("/incidents")
    page.get_by_role("link", name="Ouvrir un incident").click()
    page.wait_for_url("**/incidents/new")
    page.get_by_label(re.compile("^Intitulé")).fill("Fichier de patients trouvé sur un forum")
    page.get_by_label(re.compile("^Où le fichier")).select_option("forum")
    shot(page, "incident-open")
    page.get_by_role("button", name="Ouvrir l'incident").click()
    page.wait_for_url(re.compile(r"/incidents/INC-"))
    assert "L'incident est ouvert" in page.locator("p.flash").inner_text()
