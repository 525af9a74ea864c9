"""Configuration of the outreach side (``outreach:`` in configs/outreach.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from lowinc.home import HomeLayout
from lowinc.section import Section
from outreach.field import FieldConfig
from outreach.web.config import WebConfig

ChannelName = Literal["dingtalk", "wecom", "email", "webhook"]
Level = Literal["village", "town", "county"]


class RetryPolicy(Section):
    """At-least-once delivery: exponential backoff, then a dead letter after max_attempts."""

    max_attempts: int = Field(default=6, ge=1)
    backoff_base_seconds: float = Field(default=60.0, gt=0)  # wait after the first failure
    backoff_cap_seconds: float = Field(default=3600.0, gt=0)  # longest wait between attempts
    lease_seconds: float = Field(default=300.0, gt=0)  # a claimed message is not picked again for this long
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    read_timeout_seconds: float = Field(default=15.0, gt=0)


class RobotChannel(Section):
    """DingTalk or WeCom group robot: a user's address is the robot's token (key)."""

    enabled: bool = True
    verify_tls: bool = True


class EmailChannel(Section):
    """E-mail through an SMTP relay: a user's address is an e-mail address."""

    enabled: bool = True
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    mode: Literal["insecure", "starttls", "ssl"] = "starttls"
    from_addr: str = "lowinc@localhost"
    user: str | None = None
    password: SecretStr | None = None  # LOWINC_OUTREACH__CHANNELS__EMAIL__PASSWORD


class WebhookChannel(Section):
    """A generic JSON webhook: a user's address is an http(s) URL."""

    enabled: bool = True
    verify_tls: bool = True


class Channels(Section):
    dingtalk: RobotChannel = RobotChannel()
    wecom: RobotChannel = RobotChannel()
    email: EmailChannel = EmailChannel()
    webhook: WebhookChannel = WebhookChannel()


class UserConfig(Section):
    """A person who receives alerts or exports lists, with the area they answer for."""

    name: str
    role: Literal["village_worker", "town_officer", "county_officer", "data_team", "model_owner"]
    level: Level | None = None  # None: no access to personal data (data team, model owner)
    code: str | None = None  # 12-digit village, 9-digit town or 6-digit county code
    # robot tokens, keyed webhook URLs, e-mail addresses: secret or personal, so never in a repr
    # (a log line, a traceback); `lowinc config` masks them
    addresses: dict[ChannelName, str] = Field(default_factory=dict, repr=False)
    active: bool = True  # false: disabled, acts on nothing (kept for the audit log's names)


class DatabaseRoles(Section):
    """PostgreSQL roles: migrations run as the owner (who owns the tables and the audit log's
    trigger), the application connects as the app role (INSERT and SELECT only on audit_log)."""

    owner: str = Field(default="lowinc_owner", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    app: str = Field(default="lowinc_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")


class DemoStaffConfig(Section):
    """How the embedded default's staff are made from the simulated region (outreach.staff)."""

    households_per_worker: int = Field(default=100, ge=1)  # a worker covers villages up to this many
    max_villages_per_worker: int = Field(default=5, ge=1)  # ... and at most this many villages
    max_workers_per_village: int = Field(default=3, ge=1)  # a large village is shared by several


class OutreachConfig(Section):
    """The outreach database, alert policy, delivery and the users of the embedded default."""

    # None: sqlite file <home>/outreach/outreach.db; a secret (it may carry a password)
    database_url: SecretStr | None = None
    # who runs the migrations (PostgreSQL: the owner role); None: database_url itself (a secret too)
    migration_url: SecretStr | None = None
    database_roles: DatabaseRoles = DatabaseRoles()
    cooldown_days: int = Field(default=90, ge=0)  # not re-alerted within this unless the tier rises
    notify_tiers: list[str] = Field(default_factory=lambda: ["red", "orange", "yellow"])
    digest_max_items: int = Field(default=50, ge=1)  # households listed in a digest; the rest counted
    # home visits a village worker makes a month (users.capacity overrides it per worker); what no
    # worker of a village has room for goes to the town officer
    worker_capacity: int = Field(default=30, ge=0)
    link_base_url: str = "http://127.0.0.1:8000"  # the social workers' web page
    retry: RetryPolicy = RetryPolicy()
    channels: Channels = Channels()
    users: list[UserConfig] = Field(default_factory=list)
    demo_staff: DemoStaffConfig = DemoStaffConfig()  # `lowinc up`'s users (outreach.staff)
    field: FieldConfig = FieldConfig()  # needs, routes and limits of the field loop (outreach/field.py)
    web: WebConfig = WebConfig()

    def url_for(self, home: Path) -> str:
        """The database URL: the configured one, else the embedded SQLite file under home."""
        if self.database_url:
            return self.database_url.get_secret_value()
        return f"sqlite:///{HomeLayout(Path(home)).outreach_db.resolve()}"

    def migration_url_for(self, home: Path) -> str:
        """The URL the migrations run on: migration_url, else the application's own."""
        if self.migration_url:
            return self.migration_url.get_secret_value()
        return self.url_for(home)
