"""GET /lists: the township's other lists within the signed-in user's area — 核查 (reverify),
渐退 (phase_out), 应救尽救 (entitlement) and 无本地户籍 (unlinked) — one tab each
(``?kind=``), for the latest month with lists or ``?as_of=YYYY-MM-DD``.

An unknown kind or a malformed date answers the 400 page with its one line, a month without
lists the 404 page. The reading, scoping, naming and the audit entry are
outreach.other_lists'.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from outreach.check_records import CHECK_RESULTS
from outreach.db import transaction
from outreach.other_lists import KINDS, MAX_PAGE, other_list
from outreach.web.deps import SignedIn, render, require, web_context

router = APIRouter()


@router.get("/lists")
def lists_page(
    request: Request,
    who: Annotated[SignedIn, Depends(require("export_list"))],
    kind: Annotated[str | None, Query(max_length=20)] = None,
    as_of: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    ctx = web_context(request)
    with transaction(ctx.engine) as session:
        listed = other_list(session, ctx.layout, who.scope, kind=kind, as_of=as_of, now=ctx.now(), page=page)
    month = {"as_of": listed.as_of.isoformat()} if listed.as_of else {}

    def url(**values: object) -> str:
        return "/lists?" + urlencode({"kind": listed.kind, **month, **values})

    return render(
        request,
        "lists.html",
        listed=listed,
        kinds=KINDS,
        check_results=CHECK_RESULTS,
        tab_urls={k: "/lists?" + urlencode({"kind": k, **month}) for k in KINDS},
        previous_url=url(page=page - 1) if page > 1 else None,
        next_url=url(page=page + 1) if page < listed.pages else None,
    )
