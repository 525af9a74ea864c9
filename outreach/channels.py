"""Sending one message on one channel through apprise (DingTalk, WeCom, e-mail, JSON webhook).

The idempotency key travels as the ``X-Idempotency-Key`` header (webhook, e-mail), in the
webhook's JSON body (``idempotency_key``), and as the short 消息编号 line of every text (the
only place a DingTalk or WeCom robot message can carry it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import apprise

from outreach.config import OutreachConfig

IDEMPOTENCY_HEADER = "X-Idempotency-Key"


class InvalidAddress(ValueError):
    """The address can never work on its channel (a permanent failure: no retry)."""


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str | None = None
    permanent: bool = False  # do not retry


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def apprise_url(channel: str, address: str, key: str, config: OutreachConfig) -> str:
    """The apprise URL that sends to address on channel, carrying the idempotency key."""
    retry = config.retry
    timeouts = {"cto": retry.connect_timeout_seconds, "rto": retry.read_timeout_seconds}
    if channel == "webhook":
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidAddress(f"a webhook address is an http(s) URL, got {address!r}")
        scheme = "json" if parts.scheme == "http" else "jsons"
        query = {
            **{f"-{k}": v for k, v in parse_qsl(parts.query)},  # the address's own query: kept
            **timeouts,
            "verify": _yes_no(config.channels.webhook.verify_tls),
            f"+{IDEMPOTENCY_HEADER}": key,
            ":idempotency_key": key,
        }
        return f"{scheme}://{parts.netloc}{parts.path or '/'}?{urlencode(query)}"
    if channel == "dingtalk":
        # "SECRET@TOKEN" signs the request (加签)
        if not address.replace("@", "").replace("-", "").isalnum():
            raise InvalidAddress("a DingTalk address is an access token, optionally SECRET@TOKEN")
        verify = _yes_no(config.channels.dingtalk.verify_tls)
        return f"dingtalk://{address}/?{urlencode({**timeouts, 'verify': verify})}"
    if channel == "wecom":
        if not address.replace("-", "").isalnum():
            raise InvalidAddress("a WeCom address is a robot key")
        verify = _yes_no(config.channels.wecom.verify_tls)
        return f"wecombot://{address}?{urlencode({**timeouts, 'verify': verify})}"
    if channel == "email":
        email = config.channels.email
        if "@" not in address:
            raise InvalidAddress(f"not an e-mail address: {address!r}")
        auth = ""
        if email.user:
            password = email.password.get_secret_value() if email.password else ""
            auth = f"{quote(email.user, safe='')}:{quote(password, safe='')}@"
        query = {
            **timeouts,
            "to": address,
            "from": email.from_addr,
            "mode": email.mode,
            f"+{IDEMPOTENCY_HEADER}": key,
        }
        return f"mailto://{auth}{email.smtp_host}:{email.smtp_port}?{urlencode(query)}"
    raise InvalidAddress(f"unknown channel {channel!r}")


def send_message(
    channel: str, address: str, key: str, title: str, body: str, config: OutreachConfig
) -> SendResult:
    """Send once; apprise reports failures by return value and log lines, which become the error."""
    try:
        url = apprise_url(channel, address, key, config)
    except InvalidAddress as error:
        return SendResult(False, str(error), permanent=True)
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return SendResult(False, f"apprise rejected the {channel} address", permanent=True)
    # warnings only: debug lines would carry robot tokens and payloads
    with apprise.LogCapture(level=logging.WARNING) as captured:
        # robots print the title as the body's first line, which already is the title
        ok = bool(notifier.notify(body=body, title=title if channel in ("email", "webhook") else ""))
        log_text = captured.getvalue().strip()
    return SendResult(True) if ok else SendResult(False, (log_text or "apprise reported a failure")[-500:])
