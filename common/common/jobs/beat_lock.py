"""The beat lock: exactly one beat of a service sends jobs, however many beats were started.

A beat takes the lock before it reads its schedules and holds it for its lifetime
(:class:`common.jobs.beat.DatabaseScheduler`); another beat of the service (a replica too
many, one started by hand, a rollout's new pod while the old one stops) waits, and takes
over once the holder is gone. The deployments still run one beat each (compose, the
Kubernetes Deployment's single replica): the lock is what makes a second one harmless.

- PostgreSQL: a session-level advisory lock on the service's own database, held by a
  connection of the beat's own, not Django's (django-celery-beat closes and reopens that
  one at will, and a closed session gives its locks back). The server releases it when the
  session ends, however the beat died; a beat whose host vanished without a word is noticed
  by the server's keepalives, set on that session (``LOCK_SESSION_SETTINGS``). The holder
  asks its session before every tick (:meth:`PostgresBeatLock.is_held`): a session lost (the
  server restarted, the link cut) may mean another beat holds the lock already, so this one
  sends nothing until it holds it again.
- SQLite (the embedded local run, one host): an exclusive ``flock`` on a file beside the
  database, released by the kernel when the process dies.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
from pathlib import Path
from typing import IO, Protocol

from django.conf import settings
from django.db import Error, connections

# libpq's TCP settings of the lock's connection: a link that went half-open is noticed within
# about half a minute (idle: keepalives; a query waiting on the link: the user timeout), so a
# beat cut off from its database stops sending instead of waiting for the kernel's hours.
LOCK_CONNECTION_OPTIONS = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # milliseconds
}
# The server's side of the same, settings of the lock's session: a beat whose host vanished (a
# node lost, a link cut) sends no FIN, and the server would keep its session, and so the lock, for
# its kernel's keepalive default (over two hours), while no beat of the service sends anything.
LOCK_SESSION_SETTINGS = {
    "tcp_keepalives_idle": 10,
    "tcp_keepalives_interval": 5,
    "tcp_keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # milliseconds
}


class BeatLock(Protocol):
    """What the scheduler needs of a lock: take it if free, say whether it is still held, give it back."""

    def try_acquire(self) -> bool: ...

    def is_held(self) -> bool: ...

    def release(self) -> None: ...


def lock_key(service: str) -> int:
    """Return the advisory lock's key for ``service``: a stable signed 64-bit number (PostgreSQL's bigint)."""
    digest = hashlib.blake2b(f"common.jobs.beat:{service}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresBeatLock:
    """A session advisory lock on the service's database, on a connection of its own."""

    def __init__(self, *, alias: str = "default"):
        base = connections[alias]
        settings_dict = copy.deepcopy(base.settings_dict)
        options = settings_dict.setdefault("OPTIONS", {})
        # A pooled connection would go back to the pool, lock and all, when closed.
        options.pop("pool", None)
        options.update(LOCK_CONNECTION_OPTIONS)
        session_settings = " ".join(f"-c {name}={value}" for name, value in LOCK_SESSION_SETTINGS.items())
        options["options"] = f"{options.get('options', '')} {session_settings}".strip()
        # Under the base connection's alias: what receives connection_created may look the alias up in
        # django.db.connections (django.contrib.postgres's type handlers do), and a name of its own is in none.
        self._connection = type(base)(settings_dict, alias=alias)
        self.key = lock_key(settings.SERVICE_NAME)
        # The server process of the session that holds the lock; None while not held.
        self._holder_pid: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if no other session holds it; a database error is raised (the lock is not held)."""
        try:
            pid, acquired = self._query("SELECT pg_backend_pid(), pg_try_advisory_lock(%s)", [self.key])
        except Error:
            self._disconnect()
            raise
        self._holder_pid = pid if acquired else None
        return acquired

    def is_held(self) -> bool:
        """Return whether this beat's session still holds the lock (asks the server: one round trip).

        The same server process as at acquisition, not merely a working connection: a session
        opened again after a lost one holds nothing.
        """
        if self._holder_pid is None:
            return False
        try:
            (pid,) = self._query("SELECT pg_backend_pid()")
        except Error:
            pid = None
        if pid != self._holder_pid:
            self._holder_pid = None
            self._disconnect()
            return False
        return True

    def release(self) -> None:
        """Give the lock back, then end the session.

        Unlocked first: the server frees a closed session's locks only once its process has
        gone, a moment after the close returns.
        """
        if self._holder_pid is not None:
            with contextlib.suppress(Error):
                self._query("SELECT pg_advisory_unlock(%s)", [self.key])
        self._holder_pid = None
        self._disconnect()

    def _query(self, sql: str, params: list | None = None) -> tuple:
        with self._connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def _disconnect(self) -> None:
        with contextlib.suppress(Error):
            self._connection.close()


class FileBeatLock:
    """An exclusive ``flock`` on a file: any other open of it, in this process or another, waits."""

    def __init__(self, path: Path):
        self.path = path
        self._file: IO | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        self._file = file
        return True

    def is_held(self) -> bool:
        # Only closing the file (or the process ending) gives a flock back.
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def file_lock_path(database_name: str) -> Path:
    """Return the lock file of the SQLite database ``database_name``: beside it, or in the data dir if in memory."""
    if database_name and database_name != ":memory:" and not database_name.startswith("file:"):
        database = Path(database_name)
        return database.with_name(f"{database.name}.beat.lock")
    from common.settings.env import data_dir

    return data_dir() / "workers" / f"{settings.SERVICE_NAME}-beat.lock"


def beat_lock(*, alias: str = "default") -> BeatLock:
    """Return the beat lock of this service's database (not yet taken)."""
    connection = connections[alias]
    if connection.vendor == "postgresql":
        return PostgresBeatLock(alias=alias)
    return FileBeatLock(file_lock_path(str(connection.settings_dict["NAME"])))
