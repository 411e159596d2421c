"""``etanche synth``: the synthetic lab network, into a vault or as a legacy CSV."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from etanche.cli import _context as ctx
from etanche.cli._app import Keyfile, Vault_, app
from etanche.errors import UsageError
from etanche.synth import SynthConfig, SynthNetwork, generate
from etanche.vault import Vault

_FRACTION = {"min": 0.0, "max": 1.0}


@app.command()
def synth(
    patients: Annotated[int, typer.Option(min=1, help="Number of patients.")] = 491_840,
    labs: Annotated[int, typer.Option(min=1, max=99, help="Number of labs.")] = 30,
    seed: Annotated[int, typer.Option(help="Seed: same seed, same network.")] = 0,
    legacy_csv: Annotated[
        Path | None, typer.Option(help="Write the legacy flat export (cp1252 CSV) here instead.")
    ] = None,
    invalid_nir_key: Annotated[
        float, typer.Option(**_FRACTION, help="Share of wrong NIR keys.")
    ] = 0.0,
    typos: Annotated[float, typer.Option(**_FRACTION, help="Share of typos in names.")] = 0.0,
    missing_fields: Annotated[
        float, typer.Option(**_FRACTION, help="Share of missing fields.")
    ] = 0.0,
    duplicates: Annotated[
        float, typer.Option(**_FRACTION, help="Share of patients registered again in another lab.")
    ] = 0.0,
    vault: Vault_ = None,
    keyfile: Keyfile = None,
) -> None:
    """Generate a synthetic network (never real data) into the vault, or as a legacy CSV."""
    config = SynthConfig(
        patients=patients,
        labs=labs,
        seed=seed,
        invalid_nir_key=invalid_nir_key,
        typos=typos,
        missing_fields=missing_fields,
        duplicates_across_labs=duplicates,
    )
    network = generate(config)
    if legacy_csv is not None:
        write_csv(network, legacy_csv)
        return
    if invalid_nir_key or typos:
        raise UsageError(
            "--invalid-nir-key/--typos: dirty data is only for --legacy-csv; the vault refuses it"
        )
    with ctx.open_vault(vault, keyfile) as store:
        load_network(store, network)


def write_csv(network: SynthNetwork, path: Path) -> None:
    from etanche.exchange.legacy_csv import write_legacy_csv

    if not path.parent.is_dir():
        raise UsageError(f"--legacy-csv {path}: folder {path.parent} does not exist")
    try:
        with ctx.progress_bar(f"Writing {path.name}", network.config.patients) as bar:
            rows = write_legacy_csv(network, path, progress=lambda n: ctx.advance(bar, n))
    except OSError as exc:
        raise UsageError(f"--legacy-csv {path}: cannot write ({exc.strerror})") from None
    ctx.console.print(f"Wrote {rows} rows of synthetic legacy export to {path}.")


def load_network(store: Vault, network: SynthNetwork) -> int:
    """Labs, then patients and specimens in one transaction, with a progress bar."""
    for lab in network.labs:
        store.add_lab(lab)
    with ctx.progress_bar("Encrypting patients", network.config.patients) as bar:
        count = store.add_many(
            ((p, s) for batch in network.batches() for p, s in batch),
            validate=False,  # generated valid by construction (tests/synth checks it)
            progress=lambda n: ctx.advance(bar, n),
            workers=1 if (os.cpu_count() or 1) > 1 else 0,
        )
    ctx.console.print(f"Added {count} synthetic patients in {len(network.labs)} labs.")
    return count
