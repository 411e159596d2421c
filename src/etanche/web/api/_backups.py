"""Backups over JSON: a new encrypted backup, and a restore drill of the newest one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from etanche.web._auth import api_person
from etanche.web._state import Person

router = APIRouter(tags=["backups"])


class NewBackup(BaseModel):
    out: str = Field(min_length=1, max_length=4096)


class Drill(BaseModel):
    folder: str = Field(min_length=1, max_length=4096)
    scratch: str | None = Field(default=None, max_length=4096)


@router.post("/backups")
def create(body: NewBackup, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Write an encrypted backup folder under ``out`` (a path on the service's host)."""
    return person.backups().create(body.out)


@router.post("/backups/drill")
def drill(body: Drill, person: Person = Depends(api_person)) -> dict[str, Any]:
    """Restore the newest backup into a scratch location, verify it, report, delete it."""
    return person.backups().drill(body.folder, body.scratch)
