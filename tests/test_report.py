"""Report tables: half-up display, golden HTML, marks, escaping, the written pages.

The frames are small hand-written slices of 区残联's 2022 report (seed 000_fa6861cd34e91e59).
"""

from __future__ import annotations

import re
from decimal import Decimal as D

import polars as pl
import pytest

from jixiao.publish import report
from jixiao.publish.display import fmt_number, fmt_percent, fmt_score, fmt_wan, round_half_up

YEAR, DEPT = 2022, "PY-DPF"
SOURCE = "数据来源：番禺区残联_2022.xlsx；运行 20230301T090000-3f2a"
FILE = "番禺区残联_2022.xlsx"


def frame(columns: str, rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=columns.split(), orient="row")


INDICATORS = frame(
    "year dept_code indicator_no level1 level2 indicator target_text target_value actual_text"
    " actual_value unit direction completion_rate bucket reported_rate is_met",
    [
        (YEAR, DEPT, 1, "产出指标", "数量指标", "残疾人康复资助例数", "1920 例", D("1920"), "2749 例",
         D("2749"), "例", "higher", D("1.4317708333"), ">=100%", D("1.4318"), True),
        (YEAR, DEPT, 2, "产出指标", "数量指标", "村居工作人员入户数", "17000 户", D("17000"), "15898 户",
         D("15898"), "户", "higher", D("0.9351764706"), "90-100%", D("0.9352"), False),
        (YEAR, DEPT, 3, "产出指标", "数量指标", "残疾人寄宿托养新增床位资助", "90 张", D("90"), "58 张",
         D("58"), "张", "higher", D("0.64444"), "<90%", D("0.6444"), False),
        (YEAR, DEPT, 4, "产出指标", "质量指标", "残疾人福利补贴申请审批", "及时率 100%", D("100"), "100%",
         D("100"), "%", "higher", D("1"), ">=100%", D("1"), True),
        (YEAR, DEPT, 5, "产出指标", "质量指标", "残疾人就业年审", "/", None, "/",
         None, None, None, None, "not_applicable", None, None),
        (YEAR, DEPT, 6, "产出指标", "时效指标", "预算经费使用率", "使用率 92%", D("92"), "97.65%",
         D("97.65"), "%", "higher", D("1.0614130435"), ">=100%", D("1.0626"), True),
        (YEAR, DEPT, 7, "效益指标", "社会效益指标", "残疾人就业服务成效", "有效提升", None, "达到预期",
         None, None, None, None, "qualitative", None, True),
        (YEAR, DEPT, 8, "满意度指标", "服务对象满意度指标", "残疾人福利补贴满意度调查", "满意度达 98%", D("98"),
         "100%", D("100"), "%", "higher", D("1.0204081633"), ">=100%", D("1.0204"), True),
    ],
)

TASK_1 = "任务1：开展残疾人康复资助、上门评残工作"
TASK_3 = "任务3：开展康园工疗机构项目"
TASK_6 = "任务6：扎实开展残疾人教育工作"
PROJECTS = frame(
    "year dept_code task_no task project_no project budget_yuan spent_yuan spend_rate reported_rate",
    [
        (YEAR, DEPT, 1, TASK_1, 1, "残疾人康复资助财政补贴项目（区级）", D("4446200.00"), D("4443000.00"),
         D("0.9992802843"), D("0.9993")),
        (YEAR, DEPT, 1, TASK_1, 2, "广州追加提前下达残疾人康复经费市级财政转移支付项目", D("2289900.00"),
         D("2289900.00"), D("1"), D("1")),
        # Two projects whose names differ only by 、: two rows, not a duplicate.
        (YEAR, DEPT, 3, TASK_3, 1, "广州追加提前下达残疾人教育、就业、社会保障等财政补贴项目", D("384500.00"),
         D("86000.00"), D("0.2236671001"), D("0.2237")),
        (YEAR, DEPT, 3, TASK_3, 2, "广州追加提前下达残疾人教育就业社会保障等财政补贴项目", D("1616200.00"),
         D("1363100.00"), D("0.8433980943"), D("0.8434")),
        (YEAR, DEPT, 6, TASK_6, 1, "扶助残疾人教育", D("1171000.00"), D("1171000.00"), D("1"), D("1")),
    ],
)
TASKS = frame(
    "year dept_code task_no task projects budget_yuan spent_yuan spend_rate",
    [
        (YEAR, DEPT, 1, TASK_1, 2, D("6736100.00"), D("6732900.00"), D("0.9995249477")),
        (YEAR, DEPT, 3, TASK_3, 2, D("2000700.00"), D("1449100.00"), D("0.7242964962")),
        (YEAR, DEPT, 6, TASK_6, 1, D("1171000.00"), D("1171000.00"), D("1")),
    ],
)

SCORES = frame(
    "year dept_code item_no level1 level1_weight level2 level2_weight item weight score method"
    " reported_score ruleset",
    [
        (YEAR, DEPT, 1, "履职效能", D("50"), "整体效能", D("50"), "部门整体绩效目标产出指标完成情况", D("20"),
         D("11.7647058824"), "computed", D("11.76"), "gz-2022"),
        (YEAR, DEPT, 2, "履职效能", D("50"), "整体效能", D("50"), "部门整体绩效目标效益指标完成情况", D("20"),
         D("20"), "computed", D("20"), "gz-2022"),
        # 10 × 97.650% = 9.7650: half up gives 9.77, half-even would give 9.76.
        (YEAR, DEPT, 3, "履职效能", D("50"), "整体效能", D("50"), "部门预算资金支出率", D("10"),
         D("9.7650"), "computed", D("9.78"), "gz-2022"),
        (YEAR, DEPT, 4, "管理效率", D("50"), "预算编制", D("3"), "新增预算项目事前绩效评估", D("3"),
         D("3"), "entered", D("3"), "gz-2022"),
        (YEAR, DEPT, 5, "管理效率", D("50"), "采购管理", D("10"), "采购意向公开合规性", D("0.5"),
         D("0.5"), "entered", D("0.5"), "gz-2022"),
        (YEAR, DEPT, 6, "管理效率", D("50"), "采购管理", D("10"), "", D("1.5"),
         D("1.5"), "entered", D("1.5"), "gz-2022"),
        (YEAR, DEPT, 7, "管理效率", D("50"), "资产管理", D("10"), "资产配置合规性", D("2"),
         D("2"), "entered", D("2"), "gz-2022"),
    ],
)

SUMMARY = frame(
    "year dept_code dept_name dept_short_name budget_yuan spent_yuan execution_rate indicators_total"
    " indicators_ge_100 indicators_90_100 indicators_lt_90 indicators_qualitative"
    " indicators_not_applicable output_indicators effect_indicators projects project_budget_yuan"
    " project_spent_yuan project_spend_rate total_score grade ruleset",
    [
        (YEAR, DEPT, "广州市番禺区残疾人联合会", "区残联", D("47966000.00"), D("46838900.00"), D("0.97650"),
         8, 4, 1, 1, 1, 1, 5, 2, 5, D("9907800.00"), D("9353000.00"), D("0.9440037143"), D("91.5347058824"),
         "优", "gz-2022"),
    ],
)

TASK_OUTCOMES = frame(
    "year dept_code task_no task outcome",
    [
        (YEAR, DEPT, 1, "开展残疾人康复资助、上门评残工作", "资助残疾人康复2749人，村居工作人员入户评残、调查15898户。"),
        # Already numbered in the workbook: not numbered twice.
        (YEAR, DEPT, 2, "任务2：开展精神康复综合服务中心运营项目", "精神康复综合服务中心2022年服务对象增至430人。"),
        (YEAR, DEPT, 3, "开展康园工疗机构项目", None),
    ],
)

PROFILE = frame(
    "year dept_code dept_name dept_short_name budget_yuan revenue_yuan spent_yuan spend_target_rate subunits",
    [(YEAR, DEPT, "广州市番禺区残疾人联合会", "区残联", D("47966000.00"), D("46838900.00"), D("46838900.00"),
      D("0.92"), 1)],
)

RECONCILIATION = frame(
    "figure reported_value computed_value difference status sheet cell",
    [
        ("完成年度预算比例", D("0.9765"), D("0.9765021057"), D("-0.0000021057"), "match", "报告数值", "B2"),
        ("总得分", D("91.54"), D("91.5347058824"), D("0.0052941176"), "mismatch", "报告数值", "B3"),
        ("项目支出总额", D("35462500.00"), D("34562500.00"), D("900000.00"), "mismatch", "报告数值", "B6"),
        ("完成率≥100%指标数", D("4"), D("4"), D("0"), "match", "报告数值", "B8"),
        ("下属单位数", D("1"), None, None, "not_reconciled", "基本情况", "B9"),
    ],
)

FINDINGS = frame(
    "severity rule message file sheet cell value",
    [
        ("warning", "reported_rate_differs", "预算经费使用率：报告的完成率 106.26% 与按实际完成值计算的 106.14% 不一致",
         FILE, "绩效指标", "F7", "106.26%"),
        ("warning", "score_item_unnamed", "采购管理下一项 1.5 分的三级指标没有名称", FILE, "自评得分", "E14", None),
        ("error", "unit_mismatch", "指标值单位（人）与实际完成值单位（人次）不一致", FILE, "绩效指标", "D12", "965 人次"),
    ],
)

BUILDERS = {
    "table_1_1": lambda: report.build_table_1_1(TASK_OUTCOMES, SUMMARY, SOURCE),
    "table_1_2": lambda: report.build_table_1_2(INDICATORS, SUMMARY, SOURCE),
    "table_2_1": lambda: report.build_table_2_1(SCORES, SUMMARY, SOURCE),
    "table_2_2": lambda: report.build_table_2_2(INDICATORS, SOURCE),
    "table_2_3": lambda: report.build_table_2_3(PROJECTS, TASKS, SUMMARY, SOURCE),
    "summary": lambda: report.build_summary(SUMMARY, RECONCILIATION, FINDINGS, SOURCE),
    "findings": lambda: report.build_findings(RECONCILIATION, FINDINGS, SOURCE, dept_code=DEPT, year=YEAR),
}


def html_of(name: str) -> str:
    return BUILDERS[name]().as_raw_html()


def row_of(html: str, text: str) -> str:
    """The <tr>…</tr> holding `text` (its first occurrence)."""
    at = html.index(text)
    return html[html.rindex("<tr", 0, at) : html.index("</tr>", at)]


# --- display ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "value", "shown"),
    [
        (fmt_percent, D("0.97650"), "97.65%"),
        (fmt_percent, D("0.976250"), "97.63%"),  # half-even would print 97.62%
        (fmt_percent, D("0.12345"), "12.35%"),  # half-even would print 12.34%
        (fmt_percent, 0.02675, "2.68%"),  # the float is 0.026749999…; its repr is not
        (fmt_percent, D("1.4317708333"), "143.18%"),
        (fmt_percent, D("1"), "100.00%"),
        (fmt_percent, D("-0.0000021"), "0.00%"),  # never "-0.00%"
        (fmt_percent, None, "—"),
        (fmt_wan, D("47966000.00"), "4,796.60"),
        (fmt_wan, D("1234450.00"), "123.45"),  # 123.445 万元; half-even would print 123.44
        (fmt_wan, 26750.0, "2.68"),
        (fmt_wan, 0, "0.00"),
        (fmt_wan, None, "—"),
        (fmt_score, D("11.7647058824"), "11.76"),
        (fmt_score, D("9.7650"), "9.77"),
        (fmt_score, 2.675, "2.68"),  # round(2.675, 2) == 2.67
        (fmt_score, 20, "20.00"),
        (fmt_score, None, "—"),
        (fmt_number, D("50.00"), "50"),
        (fmt_number, D("0.50"), "0.5"),
        (fmt_number, 18, "18"),
    ],
)
def test_display_rounds_half_up(fmt, value, shown):
    assert fmt(value) == shown


def test_round_half_up_keeps_decimal_places():
    assert round_half_up(2.675, 2) == D("2.68")
    assert round_half_up(D("0.976250"), 4) == D("0.9763")
    assert round_half_up(float("nan"), 2) is None
    with pytest.raises(TypeError):
        round_half_up("1.5", 2)  # type: ignore[arg-type]


# --- tables -----------------------------------------------------------------


@pytest.mark.parametrize("name", BUILDERS)
def test_matches_golden(name, golden):
    golden(f"{name}.html", html_of(name))


@pytest.mark.parametrize("name", BUILDERS)
def test_build_is_deterministic(name):
    assert html_of(name) == html_of(name)


@pytest.mark.parametrize(
    ("name", "texts"),
    [
        ("table_1_1", ["表1-1 区残联2022年重点工作任务完成情况", "年度重点工作任务", "完成情况",
                       "任务1：开展残疾人康复资助、上门评残工作", ">任务2：开展精神康复综合服务中心运营项目<",
                       "任务3：开展康园工疗机构项目", "资助残疾人康复2749人", SOURCE]),
        ("table_1_2", ["表1-2 部门整体支出绩效指标表", "一级指标", "二级指标", "三级指标", "指标值",
                       "残疾人康复资助例数", "1920 例", "使用率 92%", "满意度达 98%", SOURCE]),
        ("table_2_1", ["表2-1 部门整体支出绩效自评得分表", "总分", "91.53", "11.76*", "9.77*",
                       "（未命名）", "* 由系统按规则计算", "评分规则：gz-2022", SOURCE]),
        ("table_2_2", ["表2-2 2022年度部门工作任务绩效目标完成情况表", "产出指标／数量指标", "1920 例",
                       "143.18%", "64.44%", "定性：达成", "不适用", "标红：完成率低于90%", SOURCE]),
        ("table_2_3", ["表2-3 2022年度各重点任务项目支出完成情况（单位：万元）", "重点任务", TASK_1,
                       "444.62", "22.37%", "84.34%", "小计", "合计", "990.78", "935.30", "94.40%", SOURCE]),
        ("summary", ["广州市番禺区残疾人联合会2022年度部门整体支出绩效自评概览", "4,796.60", "4,683.89",
                     "97.65%", "91.53", "优", "共5项，不一致2项，未核对1项", "错误1项，警告2项", SOURCE]),
        ("findings", ["报告数值核对与数据校验结果", "项目支出总额（万元）", "3,546.25", "3,456.25", "90.00",
                      "不一致", "未核对", "错误", "警告", "番禺区残联_2022.xlsx / 绩效指标!D12", SOURCE]),
    ],
)
def test_shows_report_text(name, texts):
    html = html_of(name)
    missing = [t for t in texts if t not in html]
    assert not missing


def test_table_2_1_reads_merged():
    html = html_of("table_2_1")
    # Each 一级/二级 name is written once, on the first row of its group.
    assert html.count(">履职效能<") == 1 and html.count(">管理效率<") == 1
    assert html.count(">采购管理<") == 1
    assert ">100<" in row_of(html, "总分") and ">91.53<" in row_of(html, "总分")
    assert "border-top: 1px hidden" in row_of(html, "部门整体绩效目标效益指标完成情况")


@pytest.mark.parametrize(
    ("name", "flagged", "plain"),
    [
        ("table_2_2", ["64.44%"], ["93.52%", "143.18%", "定性：达成"]),
        ("table_2_3", ["22.37%", "84.34%", "72.43%"], ["99.93%", "94.40%"]),
        ("summary", ["共5项，不一致2项", "错误1项"], ["97.65%", "94.40%"]),
        ("findings", ["3,546.25", "91.54"], ["97.65%", "下属单位数"]),
    ],
)
def test_marks_rows_needing_attention(name, flagged, plain):
    html = html_of(name)
    assert all("background-color: #fdecea" in row_of(html, t) for t in flagged)
    assert not any("background-color" in row_of(html, t) for t in plain)


def test_findings_put_attention_first():
    html = html_of("findings")
    # mismatch, then not reconciled, then match; errors before warnings
    assert html.index("总得分") < html.index("下属单位数") < html.index("完成年度预算比例")
    assert html.index("unit_mismatch") < html.index("reported_rate_differs")


def test_findings_without_any():
    gt = report.build_findings(RECONCILIATION.clear(), FINDINGS.clear(), SOURCE, dept_code=DEPT, year=YEAR)
    html = gt.as_raw_html()
    assert "未提供报告数值" in html and "未发现问题" in html


def test_cell_text_is_escaped():
    script = "<script>alert(1)</script>"
    indicators = INDICATORS.with_columns(
        indicator=pl.when(pl.col("indicator_no") == 1).then(pl.lit(script)).otherwise("indicator")
    )
    findings = FINDINGS.with_columns(value=pl.lit(script))
    for gt in (
        report.build_table_2_2(indicators, SOURCE),
        report.build_findings(RECONCILIATION, findings, SOURCE, dept_code=DEPT, year=YEAR),
    ):
        html = gt.as_raw_html()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>" not in html


def test_one_department_per_table():
    two = pl.concat([INDICATORS, INDICATORS.with_columns(dept_code=pl.lit("PY-OTHER"))])
    with pytest.raises(ValueError, match="one department and year"):
        report.build_table_2_2(two, SOURCE)


# --- writing ----------------------------------------------------------------


FRAMES = {
    "indicators": INDICATORS, "projects": PROJECTS, "tasks": TASKS, "scores": SCORES, "summary": SUMMARY,
    "reconciliation": RECONCILIATION, "findings": FINDINGS, "task_outcomes": TASK_OUTCOMES, "profile": PROFILE,
}


def write(out_dir, **changes):
    return report.write_department_report(out_dir, source=SOURCE, **(FRAMES | changes))


def test_writes_department_pages(tmp_path):
    paths = write(tmp_path / "a")
    assert [p.name for p in paths] == [
        "table_1_1.html", "table_1_2.html", "table_2_1.html", "table_2_2.html", "table_2_3.html",
        "summary.html", "index.html",
    ]
    pages = {p.name: p.read_bytes().decode("utf-8") for p in paths}
    assert all('<meta charset="utf-8">' in page for page in pages.values())
    ids = [f'id="{t}-{DEPT}-{YEAR}"' for t in ("t1-1", "t1-2", "t2-1", "t2-2", "t2-3", "summary", "findings")]
    index = pages["index.html"]
    assert [index.index(i) for i in ids] == sorted(index.index(i) for i in ids)
    assert ids[5] in pages["summary.html"] and ids[6] in pages["summary.html"]

    again = write(tmp_path / "b")
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]


def test_the_page_holds_every_sentence_before_its_table(tmp_path):
    built = report.department_report(source=SOURCE, **FRAMES)
    index = (tmp_path / "index.html")
    write(tmp_path)
    page = index.read_text(encoding="utf-8")
    assert list(built.sentences) == [
        "tasks", "budget", "indicator_set", "score", "indicator_result", "low_indicators", "projects", "low_projects",
    ]
    for sentence in built.sentences.values():
        assert f'<p class="lead">{sentence}</p>' in page  # this fixture's sentences hold nothing to escape
    assert page.index(built.sentences["indicator_result"]) < page.index('id="t2-2-') < page.index(
        built.sentences["projects"]) < page.index('id="t2-3-')
    # The page is self-contained: no script, stylesheet or image from elsewhere.
    assert not [m for m in ("src=", "<link", "@import", "http://", "https://") if m in page]


def test_without_tasks_there_is_no_table_1_1(tmp_path):
    built = report.department_report(source=SOURCE, **(FRAMES | {"task_outcomes": TASK_OUTCOMES.clear()}))
    assert [t.key for t in built.tables] == ["table_1_2", "table_2_1", "table_2_2", "table_2_3"]
    assert "tasks" not in built.sentences
    names = [p.name for p in write(tmp_path, task_outcomes=TASK_OUTCOMES.clear())]
    assert "table_1_1.html" not in names and "index.html" in names


def test_sentences_quoting_workbook_text_are_escaped(tmp_path):
    script = "<script>alert(1)</script>"
    projects = PROJECTS.with_columns(project=pl.lit(script))
    tasks = TASK_OUTCOMES.with_columns(task=pl.lit(script))
    page = (write(tmp_path, projects=projects, task_outcomes=tasks)[-1]).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page


def test_a_long_table_shows_its_first_rows_and_says_where_the_rest_is():
    many = report.SHOWN_ROWS * 2
    indicators = pl.concat([INDICATORS] * (many // INDICATORS.height)).with_columns(
        indicator_no=pl.int_range(1, many + 1), indicator=pl.format("指标{}", pl.int_range(1, many + 1)))
    html = report.build_table_2_2(indicators, SOURCE).as_raw_html()
    shown = report.SHOWN_ROWS
    assert f">指标{shown}<" in html and f">指标{shown + 1}<" not in html
    assert f"共{many:,}行，本页仅列出前{shown}行" in html
    assert len(re.findall(r">指标\d+<", html)) == shown  # the rest is not drawn at all, hidden or not


def test_long_findings_show_their_first_items_and_count_the_rest():
    many = report.SHOWN_ROWS + 7
    findings = pl.concat([FINDINGS.head(1)] * many).with_columns(cell=pl.format("F{}", pl.int_range(1, many + 1)))
    html = report.build_findings(RECONCILIATION, findings, SOURCE, dept_code=DEPT, year=YEAR).as_raw_html()
    assert f"绩效指标!F{report.SHOWN_ROWS}<" in html and f"绩效指标!F{report.SHOWN_ROWS + 1}<" not in html
    assert f"数据校验共{many}项，本页仅列出前{report.SHOWN_ROWS}项" in html
    assert "报告数值核对共" not in html  # the reconciliation was short: nothing cut, nothing said
