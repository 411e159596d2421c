"""Identity vigilance over JSON: run the duplicate linkage, read its review queue.

The service decrypts, links and decides; these routes carry counts, record ids,
weights and level codes, never an identity value.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from etanche.web._auth import api_person
from etanche.web._state import Person

router = APIRouter(tags=["identity"])


@router.post("/identity/link")
def link(person: Person = Depends(api_person)) -> dict[str, Any]:
    """Train the model on the network's records and replace the review queue."""
    run = person.linkage().link()
    return {
        "run": run.run_id,
        "records": run.records,
        "pairs": run.pairs,
        "threshold": run.threshold,
        "seconds": run.seconds,
    }


@router.get("/identity/pairs")
def pairs(
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
    person: Person = Depends(api_person),
) -> dict[str, Any]:
    """The queue, strongest first: record ids, labs, weight, probability, level codes."""
    total, found = person.linkage().pairs(limit=limit, offset=offset)
    return {
        "total": total,
        "pairs": [
            {
                "left": p.left_id,
                "right": p.right_id,
                "left_lab": p.left_lab,
                "right_lab": p.right_lab,
                "match_weight": p.match_weight,
                "match_probability": p.match_probability,
                "levels": p.levels,
                "run": p.run_id,
                "found_at": p.found_at.isoformat(),
            }
            for p in found
        ],
    }
