"""Messages of the pages: one YAML per page in outreach/web/locales/ (``key: {zh: ..., en: ...}``),
looked up by key across all of them. zh-CN is the default; English is the other language."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


@cache
def catalogue(folder: Path = LOCALES_DIR) -> dict[str, dict[str, str]]:
    """Every message of every page file; a key defined twice, or a message missing a language,
    is an error at start-up (not a blank on a page)."""
    messages: dict[str, dict[str, str]] = {}
    owner: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path.name}: a mapping of keys to {{zh: ..., en: ...}} is expected")
        for key, texts in data.items():
            if key in messages:
                raise ValueError(f"{path.name}: message {key!r} is defined in {owner[key]} already")
            if not isinstance(texts, dict) or any(not isinstance(texts.get(loc), str) for loc in LOCALES):
                raise ValueError(f"{path.name}: message {key!r} needs a zh and an en text")
            messages[str(key)] = {loc: texts[loc] for loc in LOCALES}
            owner[key] = path.name
    return messages


def translate(key: str, locale: str = DEFAULT_LOCALE, **values: object) -> str:
    """The message in the locale, with ``{name}`` placeholders filled; an unknown key shows
    itself (so a missing message is visible, and a test catches it)."""
    texts = catalogue().get(key)
    if texts is None:
        return key
    text = texts.get(locale) or texts[DEFAULT_LOCALE]
    return text.format(**values) if values else text


def pick_locale(query: str | None, cookie: str | None) -> str:
    """?lang= first, then the lang cookie (the user's last choice), else zh."""
    for candidate in (query, cookie):
        if candidate in LOCALES:
            return str(candidate)
    return DEFAULT_LOCALE
