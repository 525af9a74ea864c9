"""The web core's pure parts: messages, the sign-in form's token, safe redirects."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from outreach.web.deps import TEMPLATES, safe_next
from outreach.web.i18n import LOCALES_DIR, catalogue, pick_locale, translate
from outreach.web.sessions import login_form_token, login_form_valid, new_login_nonce

KEY = b"k" * 32
NOW = dt.datetime(2024, 6, 3, 9, 0)


def test_every_literal_message_key_of_every_template_exists_in_both_languages():
    messages = catalogue()
    literal = re.compile(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""")
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(literal.findall(template.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in messages)
    assert not missing, f"messages missing from outreach/web/locales: {missing}"
    assert all(set(texts) == {"zh", "en"} for texts in messages.values())


def test_a_message_defined_twice_or_without_english_fails_at_start_up(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("hello: {zh: 你好, en: hello}\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("hello: {zh: 您好, en: hi}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"defined in a\.yaml already"):
        catalogue.__wrapped__(tmp_path)
    (tmp_path / "b.yaml").write_text("bye: {zh: 再见}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="needs a zh and an en text"):
        catalogue.__wrapped__(tmp_path)
    assert LOCALES_DIR.is_dir()


def test_translation_fills_values_and_shows_an_unknown_key():
    assert translate("signed_in_as", "en", name="王芳") == "Signed in as 王芳"
    assert translate("no_such_key", "zh") == "no_such_key"
    assert (
        pick_locale("en", "zh") == "en"
        and pick_locale("fr", "en") == "en"
        and pick_locale(None, None) == "zh"
    )


def test_the_sign_in_form_token_is_bound_to_its_nonce_and_expires():
    nonce = new_login_nonce(NOW)
    token = login_form_token(KEY, nonce)
    assert login_form_valid(KEY, nonce, token, NOW + dt.timedelta(minutes=5))
    assert not login_form_valid(KEY, nonce, token, NOW + dt.timedelta(hours=3))  # expired
    assert not login_form_valid(b"x" * 32, nonce, token, NOW)  # another server's key
    assert not login_form_valid(KEY, new_login_nonce(NOW), token, NOW)  # another nonce
    assert not login_form_valid(KEY, nonce.split(".")[0] + ".9e9", token, NOW)
    assert not login_form_valid(KEY, None, token, NOW) and not login_form_valid(KEY, nonce, None, NOW)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/visits?tier=red", "/visits?tier=red"),
        ("/alerts/12#outcome", "/alerts/12#outcome"),
        ("//evil.example", "/visits"),
        ("/\\evil.example", "/visits"),
        ("https://evil.example/", "/visits"),
        ("javascript:alert(1)", "/visits"),
        ("/x\nLocation: //evil", "/visits"),
        ("", "/visits"),
        (None, "/visits"),
    ],
)
def test_safe_next_keeps_only_local_paths(target, expected):
    assert safe_next(target) == expected
