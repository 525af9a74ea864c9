"""GET /visits.xlsx: my visit list as Excel, with the filters of /visits (tier, village, status),
audited as export_list. The fill-in columns (走访日期, 核查结果, 需求, 备注) come back through
`lowinc visits import`. GET /lists.xlsx?kind=reverify|phase_out&as_of=: my rows of that 核查 or
渐退 list, audited as export_check_list; its fill-in columns (核查日期, 核查结果, 备注) come back
through `lowinc visits check-import`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from lowinc.errors import BadValue
from outreach.check_sheets import export_check_list
from outreach.export import UserList, export_user_list
from outreach.web.deps import SignedIn, require, web_context

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10]).replace(day=1)
    except ValueError:
        raise BadValue("as_of must be a date: YYYY-MM-01") from None


@router.get("/visits.xlsx")
def visits_download(
    request: Request,
    who: Annotated[SignedIn, Depends(require("export_list"))],
    tier: str | None = None,
    village: str | None = None,
    status: str | None = None,
    as_of: str | None = None,
) -> Response:
    ctx = web_context(request)
    exported = export_user_list(
        ctx.engine,
        who.scope,
        _month(as_of),
        now=ctx.now(),
        tiers=(tier,) if tier else (),
        village=village or None,
        status=status or None,
        field=ctx.outreach.field,
    )
    return _download(exported)


@router.get("/lists.xlsx")
def check_list_download(
    request: Request,
    who: Annotated[SignedIn, Depends(require("export_list"))],
    kind: Annotated[str, Query(max_length=20)],
    as_of: Annotated[str, Query(max_length=20)],
) -> Response:
    ctx = web_context(request)
    month = _month(as_of)
    if month is None:
        raise BadValue("as_of must be a date: YYYY-MM-01")
    exported = export_check_list(ctx.engine, ctx.layout, who.scope, kind=kind, as_of=month, now=ctx.now())
    return _download(exported)


def _download(exported: UserList) -> Response:
    headers = {
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{exported.filename}"',
    }
    return Response(exported.content, media_type=XLSX, headers=headers)
