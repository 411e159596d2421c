"""Custody: the service's sealed state, and custodians unsealing it (no person login)."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from etanche.errors import UsageError
from etanche.web._auth import api_person
from etanche.web._state import Person, ServerState, server

router = APIRouter(tags=["custody"])


class UnsealBody(BaseModel):
    share: str | None = Field(default=None, max_length=512)
    pin: str | None = Field(default=None, max_length=256)


@router.get("/status")
def status(state: ServerState = Depends(server)) -> dict[str, Any]:
    """Sealed or not, and how many custodian shares are still needed (no personal data)."""
    return state.core.custody.status()


@router.post("/custody/unseal")
def unseal(body: UnsealBody, state: ServerState = Depends(server)) -> dict[str, Any]:
    """One custodian's share (or the token PIN); the service unseals at the threshold."""
    given = body.share if body.share is not None else body.pin
    if not given:
        raise UsageError("unseal: give a share or a PIN")
    return state.core.unseal(given)


class ApproveBody(UnsealBody):
    operation: str = Field(max_length=32)


@router.post("/custody/approve")
def approve(body: ApproveBody, state: ServerState = Depends(server)) -> dict[str, Any]:
    """One custodian approves a custody operation (KEK rotation, resharing) with their share."""
    given = body.share if body.share is not None else body.pin
    if not given:
        raise UsageError("approve: give a share or a PIN")
    return state.door.ceremonies().approve(body.operation, given, client="custody")


class NewCustodian(BaseModel):
    name: str = Field(max_length=64)
    recipient: str = Field(max_length=200)


class ReshareBody(BaseModel):
    custodians: list[NewCustodian] = Field(min_length=1, max_length=16)
    threshold: int = Field(ge=1, le=16)


@router.post("/custody/reshare")
def reshare_custody(body: ReshareBody, person: Person = Depends(api_person)) -> dict[str, Any]:
    """New custodians or threshold (lab admin, after a fresh quorum approved "reshare")."""
    shares = person.reshare([(c.name, c.recipient) for c in body.custodians], body.threshold)
    return {
        "threshold": body.threshold,
        "shares": {name: base64.b64encode(data).decode("ascii") for name, data in shares.items()},
    }
