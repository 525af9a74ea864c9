"""The field loop's vocabulary: visit results (fixed), needs and routes (configured).

A home check (入户核查) ends in one of five results; only 确认困难 and 暂无困难 say something
about the household (a label, :data:`outreach.outcomes.LABELS`). A confirmed household's needs
(需求) go into the needs register (救助对象需求库); each route taken (救助路径) that another
department handles becomes a referral to it (转办转介), due ``due_days`` after the visit.
Needs and routes are configuration (``outreach.field`` in configs/outreach.yaml) because a
province names its own; the results are code, because the labels depend on them.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from lowinc.section import Section

# code -> (zh, en); the order is the form's and the Excel list's drop-down order
RESULTS: dict[str, tuple[str, str]] = {
    "confirmed": ("确认困难", "hardship confirmed"),
    "no_hardship": ("暂无困难", "no hardship now"),
    "assisted": ("已在救助", "already assisted"),
    "unreachable": ("联系不上", "unreachable"),
    "refused": ("拒绝", "refused"),
}
RESULT_BY_ZH = {zh: code for code, (zh, _en) in RESULTS.items()}
SOURCES = ("web", "cli", "import", "simulated")
CODE_PATTERN = r"^[a-z][a-z0-9_]{0,29}$"  # fits outcome_needs.category / referrals.route (30)


class NeedKind(Section):
    """A kind of need found at a confirmed visit."""

    code: str = Field(pattern=CODE_PATTERN)
    zh: str = Field(min_length=1, max_length=30)
    en: str = Field(min_length=1, max_length=60)


class RouteKind(Section):
    """A route of assistance; ``department`` None: civil affairs handles it itself (no referral)."""

    code: str = Field(pattern=CODE_PATTERN)
    zh: str = Field(min_length=1, max_length=30)
    en: str = Field(min_length=1, max_length=60)
    department: str | None = Field(default=None, min_length=1, max_length=40)
    due_days: int = Field(default=15, ge=1, le=365)  # the referral's due date: visited_on + due_days


DEFAULT_NEEDS = [
    NeedKind(code="basic_living", zh="基本生活", en="basic living"),
    NeedKind(code="medical", zh="医疗", en="medical"),
    NeedKind(code="education", zh="教育", en="education"),
    NeedKind(code="housing", zh="住房", en="housing"),
    NeedKind(code="employment", zh="就业", en="employment"),
    NeedKind(code="care", zh="照护", en="care"),
    NeedKind(code="rehabilitation", zh="康复", en="rehabilitation"),
    NeedKind(code="psychosocial", zh="心理与社会融入", en="psychological and social integration"),
]
DEFAULT_ROUTES = [
    RouteKind(code="dibao", zh="低保", en="minimum living allowance (dibao)"),
    RouteKind(code="tekun", zh="特困", en="extreme-poverty support (tekun)"),
    RouteKind(code="dibao_edge", zh="低保边缘", en="near-poverty household support"),
    RouteKind(code="medical_aid", zh="医疗救助", en="medical assistance", department="医保局", due_days=15),
    RouteKind(code="temporary_aid", zh="临时救助", en="temporary assistance"),
    RouteKind(
        code="employment_aid", zh="就业援助", en="employment assistance", department="人社局", due_days=15
    ),
    RouteKind(
        code="disability_subsidies",
        zh="残疾人两项补贴",
        en="the two disability subsidies",
        department="残联",
        due_days=20,
    ),
    RouteKind(
        code="housing_renovation",
        zh="危房改造",
        en="dangerous-house renovation",
        department="住建局",
        due_days=30,
    ),
    RouteKind(
        code="charity",
        zh="慈善与社会力量",
        en="charity and social organisations",
        department="慈善总会/社会组织",
        due_days=20,
    ),
]


class FieldConfig(Section):
    """Needs, routes and limits of the outcome form, the Excel list and its import."""

    needs: list[NeedKind] = Field(default_factory=lambda: list(DEFAULT_NEEDS), min_length=1)
    routes: list[RouteKind] = Field(default_factory=lambda: list(DEFAULT_ROUTES), min_length=1)
    note_max_chars: int = Field(default=1000, ge=1, le=10_000)  # a visit's or a referral's note

    @model_validator(mode="after")
    def _unique(self) -> FieldConfig:
        for what, items in (("needs", self.needs), ("routes", self.routes)):
            for attr in ("code", "zh"):
                values = [getattr(item, attr) for item in items]
                repeated = sorted({v for v in values if values.count(v) > 1})
                if repeated:
                    raise ValueError(f"outreach.field.{what}: {attr} repeated: {', '.join(repeated)}")
        return self

    def need(self, code: str) -> NeedKind | None:
        return next((n for n in self.needs if n.code == code), None)

    def route(self, code: str) -> RouteKind | None:
        return next((r for r in self.routes if r.code == code), None)

    def need_code(self, text: str) -> str | None:
        """A need's code from its code or its Chinese or English name (as typed in a sheet)."""
        text = text.strip()
        for n in self.needs:
            if text in (n.code, n.zh) or text.lower() == n.en.lower():
                return n.code
        return None

    def route_code(self, text: str) -> str | None:
        """A route's code from its code or its Chinese or English name."""
        text = text.strip()
        for r in self.routes:
            if text in (r.code, r.zh) or text.lower() == r.en.lower():
                return r.code
        return None


def result_code(text: str) -> str | None:
    """A result's code from its code or its Chinese label (确认困难 → confirmed); None if unknown."""
    text = text.strip()
    if text in RESULTS:
        return text
    return RESULT_BY_ZH.get(text)


def result_label(code: str, locale: str = "zh") -> str:
    zh, en = RESULTS[code]
    return en if locale == "en" else zh
