"""GET /dashboard: what a township or county officer watches (outreach.dashboard), with charts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from lowinc.errors import BadValue
from outreach.check_records import CHECK_RESULTS
from outreach.dashboard import view_dashboard
from outreach.entitlements import PROGRAMME_ZH
from outreach.field import RESULTS
from outreach.outcomes import local_today
from outreach.web.charts import Bar, bar_chart
from outreach.web.deps import SignedIn, render, require, web_context
from outreach.web.i18n import translate

router = APIRouter()
RESULT_CSS = {
    "confirmed": "bar-red",
    "no_hardship": "bar",
    "assisted": "bar-blue",
    "unreachable": "bar-muted",
}


def parse_month(value: str | None) -> dt.date | None:
    """?as_of=YYYY-MM-01 (or YYYY-MM); None when not given; BadValue (400) otherwise."""
    if not value:
        return None
    text = value.strip()[:10]
    try:
        day = dt.date.fromisoformat(text if len(text) == 10 else f"{text}-01")
    except ValueError:
        raise BadValue("as_of must be a month: YYYY-MM-01") from None
    return day.replace(day=1)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # NaN


def _percent(value: object) -> str:
    return "—" if _missing(value) else f"{float(value):.0%}"  # type: ignore[arg-type]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts for the template, NaN and NA as None."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in r.items()} for r in clean.to_dict("records")]


@router.get("/dashboard")
def dashboard_page(
    request: Request, who: Annotated[SignedIn, Depends(require("view_dashboard"))], as_of: str | None = None
) -> Response:
    ctx = web_context(request)
    now = ctx.now()
    board = view_dashboard(
        ctx.engine,
        user_name=who.user.name,
        now=now,
        today=local_today(now),
        as_of=parse_month(as_of),
        layout=ctx.layout,
    )
    locale = who.locale
    villages = board.by_village
    completion_chart = bar_chart(
        [
            Bar(
                str(r["village_name"]),
                float(r["completion"] or 0),
                f"{_percent(r['completion'])} ({r['visited']}/{r['due']})",
            )
            for r in _records(villages)
        ],
        "completion by village",
        maximum=1.0,
    )
    worker_chart = bar_chart(
        [
            Bar(
                str(r["worker"]),
                float(r["completion"] or 0),
                f"{_percent(r['completion'])} ({r['visited']}/{r['due']})",
            )
            for r in _records(board.by_worker)
        ],
        "completion by worker",
        maximum=1.0,
    )
    tiers = board.outcomes_by_tier.set_index("tier")
    totals = {code: int(tiers[code].sum()) for code in RESULTS}
    result_chart = bar_chart(
        [
            Bar(
                RESULTS[code][1] if locale == "en" else RESULTS[code][0],
                totals[code],
                str(totals[code]),
                RESULT_CSS.get(code, "bar-muted"),
            )
            for code in RESULTS
        ],
        "outcomes",
    )
    precision_chart = bar_chart(
        [
            Bar(
                translate(f"dash_tier_{r['tier']}", locale),
                float(r["precision"] or 0),
                f"{_percent(r['precision'])} ({r['confirmed']}/{r['labelled']})",
                f"bar-{r['tier']}",
            )
            for r in _records(board.outcomes_by_tier)
        ],
        "field-verified precision by tier",
        maximum=1.0,
    )
    needs_chart = bar_chart(
        [
            Bar(_need_label(ctx, str(r["category"]), locale), int(r["open"]), str(r["open"]))
            for r in _records(board.needs_by_category)
        ],
        "open needs",
    )
    referral_chart = bar_chart(
        [
            Bar(str(r["department"]), int(r["open"]), f"{r['open']} ({r['overdue']})")
            for r in _records(board.referrals_by_department)
        ],
        "open referrals",
    )
    return render(
        request,
        "dashboard.html",
        board=board,
        villages=_records(villages),
        workers=_records(board.by_worker),
        overdue=_records(board.overdue),
        tiers=_records(board.outcomes_by_tier),
        needs=_records(board.needs_by_category),
        referrals=_records(board.referrals_by_department),
        reasons=_records(board.top_reasons),
        take_up=_records(board.take_up),
        checks=_records(board.checks),
        check_results=CHECK_RESULTS,
        programme_name=lambda code: PROGRAMME_ZH.get(code, code) if locale == "zh" else code,
        results=list(RESULTS),
        result_labels={c: (en if locale == "en" else zh) for c, (zh, en) in RESULTS.items()},
        need_label=lambda code: _need_label(ctx, code, locale),
        percent=_percent,
        charts={
            "completion": completion_chart,
            "workers": worker_chart,
            "results": result_chart,
            "precision": precision_chart,
            "needs": needs_chart,
            "referrals": referral_chart,
        },
    )


def _need_label(ctx: Any, code: str, locale: str) -> str:
    kind = ctx.outreach.field.need(code)
    if kind is None:
        return code
    return str(kind.en if locale == "en" else kind.zh)
