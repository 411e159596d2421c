"""The vault's own integrity over JSON: stored ciphertexts against their logged writes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from etanche.web._auth import api_person
from etanche.web._state import Person

router = APIRouter(tags=["vault"])


@router.post("/vault/reindex")
def reindex(person: Person = Depends(api_person)) -> dict[str, Any]:
    """Backfill the missing front-desk index rows (network-wide lab admin); audited."""
    return person.reindex().run().to_dict()


@router.post("/vault/verify")
def verify(person: Person = Depends(api_person)) -> dict[str, Any]:
    """Every stored value against its last logged write (auditor, DPO); audited."""
    return person.revisions().verify().to_dict()
