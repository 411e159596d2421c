"""The DPO's page « Qui a consulté ce dossier ? » and the art. 15 report it produces.

The list comes from the service (``AccessReports.accesses``: decided and
audited, labels in French); the report is built, encrypted and audited by the
service too. This page only zips the two age files for one download, or hands
back the PDF when the DPO ticks print.
"""

from __future__ import annotations

import io
import zipfile

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from etanche.errors import RecordNotFound, ValidationError
from etanche.web._auth import form_person, page_person
from etanche.web._pages_common import field, form_data, render
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

MIN_PASSPHRASE = 12


def _page(
    request: Request,
    person: Person,
    record: str,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    found: list[tuple[str, str]] | None = None,
) -> Response:
    accesses = None
    problems = dict(errors or {})
    if record:
        try:
            accesses = person.access_reports().accesses(record)
        except RecordNotFound:
            problems["dossier"] = "Aucun dossier ne porte cet identifiant (ou il a été effacé)."
    labs = {lab.id: lab.name for lab in person.state.door.labs()}
    return render(
        request,
        person,
        "access.html",
        {
            "record": record,
            "accesses": accesses,
            "labs": labs,
            "errors": problems,
            "values": {"dossier": record},
            "min_passphrase": MIN_PASSPHRASE,
            "found": found,
        },
        status_code=422 if problems and status_code == 200 else status_code,
    )


@router.get("/acces")
def access_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """The form, and with ``dossier`` the list of every logged action on that record."""
    record = request.query_params.get("dossier", "").strip()[:64]
    return _page(request, person, record)


@router.post("/acces/nir")
def find_by_nir(
    request: Request,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """The records holding a NIR (in a POST body, never a URL): ids and labs only."""
    try:
        found = person.access_reports().find_by_nir(field(form, "nir", 32))
    except ValidationError:
        errors = {"nir": "NIR invalide : 13 chiffres (2A ou 2B pour la Corse) et une clé."}
        return _page(request, person, "", errors, status_code=422)
    return _page(request, person, "", found=found)


@router.post("/acces/rapport")
def access_report(
    request: Request,
    person: Person = Depends(form_person),
    form: FormData = Depends(form_data),
) -> Response:
    """Produce the report: a ZIP of the two age files, or the PDF when print is asked."""
    record = field(form, "dossier", 64)
    printed = field(form, "imprimer", 10) == "oui"
    passphrase = field(form, "phrase", 1024)
    errors: dict[str, str] = {}
    if not printed:
        if len(passphrase) < MIN_PASSPHRASE:
            errors["phrase"] = (
                f"Indiquez une phrase de passe d'au moins {MIN_PASSPHRASE} caractères, "
                "à remettre au patient."
            )
        elif passphrase != field(form, "phrase2", 1024):
            errors["phrase2"] = "Les deux phrases de passe ne sont pas identiques."
    if errors:
        return _page(request, person, record, errors, status_code=422)
    delivery = person.access_reports().produce(
        record, passphrase=None if printed else passphrase, printed=printed
    )
    if printed:
        name, data = next(iter(delivery.files.items()))
        media = "application/pdf"
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for file_name, content in delivery.files.items():
                archive.writestr(file_name, content)
        name, data, media = f"acces-{record[-8:]}.zip", buffer.getvalue(), "application/zip"
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
