"""The reconnecting loop of the sweeper and the task worker (hemei.core.resilience)."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError, connection

from hemei.core.resilience import Backoff, run_pass


def test_backoff_doubles_to_its_ceiling_and_resets():
    waits: list[float] = []
    backoff = Backoff(first=1, ceiling=5)
    for _ in range(5):
        backoff.wait(waits.append)
    assert waits == [1, 2, 4, 5, 5]
    backoff.reset()
    backoff.wait(waits.append)
    assert waits[-1] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("error", [OperationalError("terminating connection due to administrator command"),
                                   InterfaceError("connection already closed")])
def test_a_database_error_closes_the_connection_and_the_loop_goes_on(error, monkeypatch):
    waits: list[float] = []
    closed: list[str] = []
    backoff = Backoff(first=1, ceiling=8)
    connection.ensure_connection()
    monkeypatch.setattr(connection, "close", lambda: closed.append(connection.alias))
    monkeypatch.setattr("hemei.core.resilience.close_old_connections", lambda: None)  # the test's own transaction

    def broken() -> None:
        raise error

    assert run_pass("test", broken, backoff, sleep=waits.append) is False
    assert closed == ["default"]  # the next query opens a new connection
    assert run_pass("test", broken, backoff, sleep=waits.append) is False
    assert waits == [1, 2]
    ran: list[int] = []
    assert run_pass("test", lambda: ran.append(1), backoff, sleep=waits.append)
    assert ran == [1] and backoff.next == 1 and waits == [1, 2]


def test_other_errors_are_not_swallowed(monkeypatch):
    monkeypatch.setattr("hemei.core.resilience.close_old_connections", lambda: None)

    def bug() -> None:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        run_pass("test", bug, Backoff(), sleep=lambda _s: None)
