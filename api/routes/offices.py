"""The offices (any role): ids and names for sign-in, filters and tokens. No participant data."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ConnDep, CurrentPrincipal
from api.schemas import Office, Page
from matching.store import directory

router = APIRouter(prefix="/v1/offices", tags=["offices"])


@router.get("", response_model=Page[Office], summary="Every office")
def list_offices(principal: CurrentPrincipal, conn: ConnDep):
    items = directory.offices(conn)
    return {"items": items, "total": len(items)}
