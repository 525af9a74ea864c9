"""GET /visits: the signed-in worker's or officer's ranked list within their area.

Filters (tier, village, status) come from a GET form; a village outside the user's area answers
404 like any other thing outside it. The rows are grouped by village and due date (one trip
covers several households), each links to /alerts/{id}; the Excel link carries the same filters
(/visits.xlsx). The query and its audit entry are outreach.worklist's.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from lowinc.divisions import load_divisions
from outreach.db import transaction
from outreach.jurisdiction import Scope
from outreach.web.deps import SignedIn, render, require, web_context
from outreach.workdays import configured_holidays
from outreach.worklist import DEFAULT_LIMIT, STATUSES, TIERS, worklist

router = APIRouter()
MAX_PAGE = 10_000


@cache
def _villages_by_area() -> dict[str, tuple[tuple[str, str], ...]]:
    """Each county, town and village code -> the (code, name) of the villages inside it."""
    frame = load_divisions()
    out: dict[str, list[tuple[str, str]]] = {}
    for village, name, town, county in zip(
        frame["village_code"], frame["village_name"], frame["town_code"], frame["county_code"], strict=True
    ):
        for area in (village, town, county):
            out.setdefault(area, []).append((village, name))
    return {area: tuple(sorted(rows)) for area, rows in out.items()}


def villages_in(scope: Scope) -> list[tuple[str, str]]:
    """The villages a user's areas hold, for the village filter."""
    table = _villages_by_area()
    found = {row for _, code in scope.areas for row in table.get(code, ())}
    return sorted(found)


def _blank(value: str | None) -> str | None:
    """A GET form sends an empty field for "all": read it as no filter."""
    return value if value else None


@router.get("/visits")
def visits_page(
    request: Request,
    who: Annotated[SignedIn, Depends(require("export_list"))],
    tier: Annotated[str | None, Query(max_length=20)] = None,
    village: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    ctx = web_context(request)
    with transaction(ctx.engine) as session:
        listed = worklist(
            session,
            who.scope,
            today=ctx.today(),
            limit=DEFAULT_LIMIT,
            offset=(page - 1) * DEFAULT_LIMIT,
            holidays=configured_holidays(),
            now=ctx.now(),
            tier=_blank(tier),
            village=_blank(village),
            status=_blank(status),
        )
    query = dict(listed.filters)
    pages = max(1, -(-listed.total // DEFAULT_LIMIT))

    def page_url(number: int) -> str:
        return "/visits?" + urlencode({**query, "page": number})

    return render(
        request,
        "visits.html",
        listed=listed,
        tiers=TIERS,
        statuses=STATUSES,
        villages=villages_in(who.scope),
        chosen=listed.filters,
        page=page,
        pages=pages,
        previous_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if listed.has_next else None,
        xlsx_url="/visits.xlsx" + ("?" + urlencode(query) if query else ""),
    )
