"""``etanche access-report``: the patient's copy (GDPR art. 15) and its offline check.

``access-report PATIENT_ID --out DIR`` asks the service (DPO) for the French PDF
and the FHIR Bundle, encrypted with age to ``--passphrase-file`` or to the
patient's ``--recipient``, or the PDF alone with ``--print``. ``access-report
verify FILE --log-key KEY`` checks a decrypted Bundle offline with pinned keys.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated

import typer

from etanche._files import write_private
from etanche.cli import _context as ctx
from etanche.cli._app import app
from etanche.errors import SourceError, UsageError

VERIFY = "verify"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path.name}: cannot read ({type(exc).__name__})") from None


@app.command("access-report")
def access_report(
    target: Annotated[str, typer.Argument(help="PATIENT_ID, or `verify` to check a report.")],
    file: Annotated[
        Path | None, typer.Argument(help="With verify: the report's FHIR JSON (decrypted).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder (0700) for the files, or FILE.pdf.")
    ] = None,
    passphrase_file: Annotated[
        Path | None, typer.Option("--passphrase-file", help="Encrypt to this passphrase.")
    ] = None,
    recipient: Annotated[
        str | None, typer.Option("--recipient", help="Encrypt to the patient's age1… key.")
    ] = None,
    printed: Annotated[
        bool, typer.Option("--print", help="The PDF alone, unencrypted, to be printed.")
    ] = False,
    log_key: Annotated[
        Path | None, typer.Option("--log-key", help="With verify: the log's pinned vkey.")
    ] = None,
    witnesses: Annotated[
        Path | None, typer.Option("--witnesses", help="With verify: pinned witness list.")
    ] = None,
    quorum: Annotated[
        int | None, typer.Option(min=0, help="With verify: cosignatures needed (default all).")
    ] = None,
) -> None:
    """The art. 15 access report of a patient (dpo), or `verify FILE` offline; exit 5 if bad.

    The report holds the whole record, the purposes, recipients (exports and migrations
    that carried it), retention, and every logged access with its inclusion proof.
    """
    if target == VERIFY:
        _verify(file, log_key, witnesses, quorum)
        return
    if file is not None or log_key is not None or witnesses is not None:
        raise UsageError("access-report: FILE, --log-key and --witnesses go with `verify`")
    if out is None:
        raise UsageError("access-report: --out DIR (or FILE.pdf with --print) is required")
    passphrase = None
    if passphrase_file is not None:
        passphrase = _read(passphrase_file).decode("utf-8", "replace").rstrip("\r\n")
    body = {"patient": target, "passphrase": passphrase, "recipient": recipient,
            "printed": printed}  # fmt: skip
    answer = ctx.service().post("/rights/access-report", body)
    files: dict[str, str] = answer["files"]
    if printed and out.suffix.lower() == ".pdf":
        paths = [out]
        write_private(out, base64.b64decode(next(iter(files.values()))))
    else:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        paths = [out / name for name in files]
        for path, data in zip(paths, files.values(), strict=True):
            write_private(path, base64.b64decode(data))
    how = "encrypted with age" if answer["encrypted"] else "NOT encrypted (print)"
    ctx.say(
        f"Access report: {answer['entries']} logged accesses, proved in checkpoint "
        f"{answer['tree_size']}; {how}: {', '.join(str(p) for p in paths)}."
    )


def _verify(file: Path | None, log_key: Path | None, witnesses: Path | None,
            quorum: int | None) -> None:  # fmt: skip
    if file is None or log_key is None:
        raise UsageError("access-report verify: FILE and --log-key KEY are required")
    from etanche import verify as offline  # the local verifier, loaded only here

    key = offline.NoteKey.parse(_read(log_key).decode("ascii", "replace"), log_key.name)
    pinned = offline.read_keys(witnesses, "witness") if witnesses is not None else []
    checked = offline.verify_access_report(_read(file), key, [k for k, _ in pinned], quorum)
    witnessed = f", cosigned by {', '.join(checked.witnesses)}" if checked.witnesses else ""
    ctx.say(
        f"access report ok: {checked.entries} entries, each included in checkpoint "
        f"{checked.tree_size} signed by the pinned log key{witnessed}; the list is the one "
        "the log key signed."
    )
