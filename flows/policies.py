"""How the year's tasks behave when the world misbehaves: retries and timeouts."""

from __future__ import annotations

from prefect.tasks import exponential_backoff

from jixiao.load.changes import InputsChanging
from jixiao.load.warehouse import WarehouseLocked

# A district's year takes seconds; a step running this long is stuck (a hung share, a lock never released).
STEP_TIMEOUT_SECONDS = 15 * 60

# Failures that pass on their own: a workbook still being copied or saved, a
# workbook locked by Excel on a shared drive, the warehouse held by another process.
TRANSIENT = (InputsChanging, PermissionError, WarehouseLocked)

RETRY_TRANSIENT = {
    "retries": 4,
    "retry_delay_seconds": exponential_backoff(backoff_factor=10),  # 10, 20, 40, 80 s
    "retry_jitter_factor": 0.5,
}


def is_transient(task, task_run, state) -> bool:
    """retry_condition_fn: retry what passes on its own; a bug or bad data fails at once."""
    try:
        state.result()
    except TRANSIENT:
        return True
    except BaseException:
        return False
    return False
