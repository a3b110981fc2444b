"""Receipt correlation state in SQLite, so a restarted process still correlates receipts (DESIGN §5).

Receipts arrive minutes to days after the submit (PROTOCOLS.md §3.6: 72 h deadline by default), so the
map gateway id → ``Message.id`` of :class:`~channels.receipts.ReceiptTracker` must outlive the process
that sent. This is the embedded :class:`~channels.receipts.ReceiptStore`: one database file in WAL mode
(readers never block the writer), ``synchronous=NORMAL``, every change one ``BEGIN IMMEDIATE``
transaction (SQLite has one writer, PROTOCOLS.md §10), ``busy_timeout`` bounding the wait when several
processes share the file. :meth:`SqliteReceiptStore.due` deletes what it returns in the same transaction,
so two processes never both report one message's timeout. The Redis store for many machines lives in
``throttle.stores.redis_receipts``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from channels.errors import TransportError
from channels.message import ChannelKind
from channels.receipts import Tracked
from channels.results import DeliveryState

SCHEMA = """
CREATE TABLE IF NOT EXISTS receipt_tracked (
    message_id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    gateway TEXT NOT NULL,
    remote_ids TEXT NOT NULL,
    deadline REAL NOT NULL,
    part_states TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS receipt_tracked_deadline ON receipt_tracked (deadline);
CREATE TABLE IF NOT EXISTS receipt_keys (
    gateway TEXT NOT NULL, key TEXT NOT NULL, message_id TEXT NOT NULL, PRIMARY KEY (gateway, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS receipt_keys_message ON receipt_keys (message_id);
"""
DUE_BATCH = 1000
_COLUMNS = "message_id, channel, gateway, remote_ids, deadline, part_states, done"
_LOOKUP = (
    "SELECT " + ", ".join("t." + c.strip() for c in _COLUMNS.split(",")) + " FROM receipt_keys k "
    "JOIN receipt_tracked t ON t.message_id = k.message_id WHERE k.gateway = ? AND k.key = ?"
)
_Row = tuple[str, str, str, str, float, str, int]


def _row(tracked: Tracked) -> _Row:
    return (
        tracked.message_id,
        tracked.channel.value,
        tracked.gateway,
        json.dumps(list(tracked.remote_ids)),
        tracked.deadline.timestamp(),
        json.dumps({k: v.value for k, v in tracked.part_states.items()}),
        int(tracked.done),
    )


def _tracked(row: _Row) -> Tracked:
    message_id, channel, gateway, remote_ids, deadline, part_states, done = row
    return Tracked(
        message_id=message_id,
        channel=ChannelKind(channel),
        gateway=gateway,
        remote_ids=tuple(json.loads(remote_ids)),
        deadline=datetime.fromtimestamp(deadline, UTC),
        part_states={k: DeliveryState(v) for k, v in json.loads(part_states).items()},
        done=bool(done),
    )


class SqliteReceiptStore:
    """:class:`~channels.receipts.ReceiptStore` in one SQLite file (``":memory:"`` for tests)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        self.path = str(path)
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise TransportError(f"receipt store {self.path}: {exc}") from exc

    # -- plumbing ----------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise TransportError(f"receipt store {self.path}: {exc}") from exc

    def _one(self, sql: str, args: tuple[object, ...]) -> Tracked | None:
        try:
            row = self._conn.execute(sql, args).fetchone()
        except sqlite3.Error as exc:
            raise TransportError(f"receipt store {self.path}: {exc}") from exc
        return _tracked(row) if row is not None else None

    # -- ReceiptStore ------------------------------------------------------------------------------

    def add(self, tracked: Tracked, keys: list[tuple[str, str]]) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO receipt_tracked ({_COLUMNS}) VALUES (?,?,?,?,?,?,?)", _row(tracked)
            )
            conn.executemany(
                "INSERT OR REPLACE INTO receipt_keys (gateway, key, message_id) VALUES (?, ?, ?)",
                [(gateway, key, tracked.message_id) for gateway, key in keys],
            )

    def lookup(self, gateway: str, key: str) -> Tracked | None:
        return self._one(_LOOKUP, (gateway, key))

    def get(self, message_id: str) -> Tracked | None:
        return self._one(f"SELECT {_COLUMNS} FROM receipt_tracked WHERE message_id = ?", (message_id,))

    def update(self, tracked: Tracked) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE receipt_tracked SET part_states = ?, done = ?, deadline = ? WHERE message_id = ?",
                (
                    json.dumps({k: v.value for k, v in tracked.part_states.items()}),
                    int(tracked.done),
                    tracked.deadline.timestamp(),
                    tracked.message_id,
                ),
            )

    def due(self, now: datetime) -> list[Tracked]:
        """Messages past their deadline, taken out of the store (claimed) in one transaction."""
        with self._write() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM receipt_tracked WHERE deadline <= ? AND done = 0 "
                "ORDER BY deadline LIMIT ?",
                (now.timestamp(), DUE_BATCH),
            ).fetchall()
            ids = [(row[0],) for row in rows]
            conn.executemany("DELETE FROM receipt_tracked WHERE message_id = ?", ids)
            conn.executemany("DELETE FROM receipt_keys WHERE message_id = ?", ids)
        return [_tracked(row) for row in rows]

    def remove(self, message_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM receipt_tracked WHERE message_id = ?", (message_id,))
            conn.execute("DELETE FROM receipt_keys WHERE message_id = ?", (message_id,))

    # -- extras ------------------------------------------------------------------------------------

    def __len__(self) -> int:
        (count,) = self._conn.execute("SELECT count(*) FROM receipt_tracked").fetchone()
        return int(count)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SqliteReceiptStore:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
