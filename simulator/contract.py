"""The department extract files of shared/contract/department-extracts.md, declared as data.

One :class:`FileSpec` per delivered file: where it lives, how it is encoded, its columns
in contract order and the kind of each column. The writer, the defect injector and the
tests read these specs; ingest configs can list the same :data:`COLUMN_ALIASES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

ColumnKind = Literal[
    "id",  # 18-character resident ID
    "cert",  # disability certificate: 18-character ID + category digit + grade digit
    "date",
    "datetime",
    "money",  # yuan, float64
    "number",  # a non-money float (floor area)
    "int",
    "period",  # YYYYMM as int32 (parquet)
    "category",  # one of `values`
    "code",  # identifiers and division codes, kept as strings
    "text",
]
FileFormat = Literal["csv", "xlsx", "parquet"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a delivered file."""

    name: str
    kind: ColumnKind
    values: tuple[str, ...] = ()  # allowed values of a category
    unknown: tuple[str, ...] = ()  # plausible values outside the contract, for defects
    nullable: bool = False  # the contract says it "may be empty"

    @property
    def arrow_type(self) -> str:
        """The parquet type of this column: string, int32, int64 or float64."""
        if self.kind == "period":
            return "int32"
        if self.kind in ("money", "number"):
            return "float64"
        if self.kind == "int":
            return "int64"
        return "string"


@dataclass(frozen=True)
class FileSpec:
    """One file a department delivers every month."""

    source: str
    name: str
    format: FileFormat
    columns: tuple[ColumnSpec, ...]
    encoding: str | None = None  # csv only: "gb18030" or "utf-8"
    bom: bool = False
    date_format: str | None = None  # strftime of date/datetime columns in csv files
    first_month_only: bool = False  # a full base ("全量") delivered in the first month
    sheet: str | None = None  # xlsx only
    title: str | None = None  # xlsx only: row-1 title, with {region} {year} {month}
    title_first: str | None = None  # xlsx only: title of the first month's full base
    department: str = ""  # used as the value of an added 数据来源 column
    parts_total: tuple[str, ...] = ()  # columns[0] is the sum of the others

    @property
    def key(self) -> str:
        """Path relative to the raw root's month folder: ``<source>/<file>``."""
        return f"{self.source}/{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def of_kind(self, *kinds: str) -> list[ColumnSpec]:
        return [c for c in self.columns if c.kind in kinds]

    @property
    def person_id(self) -> str | None:
        """The column naming the person a row is about (for people not in the registry)."""
        for name in ("成员身份证号", "公民身份号码", "身份证号", "户主身份证号", "权利人证件号码"):
            if name in self.column_names:
                return name
        return "残疾人证号" if "残疾人证号" in self.column_names else None


def _cat(name: str, values: str, unknown: str = "未知") -> ColumnSpec:
    return ColumnSpec(name, "category", tuple(values.split()), tuple(unknown.split()))


RELATIONS = "户主 配偶 子 女 父母 孙子女 兄弟姐妹 其他"
SEX = _cat("性别", "男 女", "未知 9")
INSURANCE = "企业职工基本养老保险 城乡居民基本养老保险 机关事业单位养老保险"

_HUKOU_BASE_COLUMNS = (
    ColumnSpec("公民身份号码", "id"),
    ColumnSpec("姓名", "text"),
    SEX,
    ColumnSpec("出生日期", "date"),
    ColumnSpec("户号", "code"),
    _cat("与户主关系", RELATIONS, "外甥 保姆"),
    ColumnSpec("区划代码", "code"),
    _cat("人员状态", "正常 死亡 迁出", "注销 失踪"),
)

FILES: tuple[FileSpec, ...] = (
    FileSpec(
        "hukou",
        "户籍人口_全量.csv",
        "csv",
        _HUKOU_BASE_COLUMNS,
        encoding="gb18030",
        date_format="%Y%m%d",
        first_month_only=True,
        department="市公安局",
    ),
    FileSpec(
        "hukou",
        "户籍变动.csv",
        "csv",
        (
            *_HUKOU_BASE_COLUMNS,
            _cat("变动类型", "出生 死亡 迁入 迁出 分户", "更正 注销"),
            ColumnSpec("变动日期", "date"),
        ),
        encoding="gb18030",
        date_format="%Y%m%d",
        department="市公安局",
    ),
    FileSpec(
        "civil_affairs",
        "救助对象花名册.csv",
        "csv",
        (
            ColumnSpec("家庭编号", "code"),
            ColumnSpec("户主身份证号", "id"),
            ColumnSpec("成员身份证号", "id"),
            ColumnSpec("成员姓名", "text"),
            _cat("与户主关系", RELATIONS, "外甥 保姆"),
            _cat("救助类别", "低保 特困 低保边缘 刚性支出困难 防止返贫监测", "低收入 五保 临时"),
            ColumnSpec("保障人数", "int"),
            ColumnSpec("月救助金额", "money"),
            ColumnSpec("家庭人均月收入", "money"),
            _cat("致贫原因", "疾病 残疾 因学 灾害 缺乏劳动力 失业 其他", "因病 缺技术"),
            _cat("劳动能力", "有 部分丧失 完全丧失 无(未成年/老年)", "无 弱劳动力"),
            ColumnSpec("区划代码", "code"),
            ColumnSpec("认定日期", "date"),
            _cat("状态", "在保 渐退期", "停保 暂停"),
        ),
        encoding="gb18030",
        date_format="%Y-%m-%d",
        department="市民政局",
    ),
    FileSpec(
        "civil_affairs",
        "临时救助.csv",
        "csv",
        (
            ColumnSpec("身份证号", "id"),
            ColumnSpec("姓名", "text"),
            ColumnSpec("救助日期", "date"),
            ColumnSpec("救助金额", "money"),
            _cat("救助类型", "急难型 支出型", "过渡型 其他"),
            _cat("事由", "疾病 意外 灾害 其他", "火灾 失业"),
            ColumnSpec("区划代码", "code"),
        ),
        encoding="gb18030",
        date_format="%Y-%m-%d",
        department="市民政局",
    ),
    FileSpec(
        "medical",
        "医保结算明细.csv",
        "csv",
        (
            ColumnSpec("结算流水号", "code"),
            ColumnSpec("公民身份号码", "id"),
            ColumnSpec("姓名", "text"),
            _cat("险种类型", "职工医保 城乡居民医保", "新农合 离休"),
            _cat("就诊类型", "普通门诊 门诊慢特病 住院", "急诊 家庭病床"),
            ColumnSpec("入院日期", "datetime"),
            ColumnSpec("结算日期", "datetime"),
            ColumnSpec("主诊断编码", "code"),
            ColumnSpec("主诊断名称", "text"),
            _cat("医疗机构等级", "一级 二级 三级", "未定级 社区"),
            ColumnSpec("医疗总费用", "money"),
            ColumnSpec("政策范围内费用", "money"),
            ColumnSpec("统筹基金支付", "money"),
            ColumnSpec("大病保险支付", "money"),
            ColumnSpec("医疗救助支付", "money"),
            ColumnSpec("个人自付", "money"),
            ColumnSpec("个人自费", "money"),
        ),
        encoding="utf-8",
        bom=True,
        date_format="%Y-%m-%d %H:%M:%S",
        department="市医保局",
        parts_total=(
            "医疗总费用",
            "统筹基金支付",
            "大病保险支付",
            "医疗救助支付",
            "个人自付",
            "个人自费",
        ),
    ),
    FileSpec(
        "employment",
        "就业失业登记.csv",
        "csv",
        (
            ColumnSpec("公民身份号码", "id"),
            ColumnSpec("姓名", "text"),
            _cat("登记类型", "失业登记 就业登记 失业登记注销", "灵活就业登记 退休"),
            ColumnSpec("登记日期", "date"),
            ColumnSpec("失业保险金月额", "money", nullable=True),
            ColumnSpec("区划代码", "code"),
        ),
        encoding="utf-8",
        date_format="%Y/%m/%d",
        department="市人力社保局",
    ),
    FileSpec(
        "employment",
        "社保缴费.parquet",
        "parquet",
        (
            ColumnSpec("公民身份号码", "id"),
            ColumnSpec("费款所属期", "period"),
            _cat("险种", INSURANCE, "城镇居民养老保险 新农保"),
            ColumnSpec("缴费基数", "money"),
            _cat("缴费状态", "正常应缴 中断 补缴", "暂停 退费"),
        ),
        department="市人力社保局",
    ),
    FileSpec(
        "employment",
        "养老金发放.parquet",
        "parquet",
        (
            ColumnSpec("公民身份号码", "id"),
            ColumnSpec("发放年月", "period"),
            _cat("险种", INSURANCE, "城镇居民养老保险 新农保"),
            ColumnSpec("月发放金额", "money"),
        ),
        department="市人力社保局",
    ),
    FileSpec(
        "disability",
        "残疾人证信息.xlsx",
        "xlsx",
        (
            ColumnSpec("残疾人证号", "cert"),
            ColumnSpec("姓名", "text"),
            SEX,
            _cat("残疾类别", "视力 听力 言语 肢体 智力 精神 多重", "内脏 其他"),
            _cat("残疾等级", "一级 二级 三级 四级", "五级 特级"),
            ColumnSpec("发证日期", "date"),
            _cat("变动类型", "新办 换领 等级变更 注销", "补办 迁入"),
            _cat("困难残疾人生活补贴", "是 否", "待审 1"),
            _cat("重度残疾人护理补贴", "是 否", "待审 1"),
            ColumnSpec("区划代码", "code"),
        ),
        sheet="残疾人证",
        title="{region}残疾人证信息变动表（{year}年{month}月）",
        title_first="{region}残疾人证信息表（{year}年{month}月）",
        department="市残联",
    ),
    FileSpec(
        "housing",
        "农村房屋安全鉴定.csv",
        "csv",
        (
            ColumnSpec("房屋编号", "code"),
            ColumnSpec("户主身份证号", "id"),
            ColumnSpec("户主姓名", "text"),
            ColumnSpec("区划代码", "code"),
            ColumnSpec("鉴定日期", "date"),
            _cat("鉴定等级", "A B C D", "E 危房"),
            _cat("改造状态", "未改造 改造中 已改造", "拆除 待改造"),
            ColumnSpec("改造完成日期", "date", nullable=True),
        ),
        encoding="gb18030",
        date_format="%Y-%m-%d",
        department="市住建局",
    ),
    FileSpec(
        "housing",
        "不动产登记.csv",
        "csv",
        (
            ColumnSpec("不动产单元号", "code"),
            ColumnSpec("权利人证件号码", "id"),
            _cat("登记类型", "首次登记 转移登记 注销登记", "变更登记 抵押登记"),
            ColumnSpec("登记日期", "date"),
            _cat("登记原因", "买卖 继承 赠与 新建", "拍卖 离婚析产"),
            _cat("转移方向", "取得 转出", "共有"),
            ColumnSpec("建筑面积", "number"),
            _cat("用途", "住宅 商业 工业", "车库 办公"),
        ),
        encoding="utf-8",
        date_format="%Y-%m-%d",
        department="市自然资源局",
    ),
)

SPECS: dict[str, FileSpec] = {f.key: f for f in FILES}

# Names departments have been seen to use instead of the contract's; a renamed column
# in a delivery takes one of these. Ingest configs may accept the same aliases.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "公民身份号码": ("身份证号码", "身份证号"),
    "户主身份证号": ("户主身份证号码", "户主证件号码"),
    "成员身份证号": ("成员身份证号码", "身份证号码"),
    "身份证号": ("身份证号码", "公民身份号码"),
    "权利人证件号码": ("证件号码", "权利人身份证号"),
    "残疾人证号": ("残疾证号", "证号"),
    "姓名": ("人员姓名",),
    "成员姓名": ("姓名",),
    "出生日期": ("出生年月日",),
    "区划代码": ("行政区划代码", "村社区代码"),
    "变动日期": ("变更日期",),
    "认定日期": ("审批日期",),
    "救助日期": ("发放日期",),
    "救助金额": ("救助金额(元)",),
    "月救助金额": ("月保障金额",),
    "家庭人均月收入": ("人均月收入",),
    "入院日期": ("入院时间", "就诊日期"),
    "结算日期": ("结算时间",),
    "医疗总费用": ("总费用",),
    "登记日期": ("办理日期",),
    "失业保险金月额": ("失业金月额",),
    "费款所属期": ("所属期",),
    "缴费基数": ("月缴费基数",),
    "发放年月": ("发放月份",),
    "月发放金额": ("发放金额",),
    "发证日期": ("发证时间",),
    "鉴定日期": ("鉴定时间",),
    "改造完成日期": ("竣工日期",),
    "建筑面积": ("建筑面积(㎡)",),
}

# Columns a department sometimes adds to an export.
EXTRA_COLUMNS: tuple[str, ...] = ("备注", "数据来源", "序号", "导出时间")

# Valid county codes outside Zhejiang, for IDs of people not in the area's registry.
OUTSIDE_AREA_CODES: tuple[str, ...] = (
    "110101",
    "310104",
    "320102",
    "320505",
    "340104",
    "350102",
    "360102",
    "410105",
    "420106",
    "430104",
    "440106",
    "500103",
    "510107",
    "520102",
    "530102",
)

# Other date layouts a department may slip into (for "date in another format").
DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")
DATETIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%dT%H:%M:%S",
)
EXCEL_TEXT_DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d")

_FIELDS = {
    "%Y": (0, 4),
    "%m": (5, 7),
    "%d": (8, 10),
    "%H": (11, 13),
    "%M": (14, 16),
    "%S": (17, 19),
}


def _digits(x: np.ndarray, width: int) -> np.ndarray:
    return np.stack([(x // 10 ** (width - 1 - i)) % 10 + 48 for i in range(width)], axis=1)


def format_dates(values: pd.Series | np.ndarray, fmt: str) -> pd.Series:
    """Dates or datetimes as text in ``fmt``, vectorised; missing values stay missing.

    strftime over millions of values takes seconds, so ASCII layouts are built as byte
    matrices from the year, month, day and time digits.
    """
    v = pd.Series(values).to_numpy(dtype="datetime64[s]")
    nat = np.isnat(v)
    if not fmt.isascii() or len(v) == 0:
        out = pd.Series(pd.DatetimeIndex(v).strftime(fmt), dtype="str")
        return out.where(~nat)
    v = np.where(nat, np.datetime64(0, "s"), v)
    days = v.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    parts = {
        "%Y": _digits(months.astype(np.int64) // 12 + 1970, 4),
        "%m": _digits(months.astype(np.int64) % 12 + 1, 2),
        "%d": _digits((days - months).astype(np.int64) + 1, 2),
    }
    secs = (v - days).astype(np.int64)
    parts |= {
        "%H": _digits(secs // 3600, 2),
        "%M": _digits(secs // 60 % 60, 2),
        "%S": _digits(secs % 60, 2),
    }
    pieces, i = [], 0
    while i < len(fmt):
        tok = fmt[i : i + 2]
        if tok in parts:
            pieces.append(parts[tok])
            i += 2
        else:
            pieces.append(np.full((len(v), 1), ord(fmt[i])))
            i += 1
    mat = np.ascontiguousarray(np.concatenate(pieces, axis=1).astype(np.uint8))
    text = mat.view(f"S{mat.shape[1]}").ravel().astype(str)
    return pd.Series(text, dtype="str").where(~nat)


def compose_date(fmt: str, parts: dict[str, pd.Series]) -> pd.Series:
    """Text in ``fmt`` from zero-padded string parts (keys %Y %m %d %H %M %S), for dates
    that are not real dates (20230231)."""
    out: pd.Series | None = None
    i = 0
    n = len(next(iter(parts.values())))
    index = next(iter(parts.values())).index
    while i < len(fmt):
        tok = fmt[i : i + 2]
        if tok in _FIELDS:
            piece, i = parts[tok], i + 2
        else:
            piece, i = pd.Series([fmt[i]] * n, index=index, dtype="str"), i + 1
        out = piece if out is None else out + piece
    assert out is not None
    return out


def format_money(values: pd.Series | np.ndarray) -> pd.Series:
    """Yuan written plainly (``1234.5``, ``100``), rounded to the fen; empty stays empty."""
    v = np.round(pd.Series(values, dtype="float64").to_numpy(), 2)
    nan = np.isnan(v)
    # repr of a float rounded to 2 decimals is short; drop a trailing ".0"
    text = pd.Series(v.astype(str), dtype="str").str.removesuffix(".0")
    return text.where(~nan)
