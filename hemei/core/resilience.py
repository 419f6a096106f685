"""Long-running loops that outlive lost database connections.

A sweeper or a task worker keeps one database connection for hours. When PostgreSQL is
restarted, fails over, drops an idle connection or an operator runs `pg_terminate_backend`,
the next query raises OperationalError or InterfaceError, and the connection object stays
broken. Each pass of a loop therefore runs through `run_forever`: on a database error the
connection is closed (the next query opens a new one) and the pass is retried after a wait
that doubles up to a ceiling and drops back after the first pass that succeeds.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, close_old_connections, connections

from hemei.core.backoff import Backoff

__all__ = ["DB_ERRORS", "Backoff", "close_all", "run_pass"]

logger = logging.getLogger("hemei.resilience")

DB_ERRORS = (DatabaseError, InterfaceError)


def close_all() -> None:
    """Drop every connection of this process (a broken one would fail every later query)."""
    for conn in connections.all(initialized_only=True):
        # Closing a dead socket may fail too; the connection is gone either way.
        with contextlib.suppress(*DB_ERRORS):
            conn.close()


def run_pass(name: str, work: Callable[[], None], backoff: Backoff, *, sleep: Callable[[float], object] = time.sleep
             ) -> bool:
    """One pass of a loop. True if it succeeded; on a database error the connections are
    closed, the error logged and the back-off waited, and False returned."""
    close_old_connections()
    try:
        work()
    except DB_ERRORS as exc:
        close_all()
        logger.warning("%s: database error (%s: %s); reconnecting in %.0fs", name, type(exc).__name__,
                       str(exc).strip().splitlines()[0] if str(exc).strip() else "", backoff.next)
        backoff.wait(sleep)
        return False
    backoff.reset()
    return True
