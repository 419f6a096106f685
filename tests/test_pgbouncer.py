"""The application through PgBouncer in transaction pooling (a county deployment, docs/operations.md).

The test starts its own pgbouncer (Debian's package) on a free port with its own
configuration in a temporary directory, points a child process of the application at it with
HEMEI_PGBOUNCER=1, and stops it. The child checks what transaction pooling breaks when it is
not handled: server-side cursors (`.iterator()`), the statement timeout (set by PgBouncer's
`connect_query`, not by a startup option PgBouncer refuses), a transaction that writes and
reads back, and whole requests (health check, the public board, a signed-in page).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import World, require

pytestmark = pytest.mark.postgres_only

CHILD = r"""
import django, os, sys
django.setup()
from django.db import connection, transaction
from django.test import Client
from hemei.accounts.models import User
from hemei.core import freshness
from hemei.regions.models import Region

code, username = sys.argv[1], sys.argv[2]
assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
with connection.cursor() as cursor:
    cursor.execute("SHOW statement_timeout")
    print("timeout", cursor.fetchone()[0])
    cursor.execute("SELECT inet_server_port()")
    print("server port", cursor.fetchone()[0])
print("regions", sum(1 for _r in Region.objects.iterator(chunk_size=2)))
with transaction.atomic():
    freshness.touch("pgbouncer", 1)
    freshness.touch("pgbouncer", 1)
print("version", freshness.versions([1])[("pgbouncer", 1)])
client = Client()
print("healthz", client.get("/healthz").status_code)
print("board", client.get(f"/v/{code}/").status_code, client.get(f"/v/{code}/disclosures/").status_code)
client.force_login(User.objects.get(username=username))
print("households", client.get("/w/households/").status_code)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, proc: subprocess.Popen[bytes], log: Path, console: Path) -> None:
    for _ in range(100):
        if proc.poll() is not None:
            pytest.fail("pgbouncer stopped: " + log.read_text(errors="replace") + console.read_text(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail("pgbouncer did not listen: " + log.read_text(errors="replace"))


def _config(tmp: Path, port: int, db: dict[str, Any]) -> Path:
    (tmp / "users.txt").write_text(f'"{db["USER"]}" "{db.get("PASSWORD") or ""}"\n')
    ini = tmp / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"{db['NAME']} = host={db.get('HOST') or '127.0.0.1'} port={db.get('PORT') or 5432} dbname={db['NAME']}"
        " connect_query='SET statement_timeout = 15000'\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {tmp / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 20\n"
        f"logfile = {tmp / 'pgbouncer.log'}\npidfile = {tmp / 'pgbouncer.pid'}\n"
        "server_reset_query =\nignore_startup_parameters = extra_float_digits\n"
    )
    return ini


@pytest.mark.slow
def test_the_application_works_through_pgbouncer_in_transaction_pooling(
    world: World, transactional_db: Any, tmp_path: Path
) -> None:
    binary = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    require(binary is not None, "pgbouncer is not installed (apt-get install pgbouncer)")
    assert binary is not None
    db = connection.settings_dict
    port = _free_port()
    # Not under pytest's tmp_path: pgbouncer drops root for `nobody`, who must reach its files.
    tmp = Path(tempfile.mkdtemp(prefix="hemei-pgbouncer-"))
    tmp.chmod(0o755)
    ini = _config(tmp, port, db)
    for f in tmp.iterdir():
        f.chmod(0o644)
    tmp.chmod(0o777)  # and write its pid file there (the directory is removed afterwards)
    log = tmp / "pgbouncer.log"
    log.touch()
    log.chmod(0o666)
    command = [binary, str(ini)]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "nobody"]
    console = (tmp_path / "console.txt").open("wb")
    proc = subprocess.Popen(command, stdout=console, stderr=subprocess.STDOUT)
    try:
        _wait(port, proc, log, tmp_path / "console.txt")
        url = f"postgres://{db['USER']}@127.0.0.1:{port}/{db['NAME']}"
        env = {**os.environ, "DATABASE_URL": url, "HEMEI_PGBOUNCER": "1", "DJANGO_SETTINGS_MODULE": "hemei.settings"}
        done = subprocess.run(
            [sys.executable, "-c", CHILD, world.village.code, "grid1"],
            env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=300,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        console.close()
        shutil.rmtree(tmp, ignore_errors=True)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "timeout 15s" in out  # PgBouncer's connect_query, on the server connection
    assert f"server port {db.get('PORT') or 5432}" in out
    assert re.search(r"regions [1-9]", out)
    assert "version 2" in out and "healthz 200" in out and "board 200 200" in out and "households 200" in out
