"""GET /alerts/{alert_id}: the household behind an alert, and POST /alerts/{alert_id}/outcome:
the outcome form (核查结果).

Both go through the one authorization layer: the dossier (:func:`outreach.dossier.household_dossier`)
and the record (:func:`outreach.outcomes.record_outcome`) each authorize the alert against the
user's scope, so an alert outside the area answers 404 by URL and by form post alike. A refused
record re-renders the page with the one-line reason (status 400); a recorded one redirects (303)
back to the page with a confirmation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from lowinc.errors import NotFound
from outreach.dossier import household_dossier
from outreach.field import RESULTS
from outreach.jurisdiction import audited_refusals, authorized_alert
from outreach.outcomes import local_today, record_outcome
from outreach.web.deps import SignedIn, csrf_checked_for, render, require, web_context
from outreach.web.forms import Posted, posted_date, record_or_refuse

router = APIRouter()
MAX_ALERT_ID = 2**31 - 1  # an id beyond any row: the same 404 without asking the database
RELATIONS = ("head", "spouse", "son", "daughter", "parent", "grandchild", "sibling", "other")


@dataclass
class OutcomeForm:
    """What the form shows: the values posted (or the defaults) and the reason of a refusal."""

    visited_on: str = ""
    result: str = ""
    needs: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    note: str = ""
    correction: bool = False
    error: str | None = None  # a message key of alerts.yaml, or a refusal's own line
    error_key: bool = True


def _valid_id(alert_id: int) -> int:
    if not 0 < alert_id <= MAX_ALERT_ID:
        raise NotFound(f"no alert {alert_id}")
    return alert_id


def _page(
    request: Request, who: SignedIn, alert_id: int, form: OutcomeForm | None = None, status: int = 200
) -> Response:
    ctx = web_context(request)
    dossier = household_dossier(ctx.engine, ctx.layout, who.scope, _valid_id(alert_id), ctx.now())
    today = local_today(ctx.now())
    form = form or OutcomeForm(visited_on=today.isoformat())
    current = next((v for v in dossier.visits if v.alert_id == alert_id and v.current), None)
    return render(
        request,
        "alert.html",
        status_code=status,
        d=dossier,
        form=form,
        today=today.isoformat(),
        earliest=dossier.alert.as_of.isoformat(),
        field=ctx.outreach.field,
        results=RESULTS,
        current_visit=current,
        recorded=request.query_params.get("recorded") == "1",
        may_record=who.may("record_visit"),
        relations=RELATIONS,
    )


@router.get("/alerts/{alert_id}")
def alert_page(
    request: Request, alert_id: int, who: Annotated[SignedIn, Depends(require("view_household"))]
) -> Response:
    """The household behind the alert, for a user whose area covers it (404 else)."""
    return _page(request, who, alert_id)


@router.post("/alerts/{alert_id}/outcome")
async def post_outcome(
    request: Request, alert_id: int, who: Annotated[SignedIn, Depends(csrf_checked_for("record_visit"))]
) -> Response:
    """Record the form's outcome through outreach.outcomes.record_outcome (source web)."""
    ctx = web_context(request)
    posted = Posted(await request.form())
    form = OutcomeForm(
        visited_on=posted.text("visited_on", 20),
        result=posted.text("result", 20),
        needs=posted.codes("needs"),
        routes=posted.codes("routes"),
        note=posted.text("note", ctx.outreach.field.note_max_chars + 1),
        correction=posted.flag("correction"),
    )
    # the area first: an alert outside it is a 404 whatever the form says
    target = f"alert:{alert_id}"
    with (
        audited_refusals(
            ctx.engine, actor=who.user.name, action="record_visit_denied", target=target, now=ctx.now()
        ),
        Session(ctx.engine) as session,
    ):
        earliest = authorized_alert(session, who.scope, _valid_id(alert_id)).as_of
    visited_on = posted_date(form.visited_on)
    today = local_today(ctx.now())
    if visited_on is None:
        form.error = "alert_error_date"
    elif visited_on < earliest:
        form.error = "alert_error_early"
    elif visited_on > today:
        form.error = "alert_error_future"
    elif form.result not in RESULTS:
        form.error = "alert_error_result"
    elif (form.needs or form.routes) and form.result != "confirmed":
        form.error = "alert_error_needs"
    if form.error is None and visited_on is not None:
        day: dt.date = visited_on

        def record() -> None:
            record_outcome(
                ctx.engine,
                alert_id=alert_id,
                user_name=who.user.name,
                visited_on=day,
                result=form.result,
                needs=form.needs,
                routes=form.routes,
                note=form.note or None,
                now=ctx.now(),
                correction=form.correction,
                source="web",
                field=ctx.outreach.field,
            )

        done = record_or_refuse(record, form, f"/alerts/{alert_id}?recorded=1#outcome")
        if done is not None:
            return done
    return _page(request, who, alert_id, form, status=400)
