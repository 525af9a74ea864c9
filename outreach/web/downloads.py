"""GET /visits.xlsx: my visit list as Excel, with the filters of /visits (tier, village, status),
audited as export_list. The fill-in columns (走访日期, 核查结果, 需求, 备注) come back through
`lowinc visits import`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from lowinc.errors import BadValue
from outreach.export import export_user_list
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
    headers = {
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{exported.filename}"',
    }
    return Response(exported.content, media_type=XLSX, headers=headers)
