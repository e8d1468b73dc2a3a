"""Column types shared by the sheet schemas."""

from pandera.engines import polars_engine as pe

Money = pe.Decimal(18, 2)
Rate = pe.Decimal(18, 8)
Value = pe.Decimal(24, 6)
Points = pe.Decimal(9, 4)

MAX_TEXT = 1000  # longer cells are pasted documents, not labels
