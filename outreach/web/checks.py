"""GET /lists/{kind}/{as_of}/{code}: one household of the 核查 (reverify) or 渐退 (phase_out) list
with its re-verification records, and POST to the same address: record a visit (定期核查).

The row is found through :func:`outreach.other_lists.listed_household` in the user's scope, so a
household not on the list and one outside the area are the same 404, by URL and by form post. A
view is audited as ``view_household`` (kind, month), a refused one as ``view_household_denied``;
the record and its refusals are
:func:`outreach.checks.record_check`'s. A refused record re-renders the page with its one line
(400); a recorded one redirects (303) back with a confirmation. Nothing here decides eligibility:
the form says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from lowinc.errors import BadValue
from outreach.audit import record_audit
from outreach.check_records import CHECK_RESULTS, check_history, check_kind
from outreach.checks import record_check
from outreach.contacts import normalise_code
from outreach.db import transaction
from outreach.jurisdiction import audited_refusals
from outreach.other_lists import listed_household
from outreach.outcomes import local_today
from outreach.web.deps import SignedIn, csrf_checked_for, render, require, web_context
from outreach.web.forms import Posted, posted_date, record_or_refuse

router = APIRouter()
ADDRESS = "/lists/{kind}/{as_of}/{code}"
Kind = Annotated[str, Path(max_length=20)]
Month = Annotated[str, Path(max_length=20)]
Code = Annotated[str, Path(max_length=20)]


@dataclass
class CheckForm:
    """What the form shows: the values posted (or the defaults) and the reason of a refusal."""

    checked_on: str = ""
    result: str = ""
    note: str = ""
    correction: bool = False
    error: str | None = None  # a message key of checks.yaml, or a refusal's own line
    error_key: bool = True


def _address(kind: str, as_of: str, code: str) -> tuple[str, dt.date, str]:
    """The path's kind, month and household code, checked (BadValue: the 400 page)."""
    try:
        month = dt.date.fromisoformat(as_of)
    except ValueError as error:
        raise BadValue("the month must be a date written YYYY-MM-DD") from error
    return check_kind(kind), month, normalise_code(code)


def _page(
    request: Request,
    who: SignedIn,
    address: tuple[str, dt.date, str],
    form: CheckForm | None = None,
    status: int = 200,
) -> Response:
    ctx = web_context(request)
    kind, month, code = address
    target = f"check:{kind}:{month.isoformat()}:{code}"
    with (
        audited_refusals(
            ctx.engine, actor=who.user.name, action="view_household_denied", target=target, now=ctx.now()
        ),
        transaction(ctx.engine) as session,
    ):
        row = listed_household(session, ctx.layout, who.scope, kind=kind, as_of=month, code=code)
        history = check_history(session, str(row.household_key), month, kind)
        record_audit(
            session,
            actor=who.user.name,
            action="view_household",
            target=f"household:{row.household_key}",
            now=ctx.now(),
            detail={"list": kind, "as_of": month.isoformat()},
        )
    today = local_today(ctx.now())
    return render(
        request,
        "check.html",
        status_code=status,
        row=row,
        kind=kind,
        as_of=month,
        history=history,
        current=next((r for r in reversed(history) if r.current), None),
        results=CHECK_RESULTS[kind],
        form=form or CheckForm(checked_on=today.isoformat()),
        today=today.isoformat(),
        note_max=ctx.outreach.field.note_max_chars,
        recorded=request.query_params.get("recorded") == "1",
        may_record=who.may("record_visit"),
        action=f"/lists/{kind}/{month.isoformat()}/{code}",
        back=f"/lists?kind={kind}&as_of={month.isoformat()}",
    )


@router.get(ADDRESS)
def check_page(
    request: Request,
    kind: Kind,
    as_of: Month,
    code: Code,
    who: Annotated[SignedIn, Depends(require("view_household"))],
) -> Response:
    """The listed household and its records, for a user whose area holds it (404 else)."""
    return _page(request, who, _address(kind, as_of, code))


@router.post(ADDRESS)
async def post_check(
    request: Request,
    kind: Kind,
    as_of: Month,
    code: Code,
    who: Annotated[SignedIn, Depends(csrf_checked_for("record_visit"))],
) -> Response:
    """Record the form's visit through outreach.checks.record_check (source web)."""
    ctx = web_context(request)
    address = _address(kind, as_of, code)
    posted = Posted(await request.form())
    form = CheckForm(
        checked_on=posted.text("checked_on", 20),
        result=posted.text("result", 20),
        note=posted.text("note", ctx.outreach.field.note_max_chars + 1),
        correction=posted.flag("correction"),
    )
    checked_on = posted_date(form.checked_on)
    if checked_on is None:
        form.error = "check_error_date"
    else:
        day: dt.date = checked_on

        def record() -> None:
            record_check(
                ctx.engine,
                ctx.layout,
                kind=address[0],
                as_of=address[1],
                household_code=address[2],
                user_name=who.user.name,
                checked_on=day,
                result=form.result,
                note=form.note or None,
                now=ctx.now(),
                correction=form.correction,
                source="web",
                field=ctx.outreach.field,
            )

        path = f"/lists/{address[0]}/{address[1].isoformat()}/{address[2]}"
        done = record_or_refuse(record, form, f"{path}?recorded=1#check")
        if done is not None:
            return done
    return _page(request, who, address, form, status=400)
