"""`hemei serve` says "serving" only once /healthz answers, and keeps the request log off the
console by default (issue 15)."""

from __future__ import annotations

import io

from hemei.core import supervise
from hemei.core.management.commands import serve


def test_serving_is_said_once_the_site_answers():
    answers = iter([False, False, True, True])
    said: list[str] = []
    sup = supervise.Supervisor([], env={}, log=io.StringIO(), ready=lambda: next(answers),
                           on_ready=lambda: said.append("serving"))
    for _ in range(4):
        sup.next_probe = 0.0  # no half-second wait between probes in a test
        sup.probe()
    assert said == ["serving"]  # after the third probe, and only once


def test_a_closed_port_does_not_answer():
    assert supervise._answers("http://127.0.0.1:9/healthz") is False


def test_the_request_log_goes_to_a_file_by_default():
    path = serve._default_access_log()
    assert path.name == "access.log" and path.parent.name == "log" and path.parent.is_dir()
