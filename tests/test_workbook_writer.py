from dataclasses import replace

import pytest
from python_calamine import CalamineWorkbook

from jixiao_synth.seed import SEED_BOOK
from jixiao_synth.workbook import SHEETS, Indicator, Layout, write_workbook


def _open(path):
    wb = CalamineWorkbook.from_path(path)
    return wb, {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names}


@pytest.fixture
def seed(tmp_path):
    return _open(write_workbook(SEED_BOOK, tmp_path / "seed.xlsx"))


def _vertical_merges(wb, sheet):
    return [r for r in wb.get_sheet_by_name(sheet).merged_cell_ranges if r[1][0] > r[0][0]]


def test_sheet_names(seed):
    wb, _ = seed
    assert wb.sheet_names == list(SHEETS)


def test_seed_projects_exact(seed):
    _, rows = seed
    sheet = rows["项目支出"]
    assert sheet[1] == ["重点任务", "项目", "预算金额", "支出金额", "预算完成率"]
    data = sheet[2:25]
    assert [(r[1], r[2], r[3], r[4]) for r in data] == [
        (p.name, p.budget, p.spent, p.reported_rate) for p in SEED_BOOK.projects
    ]
    assert data[0][:5] == ["任务1：开展残疾人康复资助、上门评残工作", "残疾人康复资助财政补贴项目（区级）", 444.62, 444.3, 0.9993]
    assert data[15][1].startswith(": 举办广州市番禺区第八届")
    assert sheet[25] == ["合计", "", 3549.27, 3456.25, 0.9738]
    assert sheet[26][0].startswith("部分重点任务预算完成率不达标原因：")


def test_seed_indicators_exact(seed):
    _, rows = seed
    data = rows["绩效指标"][2:]
    assert len(data) == 18 and len(data[0]) == 6  # no 分值/得分 columns: the report states none
    assert [tuple(r[2:6]) for r in data] == [
        (i.name, i.target, i.actual, i.reported_rate) for i in SEED_BOOK.indicators
    ]
    assert data[7][3:5] == ["接受康复服务550名", "实际到站接受康复服务共计555名"]
    assert data[17][:2] == ["满意度指标", "服务对象满意度指标"]
    assert dict(r[:2] for r in rows["报告数值"][2:])["项目支出总额（万元）"] == 3546.25


def test_hierarchy_merged(seed):
    wb, _ = seed
    assert ((2, 0), (18, 0)) in _vertical_merges(wb, "绩效指标")  # 产出指标 spans 17 rows
    assert ((2, 0), (6, 0)) in _vertical_merges(wb, "项目支出")  # 任务1's five projects
    score = _vertical_merges(wb, "自评得分")
    assert ((5, 0), (27, 0)) in score and ((5, 1), (27, 1)) in score  # 管理效率 and its 50
    assert ((13, 2), (19, 2)) in score  # 采购管理, nameless item included


def test_hierarchy_repeated(tmp_path):
    wb, rows = _open(write_workbook(SEED_BOOK, tmp_path / "flat.xlsx", Layout(merge_hierarchy=False)))
    assert not any(_vertical_merges(wb, s) for s in SHEETS)
    assert all(r[0] == "产出指标" for r in rows["绩效指标"][2:19])
    assert all(r[0] == "管理效率" and r[1] == 50 for r in rows["自评得分"][5:28])


def test_amounts_in_yuan(tmp_path):
    _, rows = _open(write_workbook(SEED_BOOK, tmp_path / "yuan.xlsx", Layout(amount_unit="元")))
    sheet = rows["项目支出"]
    assert "（单位：元）" in sheet[0][0]
    assert sheet[2][2:4] == [4446200, 4443000]
    assert sheet[25][2:4] == [35492700, 34562500]
    assert dict(r[:2] for r in rows["基本情况"][2:])["全年预算数（元）"] == 47966000
    assert dict(r[:2] for r in rows["报告数值"][2:])["项目支出总额（元）"] == 35462500


def test_percent_cells_and_text(tmp_path):
    _, rows = _open(write_workbook(SEED_BOOK, tmp_path / "pct.xlsx"))
    assert all(isinstance(r[4], float) for r in rows["项目支出"][2:26])
    _, rows = _open(write_workbook(SEED_BOOK, tmp_path / "txt.xlsx", Layout(percent_cells=False, title_rows=False)))
    assert rows["项目支出"][0][0] == "重点任务"
    assert rows["项目支出"][1][4] == "99.93%"


def test_text_numbers_blanks_and_scores(tmp_path):
    book = replace(
        SEED_BOOK,
        indicators=(Indicator("产出指标", "数量指标", "甲", "10人", "9人", None, 5.0, None),),
        reported={"项目支出总额（万元）": "3,546.25"},
    )
    _, rows = _open(write_workbook(book, tmp_path / "b.xlsx"))
    assert rows["绩效指标"][1][-2:] == ["分值", "得分"]
    assert rows["绩效指标"][2] == ["产出指标", "数量指标", "甲", "10人", "9人", "", 5.0, ""]
    assert rows["报告数值"][2] == ["项目支出总额（万元）", "3,546.25"]
    _, rows = _open(write_workbook(book, tmp_path / "y.xlsx", Layout(amount_unit="元")))
    assert rows["报告数值"][2] == ["项目支出总额（元）", "35,462,500.00"]
