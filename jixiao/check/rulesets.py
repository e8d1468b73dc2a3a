"""Score rule sets: which score items are computed, and how (see rulesets.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

RULESETS_FILE = Path(__file__).with_name("rulesets.toml")
METHODS = frozenset({"share_at_100", "proportional", "budget_rate"})


@dataclass(frozen=True)
class RuleSets:
    default: str
    descriptions: dict[str, str]
    rules: pl.DataFrame  # ruleset, rule_no, item_match, method, level1s, source_indicator

    def __contains__(self, name: str) -> bool:
        return name in self.descriptions


def load_rulesets(path: Path = RULESETS_FILE) -> RuleSets:
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    rows = []
    for name, ruleset in config["rulesets"].items():
        for no, rule in enumerate(ruleset.get("rules", []), start=1):
            if rule["method"] not in METHODS:
                raise ValueError(f"{path}: rule set {name!r} rule {no} has unknown method {rule['method']!r}")
            rows.append({
                "ruleset": name, "rule_no": no, "item_match": rule["match"], "method": rule["method"],
                "level1s": rule.get("level1s", []), "source_indicator": rule.get("source_indicator"),
            })
    if config["default"] not in config["rulesets"]:
        raise ValueError(f"{path}: default rule set {config['default']!r} is not defined")
    schema = {"ruleset": pl.String, "rule_no": pl.Int32, "item_match": pl.String, "method": pl.String,
              "level1s": pl.List(pl.String), "source_indicator": pl.String}
    return RuleSets(
        config["default"],
        {name: rs.get("description", "") for name, rs in config["rulesets"].items()},
        pl.DataFrame(rows, schema=schema),
    )
