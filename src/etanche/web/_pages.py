"""French pages for lab staff and the DPO (placeholder router until the pages land)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
