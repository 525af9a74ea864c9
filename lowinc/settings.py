"""The configuration machinery: YAML files and LOWINC_* variables loaded into one frozen,
typed settings object, and what may be printed of it.

Order of precedence (highest first): keyword arguments, environment variables
(``LOWINC_HOME``, ``LOWINC_SIMULATION__HOUSEHOLDS=5000`` ...), the YAML files in the
configuration folder (``LOWINC_CONFIG_DIR``, default ``<checkout>/configs``), defaults.
Nothing is read until :func:`load` is called.

This is the bottom layer: it knows no section. Each package declares its own section
(:class:`~lowinc.section.Section`) and the top layer composes them into the one
``Settings`` (``pipelines/settings.py``) on top of :class:`SettingsBase`. Secrets
(passwords, database URLs) are ``SecretStr``; :func:`mask_url` is how a URL is shown.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import yaml
from pydantic import SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from lowinc.errors import BadValue
from lowinc.home import HomeLayout
from lowinc.section import Section

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_DIR = REPO_ROOT / "configs"
CONFIG_DIR_ENV = "LOWINC_CONFIG_DIR"
ENV_PREFIX = "LOWINC_"
ENV_NESTED = "__"


def config_dir_from(environ: Mapping[str, str] | None = None) -> Path:
    """The configuration folder: ``LOWINC_CONFIG_DIR``, else the checkout's ``configs/``."""
    env = os.environ if environ is None else environ
    return Path(env.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR)


class SettingsBase(BaseSettings):
    """What every composed settings object shares: the home, the configuration folder, the
    sources in precedence order, and the keys renamed since a bureau wrote its files."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED,
        extra="forbid",
        frozen=True,
    )

    # dotted old key -> dotted new key: a file or variable still using the old one is refused
    # with one line saying what to rename (never read silently as if absent)
    renamed: ClassVar[Mapping[str, str]] = {}

    home: Path = REPO_ROOT / ".home"
    # where the YAML files were read (LOWINC_CONFIG_DIR); the source definitions follow it
    config_dir: Path = DEFAULT_CONFIG_DIR

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

    @property
    def layout(self) -> HomeLayout:
        """The folders of the home (:mod:`lowinc.home`)."""
        return HomeLayout(self.home)


SettingsT = TypeVar("SettingsT", bound=SettingsBase)


def load(settings_cls: type[SettingsT], **overrides: object) -> SettingsT:
    """Read the configuration folder's YAML and the environment into ``settings_cls``; keyword
    overrides win. A file that is not YAML, or one that uses a renamed key, is the user's to
    fix (:class:`BadValue`); a wrong value stays a pydantic ``ValidationError``, which
    :func:`config_error` turns into one line for the command line."""
    given = overrides.get("config_dir")
    config_dir = Path(str(given)) if given else config_dir_from()
    try:
        refuse_renamed(settings_cls.renamed, config_dir, os.environ)
        return settings_cls(**overrides)  # type: ignore[arg-type]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{mark.name} line {mark.line + 1}" if mark is not None else "a configuration file"
        raise BadValue(
            f"{where} is not valid YAML", hint=f"fix it (the folder: {config_dir_from()})"
        ) from error


def _has_key(content: object, dotted: str) -> bool:
    for part in dotted.split("."):
        if not isinstance(content, dict) or part not in content:
            return False
        content = content[part]
    return True


def refuse_renamed(renamed: Mapping[str, str], config_dir: Path, environ: Mapping[str, str]) -> None:
    """A :class:`BadValue` naming the file (or variable) and the rename, at the first old key
    a YAML file of the folder or a LOWINC_* variable still uses (each file read once)."""
    if not renamed:
        return
    for path in yaml_files(config_dir):
        with path.open(encoding="utf-8") as stream:  # a YAML error then names the file
            content = yaml.safe_load(stream)
        for old, new in renamed.items():
            if _has_key(content, old):
                raise BadValue(
                    f"{path.name}: the configuration key `{old}` is now `{new}`",
                    hint=f"rename `{old}` to `{new}` in {path}",
                )
    for old, new in renamed.items():
        old_env = ENV_PREFIX + old.upper().replace(".", ENV_NESTED)
        for name in environ:
            if name == old_env or name.startswith(old_env + ENV_NESTED):
                new_env = ENV_PREFIX + new.upper().replace(".", ENV_NESTED) + name[len(old_env) :]
                raise BadValue(
                    f"the variable {name} names `{old}`, which is now `{new}`",
                    hint=f"set {new_env} instead",
                )


def _subclasses(*roots: type) -> Iterator[type]:
    todo = list(roots)
    while todo:
        cls = todo.pop()
        yield cls
        todo.extend(cls.__subclasses__())


def config_error(error: ValidationError) -> BadValue | None:
    """A configuration validation error as one line (the first problem and how many more), or
    None when the error is not about configuration (a model that is neither a settings object
    nor a section). Input values are not quoted: a bad value may be a secret."""
    if error.title not in {cls.__name__ for cls in _subclasses(SettingsBase, Section)}:
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


def provenance(
    config_dir: Path, sources_dir: Path, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Where each part of the configuration came from: the configuration folder, each YAML
    file read with the sections it sets, the source definitions' folder, and the names (never
    the values) of the LOWINC_* environment variables that override them."""
    env = os.environ if environ is None else environ
    files = {}
    for path in yaml_files(config_dir):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        files[str(path)] = sorted(content) if isinstance(content, dict) else []
    return {
        "config_dir": str(config_dir),
        "config_dir_from": CONFIG_DIR_ENV if env.get(CONFIG_DIR_ENV) else "the checkout (default)",
        "yaml_files": files,
        "sources_dir": str(sources_dir),
        "source_files": sorted(p.name for p in Path(sources_dir).glob("*.yaml")),
        "environment_overrides": sorted(k for k in env if k.startswith(ENV_PREFIX)),
    }
