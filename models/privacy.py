"""A last check that text about to be logged carries no personal data.

Catches the shapes that must never reach MLflow: an 18-character resident ID number, a
12-digit division code (village/community: finer than a county), and a Chinese personal
name (a common surname followed by one or two Han characters, standing alone). Household
keys are keyed hashes, but the model never needs to log them either: ``forbidden`` values
(e.g. the keys of a frame) are checked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z.])\d{17}[\dXx](?![0-9A-Za-z])")
DIVISION_12 = re.compile(r"(?<![0-9A-Za-z.])\d{12}(?![0-9A-Za-z])")  # not inside hex ids
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚"
    "卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
NAME = re.compile(rf"(?<![\u4e00-\u9fff])[{SURNAMES}][\u4e00-\u9fff]{{1,2}}(?![\u4e00-\u9fff])")
# Han words this project writes on purpose that happen to start with a surname character
ALLOWED_HAN = frozenset({"黄色", "石门"})


def find_personal_data(text: str, forbidden: Iterable[str] = ()) -> list[str]:
    """Suspicious fragments of ``text`` (empty when clean)."""
    found = ID_NUMBER.findall(text) + DIVISION_12.findall(text)
    found += [m for m in NAME.findall(text) if m not in ALLOWED_HAN]
    found += [v for v in forbidden if v and v in text]
    return found


def assert_clean(text: str, what: str, forbidden: Iterable[str] = ()) -> str:
    found = find_personal_data(text, forbidden)
    if found:
        raise ValueError(f"refusing to log {what}: it looks like personal data: {found[:3]}")
    return text
