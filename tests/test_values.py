import pickle
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jixiao.ingest.values import UNITS, IndicatorValue, ValueParseError, parse_indicator_value, units_compatible

D = Decimal

# The table in raw-workbook.md, "Indicator values": (written, number, unit, comparator, direction).
CONTRACT = [
    ("1920 例", D(1920), "例", None, "higher"),
    ("及时率 100%", D(100), "%", None, "higher"),
    ("满意度达 98%", D(98), "%", None, "higher"),
    ("设置 6 项残疾人运动比赛", D(6), "项", None, "higher"),
    ("接受康复服务 550 名", D(550), "名", None, "higher"),
    ("≥95%", D(95), "%", ">=", "higher"),
    ("不低于 95%", D(95), "%", ">=", "higher"),
    ("大于等于 95%", D(95), "%", ">=", "higher"),
    ("≤5%", D(5), "%", "<=", "lower"),
    ("不高于 5%", D(5), "%", "<=", "lower"),
    ("不超过 5%", D(5), "%", "<=", "lower"),
    ("控制在 5% 以内", D(5), "%", "<=", "lower"),
    ("=100%", D(100), "%", "=", "higher"),
    ("﹦100%", D(100), "%", "=", "higher"),
    ("100%", D(100), "%", None, "higher"),
    ("/", None, None, None, "not_applicable"),
    ("无", None, None, None, "not_applicable"),
    ("不适用", None, None, None, "not_applicable"),
    ("达到预期", None, None, None, "qualitative"),
    ("有效提升", None, None, None, "qualitative"),
]

# 表2-2 of the seed report: (三级指标, 指标值, target number and unit, 实际完成值, actual number and unit).
SEED = [
    ("残疾人康复资助例数", "1920 例", (D(1920), "例"), "2749 例", (D(2749), "例")),
    ("村居工作人员入户数", "17000 户", (D(17000), "户"), "15898 户", (D(15898), "户")),
    ("托养服务机构运营资助", "95 家", (D(95), "家"), "91 家", (D(91), "家")),
    ("本市外区机构寄宿托养运营资助", "3 家", (D(3), "家"), "3 家", (D(3), "家")),
    ("低保低收入家庭残疾人的托养护理费资助", "40 人", (D(40), "人"), "34 人", (D(34), "人")),
    ("残疾人寄宿托养新增床位资助", "90 张", (D(90), "张"), "58 张", (D(58), "张")),
    ("社会工作服务资助", "6 人", (D(6), "人"), "2 人", (D(2), "人")),
    ("基层工疗站日常运营", "接受康复服务 550 名", (D(550), "名"), "实际到站接受 康复服务共计 555 名", (D(555), "名")),
    ("举办第八届区残疾人运动会和组团参加第十一届市残疾人运动会",
     "设置 6 项残疾人 运动比赛", (D(6), "项"), "设置 7 项", (D(7), "项")),
    ("对区内持证残疾人进行春节慰问", "16200 人", (D(16200), "人"), "15624 人", (D(15624), "人")),
    ("城镇职工基本养老保险资助", "95 人", (D(95), "人"), "80 人", (D(80), "人")),
    ("扶助残疾人教育", "911 人次", (D(911), "人次"), "965 人次", (D(965), "人次")),
    ("基层康园工疗站工疗人员出勤补贴", "567 人", (D(567), "人"), "572 人", (D(572), "人")),
    ("精综服务对象", "430 人", (D(430), "人"), "430 人", (D(430), "人")),
    ("残疾人福利补贴申请审批", "及时率 100%", (D(100), "%"), "100%", (D(100), "%")),
    ("预算经费使用率", "使用率 92%", (D(92), "%"), "97.76%", (D("97.76"), "%")),
    ("村居联络员财政资金预算完成率", "完成率 100%", (D(100), "%"), "100%", (D(100), "%")),
    ("残疾人福利补贴满意度调查", "满意度达 98%", (D(98), "%"), "100%", (D(100), "%")),
]

# Rules of the parser beyond the contract table: (input, number, unit, comparator, direction).
MORE = [
    ("１２３％", D(123), "%", None, "higher"),
    ("满意度　≥　９５％", D(95), "%", ">=", "higher"),
    ("16,200 人", D(16200), "人", None, "higher"),
    ("1,234.5 万元", D("1234.5"), "万元", None, "higher"),
    ("1920例", D(1920), "例", None, "higher"),
    ("实际到站接受康复服务共计555名", D(555), "名", None, "higher"),
    ("使用率92%", D(92), "%", None, "higher"),
    ("举办第8届运动会6场", D(6), "场", None, "higher"),
    ("2022年服务3994人", D(3994), "人", None, "higher"),
    ("截至10月25日共审核1810户", D(1810), "户", None, "higher"),
    ("2022-2023年度满意度95%", D(95), "%", None, "higher"),
    ("满意度95%,样本300", D(95), "%", None, "higher"),
    ("1、设置6项", D(6), "项", None, "higher"),
    ("5G基站10个", D(10), "个", None, "higher"),
    ("PM2.5浓度≤35", D(35), None, "<=", "lower"),
    ("不少于10场", D(10), "场", ">=", "higher"),
    ("至少3次", D(3), "次", ">=", "higher"),
    ("95%以上", D(95), "%", ">=", "higher"),
    ("5%以下", D(5), "%", "<=", "lower"),
    ("低于3%", D(3), "%", "<=", "lower"),
    ("不得超过10%", D(10), "%", "<=", "lower"),
    ("不得低于90%", D(90), "%", ">=", "higher"),
    ("大于5", D(5), None, ">", "higher"),
    ("超过10个", D(10), "个", ">", "higher"),
    ("小于3次", D(3), "次", "<", "lower"),
    ("3个工作日内", D(3), "个工作日", "<=", "lower"),
    ("30分钟内", D(30), "分钟", "<=", "lower"),
    ("2个百分点", D(2), "个百分点", None, "higher"),
    ("3个月", D(3), "个月", None, "higher"),
    ("100余人", D(100), "人", None, "higher"),
    ("500元/人", D(500), "元/人", None, "higher"),
    ("1.5万人次", D("1.5"), "万人次", None, "higher"),
    ("百分之95", D(95), "%", None, "higher"),
    ("100㎡", D(100), "平方米", None, "higher"),
    ("-5%", D(-5), "%", None, "higher"),
    ("增长-2.5%", D("-2.5"), "%", None, "higher"),
    ("95", D(95), None, None, "higher"),
    ("100.00%", D("100.00"), "%", None, "higher"),
    ("——", None, None, None, "not_applicable"),
    ("—", None, None, None, "not_applicable"),
    ("-", None, None, None, "not_applicable"),
    ("N/A", None, None, None, "not_applicable"),
    ("不涉及", None, None, None, "not_applicable"),
    ("①完成培训", None, None, None, "qualitative"),
    ("2022年度目标已完成", None, None, None, "qualitative"),
]


def _check(parsed, number, unit, comparator, direction):
    assert isinstance(parsed, IndicatorValue)
    assert (parsed.number, parsed.unit, parsed.comparator, parsed.direction) == (number, unit, comparator, direction)
    if number is not None:
        assert parsed.number.as_tuple() == number.as_tuple()  # the written digits, not a float round trip


@pytest.mark.parametrize(("written", "number", "unit", "comparator", "direction"), CONTRACT + MORE)
def test_written_values(written, number, unit, comparator, direction):
    _check(parse_indicator_value(written), number, unit, comparator, direction)


@pytest.mark.parametrize(("indicator", "target", "target_value", "actual", "actual_value"), SEED,
                         ids=[row[0] for row in SEED])
def test_seed_table_2_2(indicator, target, target_value, actual, actual_value):
    t, a = parse_indicator_value(target), parse_indicator_value(actual)
    _check(t, *target_value, None, "higher")
    _check(a, *actual_value, None, "higher")
    assert units_compatible(t, a)


def test_text_is_normalized():
    assert parse_indicator_value("  满意度\u3000达 \n ９８％ ").text == "满意度 达 98%"
    assert parse_indicator_value("﹦100%").text == "=100%"


@pytest.mark.parametrize(("written", "met"), [
    ("达到预期", True), ("有效提升", True), ("已完成", True), ("完成", True), ("是", True), ("符合要求", True),
    ("目标实现", True), ("未达到预期", False), ("未完成", False), ("否", False), ("未实现", False),
    ("没有开展", False), ("基本完成", None), ("部分达到", None), ("正在推进", None), (True, True), (False, False),
])
def test_qualitative_met(written, met):
    parsed = parse_indicator_value(written)
    assert (parsed.direction, parsed.number, parsed.met) == ("qualitative", None, met)


def test_met_only_for_qualitative():
    assert parse_indicator_value("完成 95%").met is None
    assert parse_indicator_value("无").met is None


@pytest.mark.parametrize(("cell", "number"), [
    (1920, D(1920)), (0.9765, D("0.9765")), (97.76, D("97.76")), (-3, D(-3)), (D("1.50"), D("1.50")),
])
def test_excel_number_cells(cell, number):
    parsed = parse_indicator_value(cell)
    _check(parsed, number, None, None, "higher")


@pytest.mark.parametrize(("value", "rule"), [
    (None, "indicator.value_empty"),
    ("", "indicator.value_empty"),
    ("  \u3000\n\t", "indicator.value_empty"),
    ("\u200b", "indicator.value_empty"),
    (float("nan"), "indicator.value_empty"),
    ("满" * 501, "indicator.value_too_long"),
    (10 ** 600, "indicator.value_too_long"),
    ("95%至98%", "indicator.value_ambiguous"),
    ("95%~98%", "indicator.value_ambiguous"),
    ("90%-100%", "indicator.value_ambiguous"),
    ("95-98%", "indicator.value_ambiguous"),
    ("16 200 人", "indicator.value_ambiguous"),
    ("设置6项,服务100人", "indicator.value_ambiguous"),
    ("3或5", "indicator.value_ambiguous"),
    ("≥5%以内", "indicator.value_ambiguous"),
    (float("inf"), "indicator.value_invalid"),
    (complex(1, 2), "indicator.value_type"),
    (b"95", "indicator.value_type"),
    ([95], "indicator.value_type"),
])
def test_errors(value, rule):
    with pytest.raises(ValueParseError) as caught:
        parse_indicator_value(value)
    assert caught.value.rule == rule
    assert str(caught.value) == caught.value.message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)


def test_error_keeps_the_value_found():
    with pytest.raises(ValueParseError) as caught:
        parse_indicator_value("95%至98%")
    err = caught.value
    assert isinstance(err, ValueError)
    assert (err.rule, err.value) == ("indicator.value_ambiguous", "95%至98%")
    assert "95%至98%" in err.message
    again = pickle.loads(pickle.dumps(err))
    assert (again.rule, again.message, again.value) == (err.rule, err.message, err.value)


def test_500_characters_is_not_too_long():
    assert parse_indicator_value("满" * 496 + "100%").number == D(100)


@pytest.mark.parametrize(("target", "actual", "compatible"), [
    ("1920 例", "2749 例", True),
    ("≥95%", "97.76%", True),
    ("1920 例", "2749 人", False),
    ("95%", "95", False),
    ("95", "95", True),
    ("100%", 1, False),
    ("达到预期", "100%", True),
    ("95%", "已完成", True),
    ("/", "100 人", True),
    ("100 人", "无", True),
])
def test_units_compatible(target, actual, compatible):
    assert units_compatible(parse_indicator_value(target), parse_indicator_value(actual)) is compatible


PARSER_ALPHABET = list("0123456789.,-+%/ 　≥≤<>=﹦第年月日人次例项个万元以上内不低于超过控制在至否是未达到完成①²㎡１２％—")
anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.decimals(), st.text(),
    st.text(alphabet=st.sampled_from(PARSER_ALPHABET), max_size=40),
)


@settings(max_examples=400, deadline=None)
@given(anything)
def test_never_raises_anything_else(value):
    try:
        parsed = parse_indicator_value(value)
    except ValueParseError as err:
        assert err.rule.startswith("indicator.") and err.message
        return
    assert isinstance(parsed, IndicatorValue)
    assert len(parsed.text) <= 500
    measured = parsed.direction in ("higher", "lower")
    assert (parsed.number is not None) == measured
    assert parsed.unit is None or measured
    assert parsed.met is None or parsed.direction == "qualitative"


# (before the number, after the unit, direction)
COMPARATORS = [
    ("", "", "higher"), ("≥", "", "higher"), (">=", "", "higher"), ("＞＝", "", "higher"), ("不低于", "", "higher"),
    ("大于等于", "", "higher"), ("至少", "", "higher"), ("不少于", "", "higher"), ("", "以上", "higher"),
    ("大于", "", "higher"), ("超过", "", "higher"), (">", "", "higher"), ("=", "", "higher"), ("﹦", "", "higher"),
    ("≤", "", "lower"), ("<=", "", "lower"), ("不高于", "", "lower"), ("不超过", "", "lower"), ("小于等于", "", "lower"),
    ("控制在", "以内", "lower"), ("", "以内", "lower"), ("", "以下", "lower"), ("低于", "", "lower"),
    ("小于", "", "lower"), ("<", "", "lower"),
]
numbers_ = st.integers(0, 4).flatmap(
    lambda places: st.decimals(min_value=-10 ** 7, max_value=10 ** 7, places=places,
                               allow_nan=False, allow_infinity=False))
space = st.sampled_from(["", " "])


@settings(max_examples=400, deadline=None)
@given(lead=st.text(alphabet="满意度使用率及时服务对象康复资助", max_size=6), op=st.sampled_from(COMPARATORS),
       number=numbers_, grouped=st.booleans(), unit=st.sampled_from(sorted(UNITS)), gaps=st.tuples(space, space, space))
def test_round_trip(lead, op, number, grouped, unit, gaps):
    before, after, direction = op
    written = format(number, ",f" if grouped else "f")
    assume(not (unit == "年" and "." not in written and 1900 <= abs(number) <= 2099))  # a year, by design
    text = f"{lead}{gaps[0]}{before}{written}{gaps[1]}{unit}{gaps[2]}{after}"
    parsed = parse_indicator_value(text)
    assert (parsed.number, parsed.unit, parsed.direction) == (number, unit, direction)
