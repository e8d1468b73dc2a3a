"""How the year's tasks behave when the world misbehaves: retries, timeouts, caching, one run per warehouse."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

from prefect import get_client, get_run_logger
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import MissingContextError, ObjectAlreadyExists
from prefect.logging import get_logger
from prefect.tasks import exponential_backoff

from jixiao.changes import InputsChanging, sha256
from jixiao.ledger import code_version
from jixiao.read import workbook_paths
from jixiao.warehouse import WarehouseLocked

# A district's year takes seconds; a step running this long is stuck (a hung share, a lock never released).
STEP_TIMEOUT_SECONDS = 15 * 60
# Under the warehouse's file lock no live run can hold its slot, so a slot still
# taken after this long was left by a run that died (see warehouse_slot).
STALE_SLOT_SECONDS = 5
# The shortest lease Prefect grants; a live holder renews it in the background.
SLOT_LEASE_SECONDS = 60

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


def workbooks_key(context, parameters) -> str:
    """cache_key_fn: the flow run, the year's workbooks by name and content, the department filter, the code.

    A retried flow run (same flow run id) over the same bytes and code reuses
    the read instead of reading again; a new run reads afresh, so it records
    its own timings, and `--force` means what it says. Any edit to a workbook
    or to the code gives a new key.
    """
    settings = parameters["settings"]
    files = [(path.name, sha256(path)) for path in workbook_paths(settings.year_dir)]
    payload = json.dumps([str(context.task_run.flow_run_id), settings.year, sorted(settings.departments), files,
                          code_version()])
    return "jixiao-read-" + hashlib.sha256(payload.encode()).hexdigest()


# Long enough for any retry of a run; entries then stop being used.
CACHE_EXPIRATION = timedelta(days=1)


def warehouse_limit_name(warehouse: Path) -> str:
    """A global concurrency limit name for this warehouse file ('/' is not allowed in names)."""
    path = Path(warehouse).resolve()
    return f"jixiao-warehouse-{path.name}-{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"


@contextmanager
def warehouse_slot(warehouse: Path) -> Iterator[str]:
    """Hold the warehouse's slot in Prefect (a global concurrency limit of 1, created on first use).

    Call it while holding the warehouse's file lock: the file lock queues the
    runs and is released by the OS when a process dies; the slot shows the
    running writer in the Prefect UI (Concurrency) to anyone watching. A run
    killed outright leaves its slot taken until its lease expires on a real
    server, and for ever on the temporary one, which reclaims no leases. As
    every holder takes the slot under the file lock and gives it back first,
    a slot that stays taken while we hold the file lock is such a leftover,
    and is freed. The limit is only ever created here, never changed back if
    an operator changes it.
    """
    name = warehouse_limit_name(warehouse)
    with get_client(sync_client=True) as client:
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        except ObjectAlreadyExists:
            pass
        except Exception:
            # Two creations racing (a killed run's request still in flight) make SQLite's
            # unique index fail on the server: an error there, the same outcome for us.
            client.read_global_concurrency_limit_by_name(name)
    with ExitStack() as held:
        try:
            held.enter_context(_slot(name))
        except TimeoutError:
            _logger().warning(f"并发槽 {name} 被一个已中止的运行占用，已释放 (a run that died left it taken)")
            with get_client(sync_client=True) as client:
                client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active_slots=0))
            held.enter_context(_slot(name))
        yield name


def _logger():
    try:
        return get_run_logger()
    except MissingContextError:  # called outside a flow run
        return get_logger("jixiao")


def _slot(name: str):
    # strict: a limit deleted under us is an error, not a silent pass; a
    # failed lease renewal is not, since the file lock is what keeps writers apart.
    return concurrency(name, occupy=1, timeout_seconds=STALE_SLOT_SECONDS, lease_duration=SLOT_LEASE_SECONDS,
                       strict=True, raise_on_lease_renewal_failure=False)
