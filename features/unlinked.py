"""Hidden-need signals of the people living in the area without local hukou (issue 16).

Ingest accepts a department row whose person is not in the area's hukou register and lists
that person in the ``unlinked`` canonical table (person key, source table, month); no
household feature can reach them, because a household is a hukou household. This module
gives each unlinked person at T the signals their own department rows carry (medical
out-of-pocket cost and care, disability and its subsidies, loss of work) and a score by
simple rules, for a second list of its own (the issue's "a second list for them").

Who counts at T: a person listed in an ``unlinked`` partition delivered before T's month
within ``months`` (12 by default) and still outside the register, that is, not a member of a
household at T (``members``, optional). Their rows: the canonical rows delivered before T
(the point-in-time rule of features.timeline), events in the windows named.

The score is a sum of points, documented in UnlinkedRules: every signal is a fact a worker
can check at the door, and no income is known for these people, so the rules do not guess it.
Like every score here it triggers a visit, never a decision.

Pure: frames in, a frame out; reading and listing live elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.disability import certificate_history
from features.spine import key_index
from features.timeline import in_window, known_before, month_number, ts_month_number

UNLINKED_COLUMNS = (
    "person_key",
    "as_of",
    "sources",
    "oop_medical_12m",
    "inpatient_stays_12m",
    "chronic_outpatient_12m",
    "critical_illness_paid_12m",
    "medical_assistance_paid_12m",
    "severe_disability",
    "disability_no_care_subsidy",
    "newly_unemployed_3m",
    "unemployed",
    "contribution_interrupted",
    "score",
    "rank",
)


@dataclass(frozen=True)
class UnlinkedRules:
    """Points of the ranking score (all non-negative; a person's score is their sum).

    - catastrophic: 12-month out-of-pocket medical cost at least ``catastrophic_share`` of last
      year's local per-capita disposable income (the share a health-economics "catastrophic"
      test uses, 40%, against the only income figure known for them: the local one);
    - heavy_care: SERIOUS_STAYS or more hospital stays, or critical-illness insurance paid;
    - chronic: a chronic/special outpatient settlement;
    - severe_disability: a valid grade 1-2 certificate; no_care_subsidy on top of it when the
      certificate shows no 重度残疾人护理补贴;
    - job_loss: an unemployment registration in 3 months, or the latest registration
      unemployed, or the latest contribution interrupted (once, whichever holds).
    Ties are broken by out-of-pocket cost, then by the person key (a stable order).
    """

    catastrophic_share: float = 0.4
    serious_stays: int = 2
    catastrophic: float = 3.0
    heavy_care: float = 2.0
    chronic: float = 1.0
    severe_disability: float = 2.0
    no_care_subsidy: float = 1.0
    job_loss: float = 2.0


@dataclass(frozen=True)
class UnlinkedSources:
    """Canonical rows of the departments (with ``known_month`` and ``event_date``); empty
    frames where a source has none."""

    medical_settlements: pd.DataFrame
    disability_certificates: pd.DataFrame
    employment_registrations: pd.DataFrame
    pension_contributions: pd.DataFrame


def unlinked_people(
    unlinked_rows: pd.DataFrame, as_of: pd.Timestamp, months: int, members: pd.Series | None
) -> pd.Index:
    """Person keys listed unlinked in the deliveries of the ``months`` before T and not
    members of a household at T, sorted."""
    u = known_before(unlinked_rows, as_of)
    if len(u):
        u = u[month_number(u["known_month"]) >= ts_month_number(as_of) - months]
    keys = pd.Index(pd.unique(u["person_key"].astype("str").to_numpy()) if len(u) else [], dtype=object)
    if members is not None and len(members):
        keys = keys[~keys.isin(members.astype("str").to_numpy())]
    return keys.sort_values()


def _position(people: pd.Index, rows: pd.DataFrame) -> np.ndarray:
    if rows.empty:
        return np.empty(0, "int64")
    found: np.ndarray = people.get_indexer(key_index(rows["person_key"].astype("str")))
    return found


def _sum(pos: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    keep = pos >= 0
    w = None if weights is None else np.asarray(weights, dtype="float64")[keep]
    return np.bincount(pos[keep], weights=w, minlength=n)


def medical_signals(
    people: pd.Index, settlements: pd.DataFrame, as_of: pd.Timestamp
) -> dict[str, np.ndarray]:
    """Out-of-pocket cost, stays, chronic care and insurance payments in 12 months."""
    n = len(people)
    s = settlements[in_window(settlements, as_of, 12)] if len(settlements) else settlements
    pos = _position(people, s)
    if s.empty:
        zeros = np.zeros(n)
        return {k: zeros for k in ("oop", "inpatient", "chronic", "critical", "assistance")}
    visit = s["visit_type"].to_numpy()
    return {
        "oop": _sum(pos, n, s["copay"].to_numpy() + s["self_pay"].to_numpy()),
        "inpatient": _sum(pos[visit == "inpatient"], n),
        "chronic": _sum(pos[visit == "chronic_outpatient"], n),
        "critical": _sum(pos, n, s["critical_illness_paid"].to_numpy()),
        "assistance": _sum(pos, n, s["assistance_paid"].to_numpy()),
    }


def disability_signals(
    people: pd.Index, certificates: pd.DataFrame, as_of: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray]:
    """(valid grade 1-2 certificate at T, and without the care subsidy) per person."""
    n = len(people)
    severe, no_care = np.zeros(n, bool), np.zeros(n, bool)
    if certificates.empty:
        return severe, no_care
    h = certificate_history(certificates)
    now = h[h["event_date"].to_numpy() < np.datetime64(as_of)].drop_duplicates("person_key", keep="last")
    pos = _position(people, now)
    is_severe = now["valid"].to_numpy() & np.isin(now["grade"].to_numpy(), (1.0, 2.0)) & (pos >= 0)
    severe[pos[is_severe]] = True
    no_care[pos[is_severe & (now["care_subsidy"].to_numpy() != "Y")]] = True
    return severe, no_care


def work_signals(
    people: pd.Index, registrations: pd.DataFrame, contributions: pd.DataFrame, as_of: pd.Timestamp
) -> dict[str, np.ndarray]:
    """Unemployment registered in 3 months, latest registration unemployed, latest
    contribution month interrupted."""
    n = len(people)
    out = {k: np.zeros(n, bool) for k in ("new", "unemployed", "interrupted")}
    end = np.datetime64(as_of)
    r = registrations
    if len(r):
        r = r[r["event_date"].to_numpy() < end]
        jobless = r["registration_type"].to_numpy() == "unemployed"
        recent = _position(people, r[jobless & in_window(r, as_of, 3)])
        out["new"][recent[recent >= 0]] = True
        latest = r.sort_values(["event_date", "known_month"], kind="stable").drop_duplicates(
            "person_key", keep="last"
        )
        pos = _position(people, latest)
        out["unemployed"][pos[(pos >= 0) & (latest["registration_type"].to_numpy() == "unemployed")]] = True
    c = contributions
    if len(c):
        c = c[c["event_date"].to_numpy() < end]
        latest = c.sort_values(["event_date", "known_month"], kind="stable").drop_duplicates(
            "person_key", keep="last"
        )
        pos = _position(people, latest)
        out["interrupted"][pos[(pos >= 0) & (latest["payment_status"].to_numpy() == "interrupted")]] = True
    return out


def unlinked_signals(
    unlinked_rows: pd.DataFrame,
    as_of: pd.Timestamp,
    sources: UnlinkedSources,
    local_income: float,
    rules: UnlinkedRules | None = None,
    months: int = 12,
    members: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per unlinked person at T (UNLINKED_COLUMNS), ranked by the rules' score
    (rank 1 first).

    ``unlinked_rows``: the ``unlinked`` canonical table (known_month, person_key, table ...);
    ``sources``: the departments' canonical rows (cut here to those known before T);
    ``local_income``: last year's local per-capita disposable income (features.policy);
    ``members``: person keys of the hukou members at T, who are no longer unlinked."""
    rules = rules or UnlinkedRules()
    people = unlinked_people(unlinked_rows, as_of, months, members)
    n = len(people)
    known = {
        name: known_before(getattr(sources, name), as_of)
        for name in (
            "medical_settlements",
            "disability_certificates",
            "employment_registrations",
            "pension_contributions",
        )
    }
    med = medical_signals(people, known["medical_settlements"], as_of)
    severe, no_care = disability_signals(people, known["disability_certificates"], as_of)
    work = work_signals(people, known["employment_registrations"], known["pension_contributions"], as_of)
    catastrophic = med["oop"] >= rules.catastrophic_share * local_income
    heavy = (med["inpatient"] >= rules.serious_stays) | (med["critical"] > 0)
    job_loss = work["new"] | work["unemployed"] | work["interrupted"]
    score = (
        rules.catastrophic * catastrophic
        + rules.heavy_care * heavy
        + rules.chronic * (med["chronic"] > 0)
        + rules.severe_disability * severe
        + rules.no_care_subsidy * no_care
        + rules.job_loss * job_loss
    )
    u = known_before(unlinked_rows, as_of)
    tables = (
        u.assign(person_key=u["person_key"].astype("str"))
        .groupby("person_key")["table"]
        .agg(lambda t: ",".join(sorted(set(t))))
        if len(u)
        else pd.Series(dtype="str")
    )
    frame = pd.DataFrame(
        {
            "person_key": people.to_numpy(dtype=object),
            "as_of": pd.Series(np.full(n, np.datetime64(as_of, "us"))),
            "sources": tables.reindex(people).fillna("").to_numpy(dtype=object),
            "oop_medical_12m": med["oop"],
            "inpatient_stays_12m": med["inpatient"].astype("int64"),
            "chronic_outpatient_12m": med["chronic"].astype("int64"),
            "critical_illness_paid_12m": med["critical"],
            "medical_assistance_paid_12m": med["assistance"],
            "severe_disability": severe,
            "disability_no_care_subsidy": no_care,
            "newly_unemployed_3m": work["new"],
            "unemployed": work["unemployed"],
            "contribution_interrupted": work["interrupted"],
            "score": score.astype("float64"),
        }
    )
    order = np.lexsort(
        (frame["person_key"].to_numpy(dtype=str), -frame["oop_medical_12m"].to_numpy(), -score)
    )
    frame = frame.iloc[order].reset_index(drop=True)
    frame["rank"] = np.arange(1, n + 1, dtype="int64")
    frame["person_key"] = frame["person_key"].astype("str")
    frame["sources"] = frame["sources"].astype("str")
    return frame[list(UNLINKED_COLUMNS)]
