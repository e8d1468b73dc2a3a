"""Bounds on what one department's input may cost to read.

A nightly run reads a hundred departments' files in one process; one hostile
or accidental monster (a zip bomb, a sheet with a cell at XFD1048576, a
pasted document in one cell) must become a finding for that file, never
exhaust the memory the other departments need. Real workbooks are far below
every bound here: the bundled one is 30 KB with sheets of under 50 rows.
"""

from __future__ import annotations

from decimal import Decimal

# The file on disk (a workbook, or one CSV file of a department folder).
MAX_FILE_BYTES = 100 * 1024 * 1024
# Declared uncompressed sizes inside an .xlsx (checked before anything is inflated).
MAX_XML_PART_BYTES = 50 * 1024 * 1024
MAX_XML_TOTAL_BYTES = 150 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000

# One sheet's extent, counted from the cells that hold something. calamine
# allocates the whole rectangle from A1 to the farthest cell, so two cells far
# apart cost rows × columns, not two.
MAX_SHEET_ROWS = 50_000
MAX_SHEET_COLUMNS = 200
# One cell: longer text is a pasted document, not a form entry (a label, a number or a short explanation).
MAX_CELL_CHARS = 4_000

# Magnitudes the warehouse types hold (DECIMAL(18,2) 元, DECIMAL(18,8) rates,
# DECIMAL(9,4) points, DECIMAL(24,6) values, INTEGER counters); a value
# beyond them is a typing slip, and polars would otherwise null it silently.
MAX_AMOUNT_YUAN = Decimal(10) ** 14  # 100 万亿元: no district budget comes near
MAX_RATE = Decimal(10) ** 6  # as a fraction: 100,000,000 %
MAX_POINTS = Decimal(10) ** 4  # weights and scores are out of 100
MAX_VALUE = Decimal(10) ** 15  # an indicator's target or actual
MAX_COUNTER = 1_000_000  # 序号, 下属单位数
# The smallest non-zero magnitude each of those types holds (its last decimal place).
# Below it a value is a slip too (a float like 2.7E-76 from a broken formula), and
# polars would null it, or panic on an exponent beyond its table of powers of ten.
RESOLUTION = {"amount": Decimal("0.01"), "rate": Decimal("1E-8"), "number": Decimal("1E-4"),
              "count": Decimal(1), "value": Decimal("1E-6")}

# How much of a long value a finding quotes.
FINDING_VALUE_CHARS = 200
