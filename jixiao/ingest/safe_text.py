"""Text that can be stored, drawn and written into Word and Excel, whatever a workbook or a folder held.

Control characters (other than tab and line breaks) are not allowed in XML,
so a single one in a cell made the Word drawing fail for the whole year. A file
name that is not UTF-8 (a GBK name unzipped from a Windows archive) cannot be
stored in DuckDB or written into a page. Both are made readable here, once,
where the input is read; the reader says so in a finding.
"""

from __future__ import annotations

import os
import re

# What XML 1.0 forbids, plus DEL: \t \n \r are allowed, and normalize_text turns them into spaces.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def without_controls(text: str) -> str:
    return CONTROL.sub("", text)


def shown_controls(text: str) -> str:
    """The control characters of `text` as a clerk can see them in a message: \\x01."""
    return "、".join(sorted({f"\\x{ord(c):02x}" for c in CONTROL.findall(text)}))


def shown_name(name: str) -> str:
    """A file name as text: one not written in UTF-8 read as GB18030 (Windows' Chinese encoding) if it
    is that, else with its odd bytes written as \\xNN; control characters written as \\xNN."""
    if _undecodable(name):
        raw = os.fsencode(name)
        try:
            name = raw.decode("gb18030")
        except UnicodeDecodeError:
            name = raw.decode("utf-8", "backslashreplace")
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name)


def name_problem(name: str) -> str | None:
    """Why a file name is not shown as it is, in Chinese, or None when it is."""
    if _undecodable(name):
        return (f"文件名不是 UTF-8 编码（常见于从 Windows 压缩包解压的文件），已按“{shown_name(name)}”显示；"
                "请将文件重命名后重新提交")
    if CONTROL.search(name):
        return f"文件名含有不可见的控制字符（{shown_controls(name)}），已按“{shown_name(name)}”显示；请将文件重命名后重新提交"
    return None


def _undecodable(name: str) -> bool:
    # Python hands a name it cannot decode as UTF-8 over with surrogate escapes (PEP 383).
    return any("\udc80" <= c <= "\udcff" for c in name)
