"""Column types shared by the sheet schemas: those of the raw tables (jixiao/ingest/frames.py), not a copy."""

from pandera.engines import polars_engine as pe

from jixiao.ingest.frames import MONEY, POINTS, RATE, VALUE

Money, Rate, Value, Points = (pe.Decimal(t.precision, t.scale) for t in (MONEY, RATE, VALUE, POINTS))

MAX_TEXT = 1000  # longer cells are pasted documents, not labels
