"""The needs register (救助对象需求库) for township and county officers: GET /needs (filters),
GET /needs.xlsx (the export, audited), POST /referrals/{id} (a referral's next status) and
POST /needs/{id}/met. A referral or need outside the officer's area answers 404, by link or form."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from lowinc.divisions import validate_code
from lowinc.errors import BadValue, NotFound, UserError
from outreach.needs import export_register, view_register
from outreach.outcomes import local_today
from outreach.referrals import REFERRAL_STATUSES, TRANSITIONS, mark_need_met, update_referral
from outreach.web.deps import SignedIn, csrf_checked_for, render, require, web_context

router = APIRouter()
MAX_NOTE = 2000  # characters of a posted note read at most (the configured limit is checked after)
DOWNLOAD_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(town: str | None, category: str | None, department: str | None, ctx: Any) -> dict[str, str]:
    """Known-good filters only: a malformed town is 404 (as one outside the area), an unknown
    category or department 400."""
    out: dict[str, str] = {}
    if town:
        try:
            out["town"] = validate_code(town, "town")
        except UserError:
            raise NotFound("no such township in your area") from None
    if category:
        if ctx.outreach.field.need(category) is None:
            raise BadValue("unknown need category")
        out["category"] = category
    if department:
        known = {r.department for r in ctx.outreach.field.routes if r.department}
        if department not in known:
            raise BadValue("unknown department")
        out["department"] = department
    return out


@router.get("/needs")
def needs_page(
    request: Request,
    who: Annotated[SignedIn, Depends(require("follow_referral"))],
    town: str | None = None,
    category: str | None = None,
    department: str | None = None,
    show: str = "open",
    done: str | None = None,
) -> Response:
    ctx = web_context(request)
    filters = _filters(town, category, department, ctx)
    if show not in ("open", "all"):
        raise BadValue("show must be open or all")
    now = ctx.now()
    register = view_register(
        ctx.engine,
        user_name=who.user.name,
        now=now,
        today=local_today(now),
        include_closed=show == "all",
        **filters,
    )
    field = ctx.outreach.field
    locale = who.locale
    names = {n.code: (n.en if locale == "en" else n.zh) for n in field.needs}
    routes = {r.code: (r.en if locale == "en" else r.zh) for r in field.routes}
    query = urlencode({**filters, **({"show": show} if show != "open" else {})})
    return render(
        request,
        "needs.html",
        needs=_rows(register.needs),
        referrals=_rows(register.referrals),
        summary=_rows(register.summary()),
        filters=filters,
        show=show,
        done=done if done in ("referral", "need") else None,
        need_names=names,
        route_names=routes,
        needs_config=field.needs,
        departments=sorted({r.department for r in field.routes if r.department}),
        towns=[code for level, code in who.scope.areas if level == "town"],
        transitions={k: sorted(v) for k, v in TRANSITIONS.items()},
        xlsx_url="/needs.xlsx" + (f"?{query}" if query else ""),
        back=f"/needs?{query}" if query else "/needs",
        statuses=REFERRAL_STATUSES,
    )


def _rows(frame: Any) -> list[dict[str, Any]]:
    clean = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in r.items()} for r in clean.to_dict("records")]


@router.get("/needs.xlsx")
def needs_download(
    request: Request,
    who: Annotated[SignedIn, Depends(require("follow_referral"))],
    town: str | None = None,
    csv: bool = False,
) -> Response:
    ctx = web_context(request)
    filters = _filters(town, None, None, ctx)
    now = ctx.now()
    exported = export_register(
        ctx.engine,
        user_name=who.user.name,
        now=now,
        today=local_today(now),
        town=filters.get("town"),
        as_csv=csv,
        field=ctx.outreach.field,
    )
    media = "text/csv; charset=utf-8" if csv else XLSX
    headers = {**DOWNLOAD_HEADERS, "Content-Disposition": f'attachment; filename="{exported.filename}"'}
    return Response(exported.content, media_type=media, headers=headers)


def _back(next_path: str) -> str:
    """Back to the register with the same filters (a local /needs path only)."""
    if next_path.startswith("/needs") and not next_path.startswith("/needs.") and "//" not in next_path:
        return next_path[:500]
    return "/needs"


@router.post("/referrals/{referral_id}")
def referral_update(
    request: Request,
    referral_id: int,
    who: Annotated[SignedIn, Depends(csrf_checked_for("follow_referral"))],
    status: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    next: Annotated[str, Form(max_length=500)] = "/needs",
) -> Response:
    ctx = web_context(request)
    update_referral(
        ctx.engine,
        referral_id=referral_id,
        user_name=who.user.name,
        status=status,
        note=note or None,
        now=ctx.now(),
        field=ctx.outreach.field,
    )
    target = _back(next)
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}done=referral", status_code=303)


@router.post("/needs/{need_id}/met")
def need_met(
    request: Request,
    need_id: int,
    who: Annotated[SignedIn, Depends(csrf_checked_for("follow_referral"))],
    next: Annotated[str, Form(max_length=500)] = "/needs",
) -> Response:
    ctx = web_context(request)
    mark_need_met(ctx.engine, need_id=need_id, user_name=who.user.name, now=ctx.now())
    target = _back(next)
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}done=need", status_code=303)
