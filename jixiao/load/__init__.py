"""The DuckDB warehouse: connection and migrations, the SQL runner and partition replace, the run ledger
and its change plan, the Parquet export."""
