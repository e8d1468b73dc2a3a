"""Checking a run's frames: pandera schemas per sheet, then cross-sheet rules.

Every failure becomes a Finding that names the file, sheet and cell, in
words a department's clerk understands, with the rule's English id beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

import pandera.errors
import polars as pl

from jixiao.domain import Department, Finding, cell_ref
from schemas.departments import DepartmentSchema
from schemas.indicators import IndicatorSchema
from schemas.projects import ProjectSchema
from schemas.scores import ScoreSchema
from schemas.tasks import TaskSchema

SCHEMAS = {
    "departments": DepartmentSchema,
    "tasks": TaskSchema,
    "indicators": IndicatorSchema,
    "projects": ProjectSchema,
    "scores": ScoreSchema,
}

# frame column -> (sheet column key, what the clerk calls it)
LABELS = {
    "dept_code": (None, "部门编码"), "dept_name": (None, "部门名称"), "year": (None, "年度"),
    "budget_yuan": ("budget", "预算金额"), "spent_yuan": ("spent", "支出金额"),
    "revenue_yuan": (None, "财政拨款收入"), "spend_target_rate": (None, "预算经费使用率目标"),
    "subunits": (None, "下属单位数"),
    "level1": ("level1", "一级指标"), "level2": ("level2", "二级指标"), "indicator": ("indicator", "三级指标"),
    "target_text": ("target", "指标值"), "actual_text": ("actual", "实际完成值"),
    "reported_rate": ("reported_rate", "完成率"), "weight": ("weight", "分值"),
    "reported_score": ("reported_score", "得分"), "task": ("task", "重点任务"), "project": ("project", "项目"),
    "level1_weight": ("level1_weight", "一级指标分值"), "level2_weight": ("level2_weight", "二级指标分值"),
    "item": ("item", "三级指标"), "outcome": ("outcome", "完成情况"),
}
BASIC_SHEET_LABEL = {"departments": "基本情况"}
# departments frame column -> its 基本情况 key (jixiao.ingest.sheets.BASIC_KEYS), for the cell of a finding
_BASIC_KEY = {"budget_yuan": "budget", "revenue_yuan": "revenue", "spent_yuan": "spent"}
# the column naming a row, quoted by a duplicate's finding
_NAME_COLUMN = {"indicators": "indicator", "projects": "project", "tasks": "task", "departments": "dept_code"}
_ROW_LABEL = {"departments": "部门", "tasks": "重点工作任务", "indicators": "指标", "projects": "项目", "scores": "评分项"}


def explain(table: str, column: str | None, check: str, value: str, labels: dict = LABELS,
            row_labels: dict = _ROW_LABEL) -> tuple[str, str]:
    """(rule id, Chinese message) for a pandera failure; `labels` say what a form calls each column
    (column -> (sheet column key, name)), `row_labels` what a table's row is."""
    what = labels.get(column, (None, column))[1] if column else row_labels.get(table, table)
    name = check.split("(")[0]
    arg = check[len(name) + 1:-1] if "(" in check else ""
    if name == "greater_than_or_equal_to":
        return f"{table}.{column}.min", f"{what}不能小于 {arg}" if arg != "0" else f"{what}不能为负数"
    if name == "greater_than":
        return f"{table}.{column}.min", f"{what}必须大于 {arg}"
    if name in ("less_than_or_equal_to", "less_than"):
        return f"{table}.{column}.max", f"{what}不能大于 {arg}"
    if name == "str_length":
        return (f"{table}.{column}.required", f"{what}不能为空") if value == "" else (
            f"{table}.{column}.too_long", f"{what}过长")
    if name == "not_nullable":
        return f"{table}.{column}.required", f"{what}不能为空"
    if name == "str_matches":
        return f"{table}.{column}.format", f"{what}格式不正确"
    if name == "isin":
        return f"{table}.{column}.allowed", f"{what}的取值不在允许范围内"
    if name == "multiple_fields_uniqueness":
        return f"{table}.duplicate", f"同一部门中出现重复的{what}（同名同层级的行只能填一次）"
    if name == "score_within_weight":
        return f"{table}.score_above_weight", "自评分超过该项分值" if table == "scores" else "得分超过该指标的分值"
    return f"{table}.{column or 'row'}.{name}", f"{what}未通过检查 {check}"


def schema_findings(
    frames: dict[str, pl.DataFrame],
    columns: dict[tuple[str, str], dict[str, int]],
    departments: Iterable[Department] = (),
) -> list[Finding]:
    """Run each sheet's pandera schema over all departments at once.

    `departments` lets a finding on a 基本情况 value name its cell (the frame has one row per
    department, not the sheet's rows)."""
    basic = {d.file: d for d in departments}
    unique = {table: list(schema.to_schema().unique or []) for table, schema in SCHEMAS.items()}
    return [_finding(table, frame, row, column, value, case, columns, basic, unique[table])
            for table, frame, row, column, value, case in schema_failures(frames, SCHEMAS)]


def schema_failures(frames: dict[str, pl.DataFrame], schemas: dict) -> Iterator[tuple]:
    """Each pandera failure of each table's schema, over the table's frame at once:
    (table, frame, the failing row as a dict ({} for a table-wide failure), column (None for a row-wide
    check), the value found, pandera's failure case)."""
    for table, schema in schemas.items():
        frame = frames[table]
        if frame.height == 0:
            continue
        try:
            schema.validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            for case in exc.failure_cases.to_dicts():
                index = case.get("index")
                row = frame.row(index, named=True) if index is not None else {}
                column = case["column"] if case["schema_context"] == "Column" else None
                yield table, frame, row, column, case["failure_case"] if column else None, case


def _finding(table: str, frame: pl.DataFrame, row: dict, column: str | None, value, case: dict, columns,
             basic: dict[str, Department], unique: list[str]) -> Finding:
    rule, message = explain(table, column, case["check"], value or "")
    sheet = row.get("src_sheet") or BASIC_SHEET_LABEL.get(table)
    cell = None
    key = LABELS.get(column, (None, None))[0] if column else None
    dept = basic.get(row.get("src_file"))
    if table == "departments" and dept is not None:
        sheet = dept.basic_sheet or sheet
        cell = dept.basic_cells.get(_BASIC_KEY.get(column, column)) if column else None
    elif key and row.get("src_row") and (row.get("src_file"), sheet) in columns:
        position = columns[(row["src_file"], sheet)].get(key)
        cell = cell_ref(row["src_row"], position) if position is not None else None
    elif case["check"] == "multiple_fields_uniqueness" and row:
        message, cell, value = _duplicate(table, frame, row, unique, columns, message)
    elif case["check"] == "score_within_weight" and row.get("reported_score_cell"):
        cell, value = row["reported_score_cell"], _n(row["reported_score"])
        message += f"（分值 {_n(row['weight'])}）"
    elif row.get("src_row"):
        cell = f"第{row['src_row']}行"
    return Finding("error", rule, message, row.get("src_file", ""), sheet, cell, value, row.get("dept_code"))


def _duplicate(table: str, frame: pl.DataFrame, row: dict, unique: list[str], columns, message: str):
    """A duplicated row's finding names its own cell and the other rows it repeats."""
    same = frame.filter(pl.all_horizontal([
        pl.col(c).is_null() if row[c] is None else pl.col(c) == row[c] for c in unique
    ]) & (pl.col("src_file") == row["src_file"]))
    others = sorted(r for r in same["src_row"].to_list() if r != row["src_row"]) if "src_row" in frame.columns else []
    name_col = _NAME_COLUMN.get(table)
    name = row.get(name_col) if name_col else None
    position = columns.get((row.get("src_file"), row.get("src_sheet")), {}).get(LABELS.get(name_col, (None,))[0])
    cell = cell_ref(row["src_row"], position) if position is not None and row.get("src_row") else None
    if others:
        message += f"；与第 {'、'.join(map(str, others))} 行重复"
    return message, cell, name


def score_weight_findings(scores: pl.DataFrame, columns: dict[tuple[str, str], dict[str, int]] | None = None
                          ) -> list[Finding]:
    """Score weights add up level by level: items to their 二级指标, 二级 to 一级, 一级 to 100.

    With the sheets' `columns`, a finding names the weight cell that states the total (the 二级
    or 一级 分值 of the group's first row); without them, the row."""
    findings: list[Finding] = []
    columns = columns or {}
    if scores.height == 0:
        return findings
    keys = ["src_file", "dept_code", "src_sheet"]
    level2 = scores.group_by([*keys, "level1", "level2"], maintain_order=True).agg(
        pl.col("level2_weight").first(), pl.col("weight").sum().alias("items"), pl.col("src_row").first())
    for r in level2.iter_rows(named=True):
        if r["items"] != r["level2_weight"]:
            findings.append(_weight_finding(r, f"二级指标“{r['level2']}”分值为 {_n(r['level2_weight'])}，"
                                               f"其下三级指标分值合计为 {_n(r['items'])}",
                                            columns, "level2_weight", r["level2_weight"]))
    level1 = level2.group_by([*keys, "level1"], maintain_order=True).agg(
        pl.col("level2_weight").sum().alias("items"), pl.col("src_row").first())
    level1 = level1.join(
        scores.group_by([*keys, "level1"]).agg(pl.col("level1_weight").first()), on=[*keys, "level1"])
    for r in level1.iter_rows(named=True):
        if r["items"] != r["level1_weight"]:
            findings.append(_weight_finding(r, f"一级指标“{r['level1']}”分值为 {_n(r['level1_weight'])}，"
                                               f"其下二级指标分值合计为 {_n(r['items'])}",
                                            columns, "level1_weight", r["level1_weight"]))
    total = level1.group_by(keys, maintain_order=True).agg(pl.col("level1_weight").sum(), pl.col("src_row").min())
    for r in total.iter_rows(named=True):
        if r["level1_weight"] != 100:
            findings.append(_weight_finding(r, f"一级指标分值合计为 {_n(r['level1_weight'])}，应为 100",
                                            columns, "level1_weight", r["level1_weight"]))
    return findings


def _n(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _weight_finding(r: dict, message: str, columns, key: str, value: Decimal) -> Finding:
    position = columns.get((r["src_file"], r["src_sheet"]), {}).get(key)
    cell = cell_ref(r["src_row"], position) if position is not None else f"第{r['src_row']}行起"
    return Finding("error", "scores.weights_sum", message, r["src_file"], r["src_sheet"], cell, _n(value), r["dept_code"])


