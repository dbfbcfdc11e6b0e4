"""A PgBouncer in transaction pooling mode in front of the test server.

``start(server_dsn)`` runs Debian's ``pgbouncer`` (installed with
``apt-get install -y pgbouncer`` when absent and running as root) on a free
port of 127.0.0.1, with a generated ini in a temporary directory:
``pool_mode = transaction``, ``auth_type = trust``, and a ``* =`` wildcard
database that sends every database name to the test server. PgBouncer
refuses to run as root: as root it runs as the ``postgres`` system user
(as ``initdb`` does in ``_pg``), who then owns the directory.

``stop()`` ends it and deletes the directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import _pg

__all__ = ["ENV_VAR", "PgBouncer", "binary", "start"]

#: Set to 1 to run the PostgreSQL fixtures of ``conftest`` through PgBouncer.
ENV_VAR = "PICCOLO_GEN_TEST_PGBOUNCER"

_CANDIDATES = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")


def binary() -> str | None:
    """The ``pgbouncer`` program, installed first if absent and running as
    root on a Debian-like system; None when there is none."""
    found = shutil.which("pgbouncer") or next(
        (path for path in _CANDIDATES if os.access(path, os.X_OK)), None
    )
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "pgbouncer"],
        ):
            subprocess.run(command, capture_output=True, timeout=600, env=env, check=False)
        found = shutil.which("pgbouncer") or next(
            (path for path in _CANDIDATES if os.access(path, os.X_OK)), None
        )
    return found


class PgBouncer:
    """A running PgBouncer; ``url(database)`` is a DSN through it."""

    def __init__(self, server_dsn: str, program: str) -> None:
        parts = urllib.parse.urlsplit(server_dsn)
        self.server_host = parts.hostname or "127.0.0.1"
        self.server_port = parts.port or 5432
        self.user = urllib.parse.unquote(parts.username or "postgres")
        self.password = urllib.parse.unquote(parts.password) if parts.password else None
        self.program = program
        self.port = _pg._free_port()
        self.root = Path(tempfile.mkdtemp(prefix="piccolo_gen_pgbouncer_"))
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: str) -> str:
        """The URL of ``database`` (on the test server) through PgBouncer."""
        auth = urllib.parse.quote(self.user, safe="")
        if self.password is not None:
            auth += ":" + urllib.parse.quote(self.password, safe="")
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{urllib.parse.quote(database)}"

    def start(self) -> None:
        """Write the ini and start PgBouncer; return when it accepts
        connections. Raises ``_pg.PgUnavailable``."""
        password = f" password={self.password}" if self.password is not None else ""
        quoted = self.user.replace('"', '""')
        (self.root / "users.txt").write_text(f'"{quoted}" ""\n')
        (self.root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={self.server_host} port={self.server_port}{password}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            f"unix_socket_dir = {self.root}\n"
            "auth_type = trust\n"
            f"auth_file = {self.root / 'users.txt'}\n"
            "pool_mode = transaction\n"
            "default_pool_size = 20\n"
            "max_client_conn = 500\n"
            # The drop of a test database ends its server connections; do not
            # keep them waiting for the next client.
            "server_idle_timeout = 5\n"
            "server_reset_query =\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.root / 'pgbouncer.log'}\n"
        )
        command = [self.program, "-q", str(self.root / "pgbouncer.ini")]
        # PgBouncer refuses to run as root: as root, the process is started as
        # the system user itself (not through runuser, which would stand
        # between stop()'s signal and PgBouncer and leave it running).
        user: dict[str, Any] = {}
        if os.geteuid() == 0:
            shutil.chown(self.root, _pg.SYSTEM_USER, _pg.SYSTEM_USER)
            for name in ("users.txt", "pgbouncer.ini"):
                shutil.chown(self.root / name, _pg.SYSTEM_USER, _pg.SYSTEM_USER)
            user = {"user": _pg.SYSTEM_USER, "group": _pg.SYSTEM_USER, "extra_groups": []}
        try:
            with open(self.root / "stderr.txt", "wb") as stderr:
                self._process = subprocess.Popen(
                    command, stdout=subprocess.DEVNULL, stderr=stderr, cwd=self.root, **user
                )
        except OSError as error:
            raise _pg.PgUnavailable(f"pgbouncer failed to start: {error}") from error
        deadline = time.monotonic() + 20
        problem: str | None = "not started"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            problem = _pg._answers(self.url("postgres"), timeout=2)
            if problem is None:
                return
            time.sleep(0.1)
        tail = ""
        for name in ("stderr.txt", "pgbouncer.log"):
            if (self.root / name).exists():
                tail += (self.root / name).read_text(errors="replace")[-2000:]
        self.stop()
        raise _pg.PgUnavailable(f"pgbouncer does not answer ({problem}):\n{tail}")

    def stop(self) -> None:
        """Stop PgBouncer and delete its directory. Idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # SIGINT: PgBouncer's immediate shutdown (SIGTERM's "safe
            # shutdown" waits for clients).
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start(server_dsn: str) -> PgBouncer:
    """A PgBouncer started in front of ``server_dsn``. Raises ``_pg.PgUnavailable``."""
    program = binary()
    if program is None:
        raise _pg.PgUnavailable("pgbouncer is not installed (apt-get install -y pgbouncer)")
    bouncer = PgBouncer(server_dsn, program)
    bouncer.start()
    return bouncer
