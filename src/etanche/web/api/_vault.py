"""The vault's own integrity over JSON: stored ciphertexts against their logged writes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from etanche.web._auth import api_person
from etanche.web._state import Person

router = APIRouter(tags=["vault"])


@router.post("/vault/verify")
def verify(person: Person = Depends(api_person)) -> dict[str, Any]:
    """Every stored value against its last logged write (auditor, DPO); audited."""
    return person.revisions().verify().to_dict()
