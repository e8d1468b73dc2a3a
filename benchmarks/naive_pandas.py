"""The reference jixiao is measured against: what a data engineer would otherwise write.

A pandas + openpyxl loop over one year's workbooks doing the same job without
validation: read every sheet, find the header under the title, forward-fill the
merged hierarchy, compute completion rates, spending rates, totals, the
execution rate and the score (the rule sets of jixiao/check/rulesets.toml), write
plain HTML tables per department with DataFrame.to_html, and load everything
into a DuckDB file at the end. It is written to be reasonable, not slow on
purpose: one openpyxl load per workbook, vectorised pandas where it is natural,
one bulk insert per table. It checks nothing: a text amount becomes NaN, a
negative one is summed, weights that do not add up are not noticed.

    python benchmarks/naive_pandas.py --raw DIR --year 2022 --out DIR --warehouse FILE
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from pathlib import Path

import duckdb
import pandas as pd

SHEETS = {  # the contract's sheet names and the aliases departments use
    "basic": ("基本情况", "部门基本情况", "基本信息"),
    "tasks": ("重点工作任务", "表1-1", "重点工作任务完成情况"),
    "indicators": ("绩效指标", "表2-2", "绩效目标完成情况"),
    "projects": ("项目支出", "表2-3", "重点任务项目支出"),
    "scores": ("自评得分", "表2-1", "自评得分表"),
}
HEADERS = {  # column -> header texts seen in the wild
    "basic": {"label": ("项目", "名称", "指标"), "value": ("值", "数值", "内容")},
    "tasks": {"no": ("序号",), "task": ("年度重点工作任务", "重点工作任务", "工作任务"), "outcome": ("完成情况",)},
    "indicators": {"level1": ("一级指标",), "level2": ("二级指标",), "indicator": ("三级指标", "指标名称"),
                   "target": ("指标值", "年度指标值", "目标值"), "actual": ("实际完成值", "实际值", "完成值"),
                   "weight": ("分值", "权重")},
    "projects": {"task": ("重点任务", "重点工作任务"), "project": ("项目", "项目名称"),
                 "budget": ("预算金额", "预算数", "预算"), "spent": ("支出金额", "支出数", "执行数", "实际支出")},
    "scores": {"level1": ("一级指标",), "level2": ("二级指标",), "item": ("三级指标",), "weight": ("分值.2",),
               "score": ("自评分", "自评得分", "得分")},
}
NUMBER = re.compile(r"\d+(?:\.\d+)?")
LOWER = re.compile("≤|<=|不超过|不高于|(?<!不)低于|以内|日内|控制在")
MET = re.compile("达到|完成|实现|有效|达标|合格")
NOT_MET = re.compile("未|没有|不|基本|部分")


def clean(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def to_number(series: pd.Series) -> pd.Series:
    text = series.map(clean).str.replace(",", "", regex=False)
    percent = text.str.endswith("%")
    numbers = pd.to_numeric(text.str.rstrip("%"), errors="coerce")
    return numbers.where(~percent, numbers / 100)


def find_sheet(book: dict[str, pd.DataFrame], key: str) -> pd.DataFrame | None:
    names = {clean(n) for n in SHEETS[key]}
    return next((frame for name, frame in book.items() if clean(name) in names), None)


def table(raw: pd.DataFrame, key: str) -> tuple[pd.DataFrame, float]:
    """The sheet's table under its header row, columns renamed; and the amount unit (1 = 万元, 0.0001 = 元)."""
    wanted = HEADERS[key]
    first = next(iter(wanted.values()))
    header_row = next(i for i, row in enumerate(raw.itertuples(index=False))
                      if any(clean(c).split("(")[0] in first for c in row))
    title = " ".join(clean(c) for c in raw.iloc[: header_row + 1].to_numpy().ravel())
    scale = 0.0001 if ("(元)" in title or "单位:元" in title) else 1.0
    headers, counts = [], {}
    for cell in raw.iloc[header_row]:
        name = clean(cell).split("(")[0]
        counts[name] = counts.get(name, -1) + 1
        headers.append(f"{name}.{counts[name]}" if counts[name] else name)  # 分值, 分值.1, 分值.2
    frame = raw.iloc[header_row + 1:].copy()
    frame.columns = headers
    rename = {}
    for col, names in wanted.items():
        found = next((h for h in headers if h in names), None)
        if found is not None:
            rename[found] = col
    frame = frame[list(rename)].rename(columns=rename).dropna(how="all")
    # repeated header rows of a table split over pages
    return frame[frame.iloc[:, 0].map(clean).str.split("(").str[0] != next(iter(rename))], scale


def read_department(path: Path) -> dict[str, pd.DataFrame]:
    book = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
    out = {}
    basic, _ = table(find_sheet(book, "basic"), "basic")
    info = {clean(k): v for k, v in zip(basic["label"], basic["value"])}

    def get(prefix: str):
        return next((v for k, v in info.items() if k.startswith(prefix)), None)

    def unit(prefix: str) -> float:
        return 0.0001 if any(k.startswith(prefix) and "(元)" in k for k in info) else 1.0

    code = clean(get("部门编码"))
    budget = float(to_number(pd.Series([get("全年预算数")])).iloc[0]) * unit("全年预算数")
    spent = float(to_number(pd.Series([get("财政拨款支出")])).iloc[0]) * unit("财政拨款支出")
    year = int(to_number(pd.Series([clean(get("年度")).rstrip("年度")])).iloc[0])
    dept = {"dept_code": code, "dept_name": clean(get("部门名称")), "year": year,
            "budget_wan": budget, "spent_wan": spent, "execution_rate": spent / budget if budget else None,
            "ruleset": clean(get("评分规则")) or "panyu_share", "file": path.name}

    ind, _ = table(find_sheet(book, "indicators"), "indicators")
    ind[["level1", "level2"]] = ind[["level1", "level2"]].ffill()
    ind = ind[ind["indicator"].map(clean) != ""].copy()
    target, actual = ind["target"].map(clean), ind["actual"].map(clean)
    t = pd.to_numeric(target.str.extract(f"({NUMBER.pattern})")[0], errors="coerce")
    a = pd.to_numeric(actual.str.extract(f"({NUMBER.pattern})")[0], errors="coerce")
    lower = target.str.contains(LOWER)
    ind["not_applicable"] = target.isin(["/", "无", "不适用", "-"])
    ind["completion_rate"] = (t.where(lower, a) / a.where(lower, t)).where(~ind["not_applicable"])
    ind["met"] = actual.str.contains(MET) & ~actual.str.contains(NOT_MET)
    shown = ind["completion_rate"].round(4)
    ind["bucket"] = pd.cut(shown, [-float("inf"), 0.9, 1.0, float("inf")], right=False,
                           labels=["<90%", "90-100%", ">=100%"]).astype(str)
    ind.loc[ind["completion_rate"].isna(), "bucket"] = "qualitative"
    ind.loc[ind["not_applicable"], "bucket"] = "not_applicable"
    ind["is_met"] = (ind["bucket"] == ">=100%") | ((ind["bucket"] == "qualitative") & ind["met"])

    proj, scale = table(find_sheet(book, "projects"), "projects")
    proj["task"] = proj["task"].ffill()
    proj = proj[proj["project"].map(clean) != ""]
    proj = proj[~proj["task"].map(clean).isin(["合计", "总计"])].copy()
    proj = proj[~proj["task"].map(clean).str.startswith(("注", "部分", "备注", "说明"))]
    proj["budget_wan"] = to_number(proj["budget"]) * scale
    proj["spent_wan"] = to_number(proj["spent"]) * scale
    proj["spend_rate"] = proj["spent_wan"] / proj["budget_wan"]
    tasks = proj.groupby("task", sort=False, as_index=False)[["budget_wan", "spent_wan"]].sum()
    tasks["spend_rate"] = tasks["spent_wan"] / tasks["budget_wan"]

    sc, _ = table(find_sheet(book, "scores"), "scores")
    sc["weight"] = to_number(sc["weight"])
    sc[["level1", "level2"]] = sc[["level1", "level2"]].ffill()
    sc = sc[~sc["level1"].map(clean).isin(["总分", "合计"]) & sc["weight"].notna()].copy()
    sc["entered"] = to_number(sc["score"])
    sc["score"] = [score_item(r.item, r.weight, r.entered, ind, dept) for r in sc.itertuples()]

    dept.update({
        "indicators": len(ind) - int(ind["not_applicable"].sum()),
        **{f"bucket_{b}": int((ind["bucket"] == b).sum()) for b in (">=100%", "90-100%", "<90%", "qualitative")},
        "project_budget_wan": proj["budget_wan"].sum(), "project_spent_wan": proj["spent_wan"].sum(),
        "total_score": sc["score"].sum(),
    })
    score = dept["total_score"]
    dept["grade"] = "优" if score >= 90 else "良" if score >= 80 else "中" if score >= 60 else "差"
    for name, frame in (("indicators", ind), ("projects", proj), ("tasks", tasks), ("scores", sc)):
        out[name] = frame.assign(dept_code=code)
    out["departments"] = pd.DataFrame([dept])
    tasks_sheet = find_sheet(book, "tasks")
    if tasks_sheet is not None:
        out["key_tasks"] = table(tasks_sheet, "tasks")[0].assign(dept_code=code)
    return out


def score_item(item, weight, entered, ind: pd.DataFrame, dept: dict) -> float:
    item = clean(item)
    levels = {"产出指标完成情况": ["产出指标"], "效益指标完成情况": ["效益指标", "满意度指标"]}
    for match, level1s in levels.items():
        if match in item:
            rows = ind[ind["level1"].isin(level1s) & ~ind["not_applicable"]]
            if rows.empty:
                return entered
            if dept["ruleset"] == "proportional":
                w = to_number(rows["weight"]).fillna(1) if "weight" in rows else pd.Series(1.0, index=rows.index)
                r = rows["completion_rate"].clip(upper=1).fillna(rows["met"].astype(float))
                return weight * (w * r).sum() / w.sum()
            return weight * rows["is_met"].sum() / len(rows)
    if "预算资金支出率" in item:
        use = ind[ind["indicator"].map(clean) == "预算经费使用率"]
        rate = float(NUMBER.search(clean(use["actual"].iloc[0])).group()) / 100 if len(use) else dept["execution_rate"]
        return weight * min(rate, 1)
    return entered


def write_html(out_dir: Path, frames: dict[str, pd.DataFrame]) -> None:
    code = frames["departments"]["dept_code"].iloc[0]
    folder = out_dir / code
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        (folder / f"{name}.html").write_text(frame.to_html(index=False, na_rep=""), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, required=True)
    args = parser.parse_args(argv)
    clock = time.perf_counter()
    collected: dict[str, list[pd.DataFrame]] = {}
    failed = []
    paths = sorted((args.raw / str(args.year)).glob("*.xlsx"))
    for path in paths:
        try:
            frames = read_department(path)
        except Exception as exc:  # a naive loop logs the workbook it could not process and goes on
            failed.append(f"{path.name}: {type(exc).__name__}: {exc}")
            continue
        write_html(args.out / str(args.year), frames)
        for name, frame in frames.items():
            collected.setdefault(name, []).append(frame)
    args.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(args.warehouse)) as con:
        for name, frames in collected.items():
            frame = pd.concat(frames, ignore_index=True).astype({c: str for c in ("target", "actual", "budget", "spent",
                                                                                  "score", "no", "weight", "outcome")
                                                                if c in frames[0].columns})
            con.register("frame", frame)
            con.execute(f'create or replace table "{name}" as select * from frame')
            con.unregister("frame")
    print(json.dumps({"workbooks": len(paths), "processed": len(paths) - len(failed), "failed": len(failed),
                      "seconds": round(time.perf_counter() - clock, 3), "failures": failed}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
