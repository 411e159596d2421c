"""The identity officer's page: the queue of candidate duplicates, in French.

Each pair shows two pseudonymous record ids, their labs, the weight and the
comparisons that drove it, translated; no identity value is on this page. The
link opens the review of the pair, where revealing the identities is audited.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from etanche.web._auth import page_person
from etanche.web._pages_common import render
from etanche.web._pages_fr import LINKAGE_COMPARISONS, linkage_level
from etanche.web._state import Person

router = APIRouter(tags=["pages"])

PAGE_PAIRS = 100


@router.get("/identity/pairs")
def pairs_page(request: Request, person: Person = Depends(page_person)) -> Response:
    """The review queue, strongest pairs first, a page of 100."""
    raw = request.query_params.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
    total, found = person.linkage().pairs(limit=PAGE_PAIRS, offset=(page - 1) * PAGE_PAIRS)
    rows = [
        {
            "left": p.left_id,
            "right": p.right_id,
            "labs": p.left_lab if p.left_lab == p.right_lab else f"{p.left_lab} / {p.right_lab}",
            "weight": f"{p.match_weight:.1f}".replace(".", ","),
            "probability": f"{100 * p.match_probability:.1f} %".replace(".", ","),
            "agree": [
                f"{label} : {linkage_level(p.levels[name])}"
                for name, label in LINKAGE_COMPARISONS.items()
                if p.levels.get(name, "null") not in ("null", "different")
            ],
            "differ": [
                label
                for name, label in LINKAGE_COMPARISONS.items()
                if p.levels.get(name) == "different"
            ],
            "review": "/identity/review?" + urlencode({"left": p.left_id, "right": p.right_id}),
            "found_at": p.found_at,
        }
        for p in found
    ]
    pages = max(1, -(-total // PAGE_PAIRS))
    return render(
        request,
        person,
        "identity_pairs.html",
        {"rows": rows, "total": total, "page": min(page, pages), "pages": pages},
    )
