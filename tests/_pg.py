"""The PostgreSQL server the test-suite runs against: found, or started.

``find_server()`` tries, in order:

1. ``PICCOLO_GEN_TEST_PG``, a libpq-style URL (``postgresql://user@host:port/db``)
   or key/value DSN (``host=... port=... user=...``), when set; a server named
   there that does not answer is an error, not a reason to look elsewhere;
2. a server on 127.0.0.1:5432 accepting user ``postgres`` on database
   ``postgres`` without a password;
3. a throwaway cluster (:class:`TempCluster`): ``initdb`` and ``pg_ctl`` in a
   temporary directory, trust authentication, on a free port of 127.0.0.1,
   stopped and deleted at the end of the session.

:class:`StreamingPair` starts a primary and a hot standby of it (made with
``pg_basebackup -R``), streaming, each on a free port, for the replica and
failover tests.

Each step is blocking and runs its asyncpg calls on a private event loop in a
thread of its own, so it never meddles with the event loops of the tests.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import urllib.parse
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]

__all__ = [
    "ENV_VAR",
    "PgServer",
    "PgUnavailable",
    "StreamingPair",
    "TempCluster",
    "create_database",
    "drop_database",
    "find_server",
    "process_runs",
    "query",
    "with_database",
]

ENV_VAR = "PICCOLO_GEN_TEST_PG"
LOCAL_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
SYSTEM_USER = "postgres"  # initdb and postgres refuse to run as root

_T = TypeVar("_T")


class PgUnavailable(Exception):
    """No PostgreSQL server could be found or started; the message says why."""


def _run_blocking(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` on a fresh event loop in a thread of its own."""
    result: list[_T] = []
    error: list[BaseException] = []

    def main() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=main, name="pg-test-helper")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def query(dsn: str, sql: str) -> list[Any]:
    """Run one statement on a new connection and return its rows (as lists)."""

    async def main() -> list[Any]:
        conn = await asyncpg.connect(dsn=dsn, timeout=10)
        try:
            return [list(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()

    return _run_blocking(main())


def _answers(dsn: str, timeout: float = 3.0) -> str | None:
    """None if a server answers at ``dsn``, else the reason it does not."""

    async def main() -> None:
        conn = await asyncpg.connect(dsn=dsn, timeout=timeout)
        await conn.close()

    try:
        _run_blocking(main())
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def to_url(dsn: str) -> str:
    """A libpq DSN as a ``postgresql://`` URL (asyncpg takes only URLs)."""
    if "://" in dsn:
        return dsn
    params: dict[str, str] = {}
    for item in shlex.split(dsn):
        key, _, value = item.partition("=")
        params[key.strip()] = value
    user = urllib.parse.quote(params.pop("user", ""), safe="")
    password = params.pop("password", None)
    if password is not None:
        user += ":" + urllib.parse.quote(password, safe="")
    host = params.pop("host", "")
    port = params.pop("port", "")
    database = urllib.parse.quote(params.pop("dbname", ""), safe="")
    netloc = (user + "@" if user else "") + (host if "/" not in host else "")
    if port:
        netloc += ":" + port
    if "/" in host:  # a unix socket directory
        params["host"] = host
    url = f"postgresql://{netloc}/{database}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    return url


def with_database(dsn: str, database: str) -> str:
    """``dsn`` (a URL) pointing at another database."""
    parts = urllib.parse.urlsplit(dsn)
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(database)))


def create_database(dsn: str, database: str) -> None:
    """Create ``database`` afresh (dropping a leftover of the same name)."""
    drop_database(dsn, database)
    query(dsn, f'CREATE DATABASE "{database}"')


def drop_database(dsn: str, database: str) -> None:
    """Drop ``database`` if it exists, disconnecting its sessions (PostgreSQL 13+)."""
    query(dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _bindir() -> Path:
    """The directory of ``initdb`` and ``pg_ctl``."""
    candidates = [Path("/usr/lib/postgresql/15/bin")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise PgUnavailable(
        "initdb/pg_ctl not found (looked in /usr/lib/postgresql/15/bin, "
        "`pg_config --bindir` and PATH)"
    )


class TempCluster:
    """A throwaway PostgreSQL cluster in a temporary directory.

    Trust authentication, listening on 127.0.0.1 on a free port, its unix
    socket in the temporary directory, durability off (fsync, synchronous
    commit) for speed. As root, ``initdb`` and ``pg_ctl`` run as the
    ``postgres`` system user, who then owns the directory.
    """

    #: Server settings of a throwaway cluster: no durability, for speed.
    FAST: dict[str, str] = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.root: Path | None = None
        self.port: int | None = None
        self._as_root = os.geteuid() == 0
        self._bindir: Path | None = None
        #: ``-c name=value`` settings of the server.
        self.settings = dict(self.FAST if settings is None else settings)

    @property
    def dsn(self) -> str:
        """The URL of the cluster's ``postgres`` database."""
        if self.port is None:
            raise RuntimeError("the cluster is not running")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        """initdb and start the cluster; return its DSN. Raises ``PgUnavailable``."""
        self._make_root()
        data = self._data()
        try:
            self._run(
                "initdb", "-D", str(data), "-U", "postgres", "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
            self.port = _free_port()
            self.start_server()
        except PgUnavailable:
            self.stop()
            raise
        return self.dsn

    def start_standby_of(self, primary: TempCluster) -> str:
        """Make this cluster a hot standby of ``primary`` (``pg_basebackup -R``:
        a copy of its data directory plus ``standby.signal`` and the
        ``primary_conninfo`` to stream from it) and start it; return its DSN."""
        if primary.port is None:
            raise RuntimeError("the primary is not running")
        self._make_root()
        try:
            self._run(
                "pg_basebackup", "-D", str(self._data()), "-h", "127.0.0.1",
                "-p", str(primary.port), "-U", "postgres", "-R", "-X", "stream",
                "-c", "fast", "--no-sync",
            )  # fmt: skip
            self.port = _free_port()
            self.start_server()
        except PgUnavailable:
            self.stop()
            raise
        return self.dsn

    def promote(self) -> None:
        """End recovery: the standby becomes a primary (``pg_ctl promote``)."""
        self._run("pg_ctl", "-D", str(self._data()), "-w", "-t", "60", "promote")

    def stop_immediately(self) -> None:
        """Stop the server as a crash would (``-m immediate``: no checkpoint,
        sessions cut), keeping the cluster."""
        self._run("pg_ctl", "-D", str(self._data()), "-m", "immediate", "-w", "-t", "30", "stop")

    def pid(self) -> int | None:
        """The postmaster's pid, while it runs."""
        try:
            return int((self._data() / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError, RuntimeError):
            return None

    def _make_root(self) -> None:
        self._bindir = _bindir()
        if self._as_root and not _user_exists(SYSTEM_USER):
            raise PgUnavailable(f"running as root and there is no {SYSTEM_USER!r} user")
        self.root = Path(tempfile.mkdtemp(prefix="piccolo_gen_pg_"))
        if self._as_root:
            shutil.chown(self.root, SYSTEM_USER, SYSTEM_USER)

    def _data(self) -> Path:
        if self.root is None:
            raise RuntimeError("the cluster was not created (or was deleted)")
        return self.root / "data"

    def start_server(self) -> None:
        """Start the server of the cluster (again, after ``stop_server()``),
        on the same port; return when it accepts connections."""
        if self.root is None or self.port is None:
            raise RuntimeError("the cluster was not created (or was deleted)")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} " + " ".join(
            f"-c {name}={value}" for name, value in sorted(self.settings.items())
        )
        self._run(
            "pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop_server(self) -> None:
        """Stop the server (fast shutdown: sessions are ended, as in a
        restart), keeping the cluster for ``start_server()``."""
        if self.root is None:
            raise RuntimeError("the cluster was not created (or was deleted)")
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "-t", "30", "stop")

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete the directory. Idempotent."""
        root, self.root, self.port = self.root, None, None
        if root is None:
            return
        data = root / "data"
        if (data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop")
            except PgUnavailable:
                _kill_postmaster(data)
        shutil.rmtree(root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        assert self._bindir is not None
        command = [str(self._bindir / program), *args]
        if self._as_root:
            command = _as_user(SYSTEM_USER, command)
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=90, cwd=self.root
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise PgUnavailable(f"{program} failed: {error}") from error
        if completed.returncode != 0:
            log = ""
            if self.root is not None and (self.root / "server.log").exists():
                log = (self.root / "server.log").read_text(errors="replace")[-2000:]
            raise PgUnavailable(
                f"{program} exited with {completed.returncode}:\n"
                f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}{log}"
            )


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _as_user(user: str, command: list[str]) -> list[str]:
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user, "--", *command]
    return ["su", user, "-s", "/bin/sh", "-c", shlex.join(command)]


def process_runs(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (a container's init
    may leave the servers' exited processes unreaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _kill_postmaster(data: Path) -> None:
    """Last resort when ``pg_ctl stop`` failed: signal the postmaster we started."""
    try:
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGQUIT)
    except (OSError, ValueError, IndexError):
        pass


class StreamingPair:
    """A primary and a hot standby streaming from it, both throwaway clusters.

    The primary keeps full page writes (a base backup needs them) but no
    fsync; ``wal_level=replica``, WAL senders and ``hot_standby`` are set
    explicitly, and ``initdb -A trust`` lets replication connections from
    127.0.0.1 in. ``start()`` returns once the standby is in recovery and
    the primary reports it streaming.
    """

    SETTINGS: dict[str, str] = {
        "fsync": "off",
        "synchronous_commit": "off",
        "wal_level": "replica",
        "max_wal_senders": "5",
        "hot_standby": "on",
        # Status reports every second, so pg_stat_replication follows closely.
        "wal_receiver_status_interval": "1",
    }

    def __init__(self) -> None:
        self.primary = TempCluster(self.SETTINGS)
        self.standby = TempCluster(self.SETTINGS)

    def start(self, timeout: float = 30.0) -> None:
        """Start both and wait until the standby streams. Raises ``PgUnavailable``."""
        try:
            self.primary.start()
            self.standby.start_standby_of(self.primary)
            self.wait_streaming(timeout)
        except BaseException:
            self.stop()
            raise

    def wait_streaming(self, timeout: float = 30.0) -> None:
        """Wait until the standby is in recovery and the primary streams to it."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            recovering = query(self.standby.dsn, "SELECT pg_is_in_recovery()")[0][0]
            states = query(self.primary.dsn, "SELECT state FROM pg_stat_replication")
            if recovering and [row[0] for row in states] == ["streaming"]:
                return
            if time.monotonic() > deadline:
                raise PgUnavailable(f"the standby does not stream: {states}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop both servers (those that still run) and delete the directories."""
        for cluster in (self.standby, self.primary):
            cluster.stop()


@dataclass
class PgServer:
    """A reachable server: its admin DSN, and the cluster to stop if we started it."""

    dsn: str
    cluster: TempCluster | None = None

    def stop(self) -> None:
        """Stop the cluster, if this session started it."""
        if self.cluster is not None:
            self.cluster.stop()


def find_server() -> PgServer:
    """Find or start a server (see the module doc). Raises ``PgUnavailable``."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        dsn = to_url(configured)
        problem = _answers(dsn, timeout=10)
        if problem is not None:
            raise PgUnavailable(f"{ENV_VAR}={configured!r} does not answer: {problem}")
        return PgServer(dsn)
    local_problem = _answers(LOCAL_DSN)
    if local_problem is None:
        return PgServer(LOCAL_DSN)
    cluster = TempCluster()
    try:
        return PgServer(cluster.start(), cluster)
    except PgUnavailable as error:
        raise PgUnavailable(
            f"no server on 127.0.0.1:5432 ({local_problem}) and no throwaway "
            f"cluster either: {error}"
        ) from error
