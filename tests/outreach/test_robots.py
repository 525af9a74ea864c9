"""DingTalk and WeCom robots through apprise's own plugins.

Their hosts are fixed in apprise (oapi.dingtalk.com, qyapi.weixin.qq.com; no URL override),
so the test points the standard HTTPS_PROXY at a receiver on 127.0.0.1 that terminates TLS
with a throwaway certificate (the channel's verify_tls is off in the test config): the
receiver sees the exact request apprise sends to the vendor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from outreach.channels import send_message
from outreach.config import UserConfig
from outreach.db import transaction, upgrade
from outreach.deliver import deliver_pending
from outreach.jurisdiction import sync_users
from outreach.queue import queue_alerts
from tests.outreach.conftest import NOW
from tests.outreach.factory import VILLAGE_A1, make_config, visit_list
from tests.outreach.receivers import HttpReceiver

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]
TOKEN, KEY = "0123456789abcdef0123456789abcdef", "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


@pytest.fixture
def vendor_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpReceiver]:
    proxy = HttpReceiver(tls=True).start()
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    yield proxy
    proxy.stop()


def test_dingtalk_and_wecom_requests_are_what_the_vendors_expect(vendor_proxy):
    config = make_config()
    assert send_message("dingtalk", TOKEN, "k" * 64, "标题", "正文 消息编号：0123456789abcdef", config).ok
    assert send_message("wecom", KEY, "k" * 64, "标题", "正文", config).ok
    dingtalk, wecom = vendor_proxy.received
    assert dingtalk.target == "oapi.dingtalk.com:443"
    assert dingtalk.headers["Host"] == "oapi.dingtalk.com"
    assert dingtalk.path == f"/robot/send?access_token={TOKEN}"
    assert wecom.path == f"/cgi-bin/webhook/send?key={KEY}"
    assert wecom.headers["Host"] == "qyapi.weixin.qq.com"
    assert dingtalk.body == {
        "msgtype": "text",
        "at": {"atMobiles": [], "isAtAll": False},
        "text": {"content": "正文 消息编号：0123456789abcdef"},
    }
    assert dingtalk.key == "0123456789abcdef"
    assert wecom.target == "qyapi.weixin.qq.com:443"
    assert wecom.body == {"msgtype": "text", "text": {"content": "正文"}}


def test_a_red_alert_reaches_both_robots_once_across_an_outage(vendor_proxy, tmp_path):
    worker = UserConfig(
        name="王芳",
        role="village_worker",
        level="village",
        code=VILLAGE_A1,
        addresses={"dingtalk": TOKEN, "wecom": KEY},
    )
    config = make_config(users=[worker])
    engine = upgrade(f"sqlite:///{tmp_path / 'outreach.db'}")
    with transaction(engine) as session:
        sync_users(session, config.users)
    queue_alerts(engine, visit_list({0: "red", 1: "red"}), "run-1", NOW, config=config)
    vendor_proxy.down_after = 1
    assert deliver_pending(engine, config, NOW).sent == 1
    vendor_proxy.start()
    assert deliver_pending(engine, config, NOW + dt.timedelta(minutes=5)).sent == 3
    assert (
        sorted(r.target for r in vendor_proxy.received)
        == ["oapi.dingtalk.com:443"] * 2 + ["qyapi.weixin.qq.com:443"] * 2
    )
    assert len(set(vendor_proxy.keys())) == 4 and all(vendor_proxy.keys())
    assert all("红色预警" in r.body["text"]["content"] for r in vendor_proxy.received)
    engine.dispose()
