"""Small delivered files made in the test: valid IDs, rows per the contract, encodings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lowinc.idno import check_char


def make_id(area: str = "330502", birth: str = "19800101", seq: str = "001") -> str:
    first17 = area + birth + seq
    return first17 + check_char(first17)


def make_id_x(area: str = "330502", birth: str = "19491231") -> str:
    """An ID whose check character is X."""
    return next(i for s in range(1000) if (i := make_id(area, birth, f"{s:03d}")).endswith("X"))


def bad_check(id_no: str) -> str:
    """The same ID with a wrong check character."""
    good = id_no[-1]
    return id_no[:-1] + ("0" if good != "0" else "1")


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


HUKOU_HEADER = [
    "公民身份号码",
    "姓名",
    "性别",
    "出生日期",
    "户号",
    "与户主关系",
    "区划代码",
    "人员状态",
]
DIV = "330502001001"


def hukou_rows() -> list[list[str]]:
    return [
        [make_id(seq="011"), "张三", "男", "19800101", "000000001", "户主", DIV, "正常"],
        [make_id(seq="022"), "李四", "女", "19800101", "000000001", "配偶", DIV, "正常"],
        [
            make_id(birth="20100505", seq="031"),
            "张小",
            "男",
            "20100505",
            "000000001",
            "子",
            DIV,
            "正常",
        ],
    ]


MEDICAL_HEADER = [
    "结算流水号",
    "公民身份号码",
    "姓名",
    "险种类型",
    "就诊类型",
    "入院日期",
    "结算日期",
    "主诊断编码",
    "主诊断名称",
    "医疗机构等级",
    "医疗总费用",
    "政策范围内费用",
    "统筹基金支付",
    "大病保险支付",
    "医疗救助支付",
    "个人自付",
    "个人自费",
]


def medical_row(sid: str, id_no: str, total: str = "1000", fund: str = "600") -> list[str]:
    return [
        sid,
        id_no,
        "张三",
        "城乡居民医保",
        "住院",
        "2023-02-01 08:00:00",
        "2023-03-05 10:00:00",
        "J18",
        "肺炎",
        "二级",
        total,
        "900",
        fund,
        "0",
        "0",
        "300",
        "100",
    ]


def read_parquet_dir(root: Path) -> dict[Path, pd.DataFrame]:
    return {p: pd.read_parquet(p) for p in sorted(root.rglob("*.parquet"))}
