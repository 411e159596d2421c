"""Key operations over JSON: KEK rotation and a lab's re-encryption (streamed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from etanche.web._auth import api_person
from etanche.web._state import Person
from etanche.web.api._common import Progress, streamed

router = APIRouter(tags=["keys"])


class RotateLab(BaseModel):
    batch_size: int = Field(default=500, ge=1, le=100_000)


@router.post("/keys/rotate-kek")
def rotate_kek(person: Person = Depends(api_person)) -> dict[str, Any]:
    """A new key-encryption key; every data key is rewrapped, no data re-encrypted."""
    kek_id, count = person.keys().rotate_kek()
    return {"kek": kek_id, "data_keys": count}


@router.post("/keys/rotate-lab/{lab_id}")
def rotate_lab(
    lab_id: str, body: RotateLab, person: Person = Depends(api_person)
) -> StreamingResponse:
    """Re-encrypt a lab under a new lab key, in resumable batches; progress streamed."""
    keys = person.keys()
    total = keys.lab_size(lab_id)

    def work(progress: Progress) -> dict[str, Any]:
        done = [0]

        def advance(n: int) -> None:
            done[0] += n
            progress(done[0])

        report = keys.rotate_lab(lab_id, batch_size=body.batch_size, progress=advance)
        return {
            "lab": lab_id,
            "version": report.to_version,
            "patients": report.rows,
            "finished": report.finished,
            "total": total,
        }

    return streamed(work)
