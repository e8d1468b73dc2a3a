"""The project form's labels and their synonyms, as ../shared/contract/project-form.md lists them.

The reader (read.py beside this) and the synthetic forms (jixiao_synth/project_forms.py)
both take their words from here. Labels are compared as compact text (NFKC, no spaces)
with a bracketed suffix and a trailing colon removed: 全年预算数（A）, 项目资金（万元） and
评价结论： are 全年预算数, 项目资金 and 评价结论.
"""

from __future__ import annotations

from decimal import Decimal

TITLE = "项目支出绩效自评表"

# Header block: key -> (label as printed, synonyms).
HEADER = {
    "project": ("项目名称", ()),
    "dept_name": ("主管部门", ("主管单位",)),
    "unit_name": ("实施单位", ("项目实施单位", "单位名称")),
    "project_code": ("项目编码", ("项目代码",)),
    "unit_code": ("单位编码", ("单位代码",)),
}

# Funds block. Its corner label carries the money unit: 项目资金（万元） or （元）.
FUNDS_LABEL = ("项目资金", ("项目资金情况", "资金情况"))
FUNDS_COLUMNS = {
    "initial": ("年初预算数", ()),
    "budget": ("全年预算数", ("预算数",)),  # printed 全年预算数（A）
    "spent": ("全年执行数", ("执行数",)),  # printed 全年执行数（B）
    "weight": ("分值", ()),
    "rate": ("执行率", ()),  # printed 执行率（B/A）
    "score": ("得分", ()),
}
# Funds rows: canonical source -> (label as printed, synonyms); a sub-row may start with 其中：.
FUNDS_ROWS = {
    "年度资金总额": ("年度资金总额", ("资金总额",)),
    "当年财政拨款": ("其中：当年财政拨款", ("当年财政拨款", "本年财政拨款", "财政拨款")),
    "上年结转资金": ("上年结转资金", ("上年结转",)),
    "其他资金": ("其他资金", ()),
}
FUNDS_TOTAL = "年度资金总额"
SUB_ROW_PREFIX = "其中"

# Goals block.
GOALS_LABEL = ("年度总体目标", ("总体目标",))
GOALS = {
    "goal_target": ("预期目标", ("年度目标",)),
    "goal_actual": ("实际完成情况", ("全年实际完成情况", "完成情况")),
}

# Indicator block: key -> (header as printed, synonyms, required).
INDICATORS_LABEL = ("绩效指标", ())
INDICATOR_COLUMNS = {
    "level1": ("一级指标", (), True),
    "level2": ("二级指标", (), True),
    "indicator": ("三级指标", (), True),
    "nature": ("指标性质", (), False),
    "target": ("年度指标值", ("指标值", "目标值"), True),
    "measure_unit": ("度量单位", ("计量单位",), False),
    "actual": ("实际完成值", ("实际值", "完成值"), True),
    "weight": ("分值", (), True),
    "score": ("得分", (), True),
    "deviation": ("偏差原因分析及改进措施", ("偏差原因分析", "偏差原因及改进措施", "未完成原因分析及改进措施"), False),
}
# 指标性质 as printed where a province gives the comparator its own column.
NATURE_COMPARATORS = {"≥": ">=", "≤": "<=", "＝": "=", "﹦": "=", "=": "=", ">": ">", "<": "<",
                      "大于等于": ">=", "小于等于": "<=", "等于": "=", ">=": ">=", "<=": "<="}
QUALITATIVE_NATURES = frozenset({"定性"})

TOTAL = ("总分", ("合计", "总计"))

# Closing block: key -> (label as printed, synonyms).
CLOSING = {
    "conclusion": ("评价结论", ("自评结论", "总体评价结论")),
    "problems": ("存在问题", ("存在的问题", "主要问题")),
    "improvements": ("改进措施", ("改进意见", "整改措施")),
}
NOTE_PREFIXES = ("注", "备注", "说明")

# The footnote's default 一级 weights (and the order in which it names them), when a form prints
# only （50分） and no footnote names the levels.
DEFAULT_LEVEL1 = (("产出指标", Decimal(50)), ("效益指标", Decimal(30)), ("满意度指标", Decimal(10)))
DEFAULT_BUDGET_WEIGHT = Decimal(10)
TOTAL_WEIGHT = Decimal(100)
# Words the footnote names a 一级 by, to the 一级 name.
LEVEL1_WORDS = {"产出": "产出指标", "效益": "效益指标", "满意度": "满意度指标"}

# Template filler: a 三级 cell of only 指标N：, or ……, with nothing else on its row.
FILLER_MARKS = frozenset({"……", "…", "...", "......", "。。。"})


def names(label: str, synonyms: tuple[str, ...]) -> tuple[str, ...]:
    return (label, *synonyms)
