"""The SQLite store: throttle state that survives a restart (the CLI's default; DESIGN §5).

One database file in WAL mode, so readers never block the writer; SQLite has one writer, so every
decision batch is one ``BEGIN IMMEDIATE`` transaction (PROTOCOLS.md §10): the rows a batch needs are
read, the shared rules of :mod:`throttle.stores.core` decide, and the changes are written before
``COMMIT``. Several processes on one machine may share the file; ``busy_timeout`` bounds how long one
waits for another's transaction. Calls run on the event loop's thread: each is a few local page
reads and writes (``synchronous=NORMAL`` does not fsync on commit in WAL mode).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from channels.errors import TransportError
from throttle.stores.base import US, CapRequest, RateRequest
from throttle.stores.core import Members, cap_decide, rate_decide_many, rate_give_back

RESERVATION_GRACE_US = 60 * US
_PURGE_EVERY = 1024
_IN_CHUNK = 500  # parameters per IN (...) list, far below SQLITE_MAX_VARIABLE_NUMBER

SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_tat (name TEXT PRIMARY KEY, tat INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rate_res (token TEXT PRIMARY KEY, slot INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rate_res_slot ON rate_res (slot);
CREATE TABLE IF NOT EXISTS ids (id TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ids_expires ON ids (expires);
CREATE TABLE IF NOT EXISTS caps (
    key TEXT NOT NULL, member TEXT NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (key, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS caps_key_ts ON caps (key, ts);
CREATE TABLE IF NOT EXISTS optout (number TEXT PRIMARY KEY, at INTEGER NOT NULL, source TEXT NOT NULL)
    WITHOUT ROWID;
"""


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]


def _marks(n: int) -> str:
    return ",".join("?" * n)


class _Db:
    """One connection, with immediate transactions that translate SQLite failures."""

    def __init__(self, path: str | Path, busy_timeout: float) -> None:
        try:
            self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise TransportError(f"sqlite store {path}: {exc}") from exc
        self.path = path
        self.calls = 0

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise TransportError(f"sqlite store {self.path}: {exc}") from exc
        self.calls += 1

    def due_for_purge(self) -> bool:
        return self.calls % _PURGE_EVERY == 0

    def select_in(self, sql: str, values: Sequence[str], *extra: int) -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = []
        for part in _chunks(values):
            rows.extend(self.conn.execute(sql.format(_marks(len(part))), (*part, *extra)).fetchall())
        return rows


class SqliteRateStore:
    def __init__(self, db: _Db) -> None:
        self._db = db

    async def acquire(self, requests: Sequence[RateRequest], now_us: int, max_wait_us: int) -> list[int]:
        names = sorted({b.name for r in requests for b in r.buckets})
        tokens = sorted({r.token for r in requests})
        with self._db.write() as conn:
            tats = self._load(names)
            rows = self._db.select_in("SELECT token, slot FROM rate_res WHERE token IN ({})", tokens)
            reserved = {str(t): int(s) for t, s in rows}  # type: ignore[call-overload]
            before = dict(reserved)
            waits = rate_decide_many(tats, reserved, requests, now_us, max_wait_us)
            conn.executemany(
                "INSERT INTO rate_tat (name, tat) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET tat = excluded.tat",
                tats.items(),
            )
            gone = [(t,) for t in before if t not in reserved]
            new = [(t, s) for t, s in reserved.items() if t not in before]
            conn.executemany("DELETE FROM rate_res WHERE token = ?", gone)
            conn.executemany("INSERT OR REPLACE INTO rate_res (token, slot) VALUES (?, ?)", new)
            if self._db.due_for_purge():
                conn.execute("DELETE FROM rate_res WHERE slot < ?", (now_us - RESERVATION_GRACE_US,))
        return waits

    def _load(self, names: list[str]) -> dict[str, int]:
        rows = self._db.select_in("SELECT name, tat FROM rate_tat WHERE name IN ({})", names)
        return {str(n): int(t) for n, t in rows}  # type: ignore[call-overload]

    async def release(self, requests: Sequence[RateRequest], now_us: int) -> None:
        names = sorted({b.name for r in requests for b in r.buckets})
        with self._db.write() as conn:
            tats = self._load(names)
            for req in requests:
                rate_give_back(tats, req, now_us)
            conn.executemany("UPDATE rate_tat SET tat = ? WHERE name = ?", [(t, n) for n, t in tats.items()])
            conn.executemany("DELETE FROM rate_res WHERE token = ?", [(r.token,) for r in requests])


class SqliteIdempotencyStore:
    def __init__(self, db: _Db) -> None:
        self._db = db

    async def claim(self, ids: Sequence[str], now_us: int, ttl_us: int) -> list[bool]:
        out: list[bool] = []
        with self._db.write() as conn:
            if self._db.due_for_purge():
                conn.execute("DELETE FROM ids WHERE expires <= ?", (now_us,))
            for mid in ids:
                row = conn.execute("SELECT expires FROM ids WHERE id = ?", (mid,)).fetchone()
                if row is not None and row[0] > now_us:
                    out.append(False)
                    continue
                conn.execute("INSERT OR REPLACE INTO ids (id, expires) VALUES (?, ?)", (mid, now_us + ttl_us))
                out.append(True)
        return out

    async def release(self, ids: Sequence[str]) -> None:
        with self._db.write() as conn:
            conn.executemany("DELETE FROM ids WHERE id = ?", [(i,) for i in ids])


class SqliteCapStore:
    def __init__(self, db: _Db) -> None:
        self._db = db

    async def reserve(self, requests: Sequence[CapRequest], now_us: int, retention_us: int) -> list[int]:
        keys = sorted({c.key for r in requests for c in r.checks})
        horizon = now_us - retention_us
        with self._db.write() as conn:
            for part in _chunks(keys):
                conn.execute(
                    f"DELETE FROM caps WHERE key IN ({_marks(len(part))}) AND ts <= ?", (*part, horizon)
                )
            rows = self._db.select_in(
                "SELECT key, ts, member FROM caps WHERE key IN ({}) ORDER BY ts, member", keys
            )
            loaded: dict[str, list[tuple[int, str]]] = {k: [] for k in keys}
            for key, ts, member in rows:
                loaded[str(key)].append((int(ts), str(member)))  # type: ignore[call-overload]
            entries: dict[str, Members] = {k: tuple(v) for k, v in loaded.items()}
            sizes = {k: len(v) for k, v in entries.items()}
            waits = [cap_decide(entries, r, now_us) for r in requests]
            added = [(k, m, ts) for k, v in entries.items() for ts, m in v[sizes[k] :]]
            conn.executemany("INSERT OR IGNORE INTO caps (key, member, ts) VALUES (?, ?, ?)", added)
        return waits

    async def release(self, requests: Sequence[CapRequest]) -> None:
        with self._db.write() as conn:
            conn.executemany(
                "DELETE FROM caps WHERE key = ? AND member = ?",
                [(c.key, r.member) for r in requests for c in r.checks],
            )


class SqliteOptOutStore:
    def __init__(self, db: _Db) -> None:
        self._db = db

    async def add(self, numbers: Sequence[str], now_us: int, source: str) -> None:
        with self._db.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO optout (number, at, source) VALUES (?, ?, ?)",
                [(n, now_us, source) for n in numbers],
            )

    async def remove(self, numbers: Sequence[str]) -> None:
        with self._db.write() as conn:
            conn.executemany("DELETE FROM optout WHERE number = ?", [(n,) for n in numbers])

    async def contains(self, numbers: Sequence[str]) -> list[bool]:
        try:
            found = {
                str(r[0])
                for r in self._db.select_in("SELECT number FROM optout WHERE number IN ({})", list(numbers))
            }
        except sqlite3.Error as exc:
            raise TransportError(f"sqlite store {self._db.path}: {exc}") from exc
        return [n in found for n in numbers]


class SqliteStore:
    """All four stores in one SQLite file (WAL)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        self._db = _Db(path, busy_timeout)
        self.path = path
        self.rate = SqliteRateStore(self._db)
        self.ids = SqliteIdempotencyStore(self._db)
        self.caps = SqliteCapStore(self._db)
        self.optouts = SqliteOptOutStore(self._db)

    async def aclose(self) -> None:
        self._db.conn.close()

    async def __aenter__(self) -> SqliteStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
