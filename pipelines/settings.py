"""The one frozen settings object lowinc runs with, composed of the sections each package owns.

The bottom layer (:mod:`lowinc.settings`) is the machinery (YAML and LOWINC_* loading,
precedence, renamed keys, masking); each package declares its own section beside its code
(``ingest/config.py``, ``features/config.py``, ``features/policy.py``, ``models/config.py``,
``scoring/config.py``, ``outreach/config.py``, ``monitoring/config.py``; the synthetic region's in
``lowinc/synthetic.py``, not in the simulator). Only this top layer knows them all, so no
package imports upward to reach its configuration: a stage hands each package its own section.

The department source definitions follow the configuration folder: ``ingest.sources_dir``
defaults to ``<config dir>/sources`` and a relative one is taken from the configuration
folder, so a bureau that keeps its own folder (``LOWINC_CONFIG_DIR=/etc/lowinc``) is never
read with the checkout's stock sources. :func:`shown_settings` is what may be printed or logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import model_validator

from features.config import FeaturesConfig
from features.policy import PolicyLinesConfig
from ingest.config import IngestConfig
from lowinc import settings as machinery
from lowinc.schedules import DeploymentsConfig
from lowinc.settings import SettingsBase, mask_url
from lowinc.synthetic import SimulationConfig
from models.config import ModelConfig
from monitoring.config import MonitoringConfig
from outreach.config import OutreachConfig
from scoring.config import ScoringConfig
from scoring.entitlement_config import EntitlementConfig

SOURCES_FOLDER = "sources"


class Settings(SettingsBase):
    """Everything lowinc reads from configuration."""

    renamed: ClassVar[Mapping[str, str]] = {
        "thresholds": "policy_lines",
        "scoring.red_top_share": "scoring.tier_shares.red",
        "scoring.orange_top_share": "scoring.tier_shares.orange",
        "scoring.yellow_top_share": "scoring.tier_shares.yellow",
    }

    simulation: SimulationConfig = SimulationConfig()
    policy_lines: PolicyLinesConfig = PolicyLinesConfig()
    ingest: IngestConfig = IngestConfig()
    features: FeaturesConfig = FeaturesConfig()
    model: ModelConfig = ModelConfig()
    scoring: ScoringConfig = ScoringConfig()
    entitlements: EntitlementConfig = EntitlementConfig()
    deployments: DeploymentsConfig = DeploymentsConfig()
    outreach: OutreachConfig = OutreachConfig()
    monitoring: MonitoringConfig = MonitoringConfig()

    @model_validator(mode="after")
    def _sources_follow_config_dir(self) -> Settings:
        """``ingest.sources_dir``: absent → ``<config dir>/sources``; relative → from the config dir."""
        chosen = self.ingest.sources_dir
        resolved = self.config_dir / SOURCES_FOLDER if chosen is None else self.config_dir / chosen
        if resolved != chosen:  # frozen: replace the section once, while validating
            object.__setattr__(self, "ingest", self.ingest.model_copy(update={"sources_dir": resolved}))
        return self

    @property
    def sources_dir(self) -> Path:
        """The department source definitions' folder (always resolved by validation)."""
        return self.ingest.sources_dir or self.config_dir / SOURCES_FOLDER


def load_settings(**overrides: object) -> Settings:
    """Read the configuration folder's YAML and the environment; keyword overrides win
    (:func:`lowinc.settings.load`)."""
    return machinery.load(Settings, **overrides)


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
    """Where each part of the configuration came from (:func:`lowinc.settings.provenance`)."""
    return machinery.provenance(settings.config_dir, settings.sources_dir, environ)
