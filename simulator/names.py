"""Chinese names, drawn vectorised: a family surname and a one- or two-character given name."""

from __future__ import annotations

import numpy as np

# The most common surnames with rough weights (per cent of population).
SURNAMES = np.array(
    list(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
        "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    )
)
_W = np.linspace(7.0, 0.25, len(SURNAMES)) ** 1.6
SURNAME_P = _W / _W.sum()
MALE_CHARS = np.array(list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国志峰文博"))
FEMALE_CHARS = np.array(list("芳娜敏静丽艳娟霞秀英玲燕红梅婷雪琳晶萍颖倩洁慧莉兰凤佳琪欣怡婧丹月桂珍"))
COMMON_CHARS = np.array(list("小晓子思雨嘉家永春海金玉云德福荣秋新佳"))


def draw_surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(SURNAMES, size=n, p=SURNAME_P)


def draw_given(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """Given names: one or two characters, the last one chosen by sex."""
    n = len(male)
    last = np.where(
        male,
        MALE_CHARS[rng.integers(0, len(MALE_CHARS), n)],
        FEMALE_CHARS[rng.integers(0, len(FEMALE_CHARS), n)],
    )
    first = np.where(
        rng.random(n) < 0.5,
        COMMON_CHARS[rng.integers(0, len(COMMON_CHARS), n)],
        np.where(
            male,
            MALE_CHARS[rng.integers(0, len(MALE_CHARS), n)],
            FEMALE_CHARS[rng.integers(0, len(FEMALE_CHARS), n)],
        ),
    )
    two = rng.random(n) < 0.8
    return np.where(two, np.char.add(first, last), last)
