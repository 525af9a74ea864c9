"""The one typed configuration object, loaded from configs/*.yaml with environment overrides.

Order of precedence (highest first): keyword arguments, environment variables
(``LOWINC_HOME``, ``LOWINC_SIMULATION__HOUSEHOLDS=5000`` ...), the YAML files in the
configuration folder (``LOWINC_CONFIG_DIR``, default ``<checkout>/configs``), defaults.
Nothing is read until :func:`load_settings` is called.

The department source definitions follow the configuration folder too: ``ingest.sources_dir``
defaults to ``<config dir>/sources`` and a relative one is taken from the configuration
folder, so a bureau that keeps its own folder (``LOWINC_CONFIG_DIR=/etc/lowinc``) is never
read with the checkout's stock sources. Secrets (passwords, database URLs) are ``SecretStr``:
:func:`shown_settings` is what may be printed or logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from features.config import FeaturesConfig
from lowinc.errors import BadValue
from lowinc.schedules import DeploymentsConfig
from lowinc.section import Section
from models.config import ModelConfig
from outreach.config import OutreachConfig
from scoring.config import ScoringConfig

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_DIR = REPO_ROOT / "configs"
CONFIG_DIR_ENV = "LOWINC_CONFIG_DIR"
SOURCES_FOLDER = "sources"


def config_dir_from(environ: Mapping[str, str] | None = None) -> Path:
    """The configuration folder: ``LOWINC_CONFIG_DIR``, else the checkout's ``configs/``."""
    env = os.environ if environ is None else environ
    return Path(env.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR)


class DefectRates(Section):
    """Share of rows (or files) that the simulator spoils, per kind of defect in the contract."""

    id_bad_check_digit: float = 0.002
    id_15_digit: float = 0.001
    id_lowercase_x: float = 0.3  # share of IDs ending in X that are written as x
    id_full_width: float = 0.001
    id_spaces: float = 0.001
    id_empty: float = 0.0005
    date_impossible: float = 0.0005
    date_future: float = 0.0003
    date_other_format: float = 0.001
    money_negative: float = 0.0003
    money_formatted: float = 0.001  # thousands separators or a trailing 元
    money_parts_mismatch: float = 0.0005  # medical cost parts that do not add up
    duplicate_row: float = 0.002
    unknown_category: float = 0.0005
    not_in_hukou: float = 0.003  # people outside the area's registry in department data
    # file-level defects: probability per file and month (never in a source's first month)
    column_added: float = 0.01
    column_renamed: float = 0.01
    column_reordered: float = 0.01
    wrong_encoding: float = 0.005
    month_missing: float = 0.003
    delivered_twice: float = 0.005


class DriftScenario(Section):
    """A change in the world from a month on, for monitoring work."""

    kind: Literal["factory_closure", "reimbursement_cut"]
    start: str  # YYYY-MM
    county: str | None = None  # 6-digit county code; None = the whole region
    share: float = 0.3  # factory closure: share of the county's enterprise workers laid off
    factor: float = 0.8  # reimbursement cut: basic insurance rates multiplied by this


class SimulationConfig(Section):
    """Rates and sizes of the synthetic region (defaults from shared/domain.md)."""

    city: str = "湖州市"
    county: str | None = None  # a county name or 6-digit code narrows the region
    province: bool = False  # the whole province
    households: int = 20_000
    start: str = "2022-01"
    months: int = 36
    seed: int = 7
    burn_in_months: int = 12  # simulated before `start`, not delivered, so flows settle
    # composition
    urban_share_weighting: float = 1.0  # relative weight of communities vs villages
    # income (monthly yuan); rural households farm and earn informally, urban ones less so
    wage_median_urban: float = 8_000.0
    wage_median_rural: float = 5_600.0
    wage_sigma: float = 0.55
    employment_rate_urban: float = 0.78
    employment_rate_rural: float = 0.68
    farm_income_median: float = 1_200.0
    elderly_farm_factor: float = 0.5  # elderly-only households farm small plots (less labour)
    informal_income_median: float = 700.0
    resident_pension: float = 450.0
    transfer_median: float = 1_200.0  # support from children elsewhere to elderly-only households
    unsupported_elderly_share: float = (
        0.10  # households with no one obliged to support them (无法定赡养/抚养人; the 特困 pool)
    )
    enterprise_pension_replacement: float = 0.55
    death_grant_months: float = 10.0  # 丧葬补助金 + 抚恤金 to survivors, in months of the pension
    # nominal growth, applied each January (levels above are for the start year)
    wage_growth_yearly: float = 0.055  # 湖州 wages/disposable income grow ~5-6% a year
    pension_growth_yearly: float = (
        0.04  # national pension adjustment ~4% (2022), resident pensions raised too
    )
    farm_growth_yearly: float = 0.04  # agricultural operating income
    # shocks, yearly per person unless noted
    job_loss_rate: float = 0.05
    job_find_rate_monthly: float = 0.18  # mean search ~5-6 months (Zhejiang's tight labour market)
    unemployment_registration_share: float = 0.55
    hospital_rate: float = 0.16
    hospital_rate_elderly: float = 0.26  # 65+; x1.6 for the chronically ill gives ~30% on average
    hospital_cost_median: float = (
        4_800.0  # with diagnosis factors: mean stay ~10k yuan, residents pay ~30-37% out of pocket
    )
    hospital_cost_sigma: float = 0.8
    chronic_onset_rate: float = 0.012
    disability_onset_rate: float = 0.004
    severe_disability_share: float = 0.45  # of new certificates, grade 1-2
    house_deteriorate_rate: float = 0.008  # rural households falling to C/D, yearly
    disaster_village_rate: float = 0.01  # yearly share of villages hit by flood/typhoon
    disaster_household_share: float = 0.4  # share of a hit village's households affected
    property_sale_rate: float = 0.01
    property_buy_rate: float = 0.01
    move_out_rate: float = 0.004  # households leaving the area, yearly
    move_in_rate: float = 0.004
    split_rate: float = 0.004  # yearly per married adult child living with parents
    fertility_rate: float = 0.05  # yearly births per woman aged 22-40 with a partner
    settlement_delay_max: int = 3  # months between a stay and its settlement
    # assistance
    takeup_monthly: float = 0.25  # base monthly application hazard when truly poor
    near_poor_apply_factor: float = (
        0.05  # relative hazard of applying when below the 低保边缘 line but not poor
    )
    heavy_spending_apply_factor: float = (
        0.05  # relative hazard when medical spending > 40% of income (刚性支出)
    )
    takeup_elderly_alone_factor: float = 0.45
    takeup_stigma_sigma: float = 0.8
    assessment_hidden_share: float = 0.7  # share of hidden income an assessor finds
    assessment_noise: float = 0.12
    phase_out_months: int = 12
    review_months: int = 12
    temp_aid_takeup: float = 0.25
    edge_band: float = 1.5  # 低保边缘: below this multiple of the standard
    poverty_window: int = 12  # months averaged for the truth's poverty test (income is yearly in policy)
    # ground truth
    label_horizon: int = 6
    mc_paths: int = 200
    mc_households: int = 2_000
    mc_months: list[str] = Field(default_factory=lambda: ["2023-01", "2023-07", "2024-01"])
    defects: DefectRates = DefectRates()
    scenarios: list[DriftScenario] = Field(default_factory=list)

    @field_validator("start")
    @classmethod
    def _month(cls, v: str) -> str:
        if len(v) != 7 or v[4] != "-" or not (v[:4] + v[5:]).isdigit() or not 1 <= int(v[5:]) <= 12:
            raise ValueError(f"month must be YYYY-MM, got {v!r}")
        return v


class CityThresholds(Section):
    """Policy lines of one city: 低保 standard by year (yuan per person per year)."""

    dibao_annual: dict[int, float]
    disposable_income_annual: dict[int, float]  # local per-capita disposable income
    counties: dict[str, dict[int, float]] = Field(default_factory=dict)  # county overrides


class ThresholdsConfig(Section):
    """低保 standards and local incomes per city and year (shared/domain.md)."""

    default_dibao_annual_2022: float = 11_000.0
    default_disposable_income_2022: float = 52_000.0
    yearly_growth: float = 0.06
    cities: dict[str, CityThresholds] = Field(default_factory=dict)


class IngestConfig(Section):
    """Reading department deliveries (the source definitions live in <config dir>/sources/)."""

    # None: ``sources`` in the configuration folder; a relative path is taken from that folder
    sources_dir: Path | None = None
    # parse a date written in another of the contract's formats (counted as repaired)
    # rather than quarantining it
    fallback_dates: bool = True
    # processes reading sources side by side (each source always in the same one);
    # 0: one per core
    workers: int = Field(default=0, ge=0)
    # after an ingest, the data team is told of every source and month whose quarantined
    # rows are more than this share of the rows delivered (besides rejected and missing files)
    notice_quarantine_share: float = Field(default=0.02, ge=0, le=1)


class Settings(BaseSettings):
    """Everything lowinc reads from configuration."""

    model_config = SettingsConfigDict(
        env_prefix="LOWINC_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    home: Path = REPO_ROOT / ".home"
    # where the YAML files were read (LOWINC_CONFIG_DIR); the source definitions follow it
    config_dir: Path = DEFAULT_CONFIG_DIR
    simulation: SimulationConfig = SimulationConfig()
    thresholds: ThresholdsConfig = ThresholdsConfig()
    ingest: IngestConfig = IngestConfig()
    features: FeaturesConfig = FeaturesConfig()
    model: ModelConfig = ModelConfig()
    scoring: ScoringConfig = ScoringConfig()
    deployments: DeploymentsConfig = DeploymentsConfig()
    outreach: OutreachConfig = OutreachConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        given = getattr(init_settings, "init_kwargs", {}).get("config_dir")
        files = yaml_files(Path(given) if given else config_dir_from())
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=files, deep_merge=True)
        return (init_settings, env_settings, yaml_source)

    @model_validator(mode="after")
    def _sources_follow_config_dir(self) -> Settings:
        """``ingest.sources_dir``: absent → ``<config dir>/sources``; relative → from the config dir."""
        chosen = self.ingest.sources_dir
        resolved = self.config_dir / SOURCES_FOLDER if chosen is None else self.config_dir / chosen
        if resolved != chosen:  # frozen: replace the section once, while validating
            object.__setattr__(self, "ingest", self.ingest.model_copy(update={"sources_dir": resolved}))
        return self

    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def truth_dir(self) -> Path:
        return self.home / "truth"


def load_settings(**overrides: object) -> Settings:
    """Read configs/*.yaml and the environment; keyword overrides win. A file that is not
    YAML is the user's to fix (:class:`BadValue`); a wrong value stays a pydantic
    ``ValidationError``, which :func:`config_error` turns into one line for the command line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{mark.name} line {mark.line + 1}" if mark is not None else "a configuration file"
        raise BadValue(
            f"{where} is not valid YAML", hint=f"fix it (the folder: {config_dir_from()})"
        ) from error


def _config_models() -> set[str]:
    """Names of the configuration models: the settings and every section."""
    names, todo = {Settings.__name__}, [Section]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def config_error(error: ValidationError) -> BadValue | None:
    """A configuration validation error as one line (the first problem and how many more), or
    None when the error is not about configuration. Input values are not quoted: a bad value
    may be a secret."""
    if error.title not in _config_models():
        return None
    problems = error.errors(include_input=False, include_url=False)
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"]) or "settings"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return BadValue(
        f"invalid configuration: {where}: {first['msg'].removeprefix('Value error, ')}{more}",
        hint=f"fix {where} in {config_dir_from()}/*.yaml or its LOWINC_ variable; `lowinc config` shows both",
    )


def yaml_files(config_dir: Path) -> list[Path]:
    """The YAML files of a configuration folder, in the order they are merged."""
    return sorted(Path(config_dir).glob("*.yaml"))


def mask_url(url: str | SecretStr | None) -> str | None:
    """A URL with its password (and any query values) hidden, host and database kept, so the
    printed configuration still says where things go: ``postgresql+psycopg://lowinc:***@db/x``."""
    if url is None:
        return None
    text = url.get_secret_value() if isinstance(url, SecretStr) else url
    parts = urlsplit(text)
    if not parts.scheme:
        return "**********"  # not a URL: nothing in it is safe to show
    if "@" not in parts.netloc and not parts.query:
        return text  # no credentials in it (sqlite:////path, http://host:5000)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = "&".join(f"{k}=***" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def shown_settings(settings: Settings) -> dict[str, Any]:
    """The configuration as it may be printed or logged: every secret masked (passwords and
    channel addresses entirely; database and tracking URLs keep scheme, user, host and
    database), no personal data beyond user names and area codes."""
    data = settings.model_dump(mode="json")  # SecretStr dumps as "**********"
    data["outreach"]["database_url"] = mask_url(settings.outreach.database_url)
    data["model"]["tracking_uri"] = mask_url(settings.model.tracking_uri)
    for user in data["outreach"]["users"]:
        user["addresses"] = {channel: "**********" for channel in user["addresses"]}
    return data


def provenance(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Where each part of the configuration came from: the configuration folder, each YAML
    file read with the sections it sets, the source definitions' folder, and the names (never
    the values) of the LOWINC_* environment variables that override them."""
    env = os.environ if environ is None else environ
    files = {}
    for path in yaml_files(settings.config_dir):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        files[str(path)] = sorted(content) if isinstance(content, dict) else []
    return {
        "config_dir": str(settings.config_dir),
        "config_dir_from": CONFIG_DIR_ENV if env.get(CONFIG_DIR_ENV) else "the checkout (default)",
        "yaml_files": files,
        "sources_dir": str(settings.ingest.sources_dir),
        "source_files": sorted(p.name for p in Path(settings.ingest.sources_dir or ".").glob("*.yaml")),
        "environment_overrides": sorted(k for k in env if k.startswith("LOWINC_")),
    }
