"""The job file of ``telco-channels send``: one SQLite database that is the truth about what was sent.

No gateway sends exactly once, so the sender's own journal decides (DESIGN §5 "What sent once
means"). Every row of the target file gets one record, keyed by its message id: ``sending`` is
written (and committed) before the submit leaves, the outcome after it: ``sent``, ``deferred``
(quiet hours, with the time it may go), ``rejected``, ``failed`` (nothing reached the gateway that
we know of: sent again on the next run), ``unknown`` (a submit written without an answer:
:class:`~channels.errors.OutcomeUnknown`, DESIGN §2.6) or ``invalid`` (a bad row). A rerun skips
rows whose state is final, resends ``failed`` and ``deferred`` ones, and treats a ``sending`` left by
a crash as ``unknown``: neither is resent unless the user asks for at-least-once. Every unknown
outcome is also appended to a journal table, so reports count them even after a resend. Marks from
concurrent senders are committed together (group commit: one transaction per event-loop turn).

The receipt tracker's state lives here too (:class:`JobReceiptStore`), so memory stays flat however
many messages await receipts, and receipts that arrive after a restart still find their message.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from channels.errors import ConfigurationError
from channels.message import ChannelKind
from channels.receipts import Tracked
from channels.results import DeliveryState

FINAL = frozenset({"sent", "rejected", "invalid", "duplicate"})
AMBIGUOUS = frozenset({"unknown", "sending"})
_IN_CHUNK = 500

# Rows are keyed by their file line: a fresh run appends in line order, so a commit touches a few
# pages instead of one random B-tree page per row (message ids are hashes). The index on ``id`` is
# built in bulk only when a job is resumed (rows looked up by id where a line's id has changed).
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rows (
    line INTEGER PRIMARY KEY, id TEXT, msisdn TEXT NOT NULL, state TEXT NOT NULL,
    reason TEXT, remote_ids TEXT, parts INTEGER, until REAL, attempts INTEGER NOT NULL DEFAULT 0,
    sent_at REAL, receipt TEXT, receipt_error TEXT, receipt_at REAL, updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS unknown_journal (line INTEGER NOT NULL, id TEXT, at REAL NOT NULL, reason TEXT);
CREATE TABLE IF NOT EXISTS tracked (
    message_id TEXT PRIMARY KEY, line INTEGER NOT NULL, channel TEXT NOT NULL, gateway TEXT NOT NULL,
    remote_ids TEXT NOT NULL, deadline REAL NOT NULL, parts TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tracked_deadline ON tracked (deadline);
CREATE TABLE IF NOT EXISTS tracked_keys (
    gateway TEXT NOT NULL, key TEXT NOT NULL, message_id TEXT NOT NULL, PRIMARY KEY (gateway, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tracked_keys_id ON tracked_keys (message_id);
"""

_MARK = (
    "INSERT INTO rows (line, id, msisdn, state, attempts, updated) VALUES (?, ?, ?, 'sending', 1, ?)"
    " ON CONFLICT (line) DO UPDATE SET state = 'sending', attempts = attempts + 1, updated = excluded.updated"
)
_RECORD = (
    "INSERT INTO rows (line, id, msisdn, state, reason, remote_ids, parts, until, sent_at, updated)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (line) DO UPDATE SET state = excluded.state,"
    " reason = excluded.reason, remote_ids = excluded.remote_ids, parts = excluded.parts,"
    " until = excluded.until, sent_at = excluded.sent_at, updated = excluded.updated"
)
_RECEIPT = "UPDATE rows SET receipt = ?, receipt_error = ?, receipt_at = ?, updated = ? WHERE line = ?"
_UNKNOWN = "UPDATE rows SET state = 'unknown', reason = ?, updated = ? WHERE line = ?"
_JOURNAL = "INSERT INTO unknown_journal VALUES (?, ?, ?, ?)"
_TRACK = "INSERT OR REPLACE INTO tracked VALUES (?, ?, ?, ?, ?, ?, ?)"
_TRACK_KEY = "INSERT OR REPLACE INTO tracked_keys VALUES (?, ?, ?)"
_TRACK_PARTS = "UPDATE tracked SET parts = ? WHERE message_id = ?"
_UNTRACK = "DELETE FROM tracked WHERE message_id = ?"
_UNTRACK_KEYS = "DELETE FROM tracked_keys WHERE message_id = ?"
# Queued writes run grouped by statement (one executemany each), in this order, which is the order
# of a message's life: recorded (a deferral), marked sending, its outcome, its receipt; tracked,
# updated, untracked. Writes of one statement keep their own order.
_PRIORITY = {sql: i for i, sql in enumerate(
    (_RECORD, _MARK, _UNKNOWN, _RECEIPT, _JOURNAL, _TRACK, _TRACK_KEY, _TRACK_PARTS, _UNTRACK, _UNTRACK_KEYS)
)}  # fmt: skip
REPORT_COLUMNS = (
    "line", "msisdn", "message_id", "outcome", "reason", "remote_ids", "parts", "attempts",
    "sent_at", "deferred_until", "receipt", "receipt_error", "receipt_at",
)  # fmt: skip


def _lock(path: str) -> IO[bytes] | None:
    """An exclusive lock beside the job file: two processes must never share one journal."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        return None
    handle = open(path + ".lock", "wb")  # noqa: SIM115
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ConfigurationError(f"--job {path} is in use by another telco-channels process") from None
    return handle


def _ts(when: datetime | None) -> float | None:
    return when.timestamp() if when is not None else None


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None


class JobFile:
    """One send job. ``identity`` (campaign, channel) must match when an existing file is reopened."""

    def __init__(self, path: str | Path, *, campaign: str, channel: ChannelKind, targets: str) -> None:
        self.path = str(path)
        self._lock = _lock(self.path)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA busy_timeout = 5000")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigurationError(f"--job {self.path}: {exc}") from exc
        self._in_tx = False
        self._ops: dict[str, list[Sequence[Any]]] = {}
        self._commit_waiter: asyncio.Future[None] | None = None
        self.resumed = self._claim_identity(campaign, channel, targets)
        # A run that did not close the job died: claims it held may have no row here (see engine).
        self.crashed = self._meta("open") == "1"
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('open', '1')")

    def _claim_identity(self, campaign: str, channel: ChannelKind, targets: str) -> bool:
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        wanted = {"campaign": campaign, "channel": channel.value}
        if not meta:
            rows = [*wanted.items(), ("targets", targets), ("created", datetime.now(UTC).isoformat())]
            self.db.executemany("INSERT INTO meta VALUES (?, ?)", rows)
            return False
        for key, value in wanted.items():
            if meta.get(key) != value:
                raise ConfigurationError(
                    f"--job {self.path} belongs to {key} {meta.get(key)!r}, not {value!r}: "
                    "give another --job file for another campaign"
                )
        return self.db.execute("SELECT 1 FROM rows LIMIT 1").fetchone() is not None

    # -- transactions ------------------------------------------------------------------------------

    def _write(self, sql: str, params: Sequence[Any]) -> None:
        """Queue a write; queued writes run at the next read or commit, inside one transaction."""
        self._ops.setdefault(sql, []).append(params)

    def _read(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """A query that sees every queued write."""
        self._flush()
        return self.db.execute(sql, params)

    def _flush(self) -> None:
        if not self._ops:
            return
        ops, self._ops = self._ops, {}
        if not self._in_tx:
            self.db.execute("BEGIN")
            self._in_tx = True
        for sql in sorted(ops, key=_PRIORITY.__getitem__):
            self.db.executemany(sql, ops[sql])

    def commit(self) -> None:
        """Write the marks waiting for their group commit and everything recorded so far."""
        self._flush()
        if self._in_tx:
            self.db.execute("COMMIT")
            self._in_tx = False

    async def group_commit(self) -> None:
        """Commit, together with every other caller in this event-loop turn."""
        waiter = self._commit_waiter
        if waiter is None:
            loop = asyncio.get_running_loop()
            waiter = self._commit_waiter = loop.create_future()
            loop.call_soon(self._group_commit)
        await asyncio.shield(waiter)

    def _group_commit(self) -> None:
        waiter, self._commit_waiter = self._commit_waiter, None
        try:
            self.commit()
        except sqlite3.Error as exc:
            if waiter is not None and not waiter.done():
                waiter.set_exception(ConfigurationError(f"--job {self.path}: {exc}"))
            return
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self) -> None:
        """Commit and mark the job cleanly closed."""
        self.commit()
        self.db.execute("DROP INDEX IF EXISTS rows_id")  # rebuilt in bulk by the next resume
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('open', '0')")
        self.db.close()
        if self._lock is not None:
            self._lock.close()

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    # -- rows --------------------------------------------------------------------------------------

    def prepare_resume(self) -> None:
        """Index ids (in bulk) so rows can be found when a line's id has changed."""
        self.db.execute("CREATE INDEX IF NOT EXISTS rows_id ON rows (id)")

    def states(self, rows: Sequence[tuple[int, str]]) -> dict[int, str]:
        """For (line, message id) pairs: the state recorded for that message, by line."""
        out: dict[int, str] = {}
        for i in range(0, len(rows), _IN_CHUNK):
            chunk = rows[i : i + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            found = {
                line: (mid, state)
                for line, mid, state in self._read(
                    f"SELECT line, id, state FROM rows WHERE line IN ({marks})", [line for line, _ in chunk]
                )
            }
            for line, mid in chunk:
                stored = found.get(line)
                if stored is not None and stored[0] == mid:
                    out[line] = stored[1]
                elif stored is not None:  # the file changed since: look for the message elsewhere
                    row = self._read("SELECT state FROM rows WHERE id = ? LIMIT 1", (mid,)).fetchone()
                    if row is not None:
                        out[line] = row[0]
        return out

    def queue_mark(self, line: int, message_id: str, msisdn: str) -> None:
        """Note that this message is about to be submitted; durable at the next (group) commit."""
        self._write(_MARK, (line, message_id, msisdn, time.time()))

    async def mark_sending(self, line: int, message_id: str, msisdn: str) -> None:
        """Durably record that this message is about to be submitted (group commit)."""
        self.queue_mark(line, message_id, msisdn)
        await self.group_commit()

    def record(
        self,
        line: int,
        message_id: str | None,
        msisdn: str,
        state: str,
        *,
        reason: str | None = None,
        remote_ids: Sequence[str] = (),
        parts: int | None = None,
        until: datetime | None = None,
        sent_at: datetime | None = None,
    ) -> None:
        now = time.time()
        self._write(
            _RECORD,
            (line, message_id, msisdn, state, reason, " ".join(remote_ids) or None, parts, _ts(until),
             _ts(sent_at), now),
        )  # fmt: skip
        if state == "unknown":
            self._write(_JOURNAL, (line, message_id, now, reason))

    def record_invalid(self, line: int, msisdn: str, reason: str) -> None:
        self.record(line, None, msisdn, "invalid", reason=reason)

    def record_receipt(self, line: int, state: DeliveryState, error: str | None, at: datetime) -> None:
        """Store a message's final receipt state."""
        self._write(_RECEIPT, (state.value, error, at.timestamp(), time.time(), line))

    def stale_to_unknown(self) -> int:
        """Rows left ``sending`` by a process that died mid-submit become ``unknown`` (journalled)."""
        stale = self._read("SELECT line, id FROM rows WHERE state = 'sending'").fetchall()
        reason = "interrupted: the submit may have been written before the process died"
        now = time.time()
        for line, mid in stale:
            self._write(_UNKNOWN, (reason, now, line))
            self._write(_JOURNAL, (line, mid, now, reason))
        self.commit()
        return len(stale)

    def counts(self) -> dict[str, int]:
        return dict(self._read("SELECT state, COUNT(*) FROM rows GROUP BY state").fetchall())

    def receipt_counts(self) -> dict[str, int]:
        return dict(
            self._read(
                "SELECT receipt, COUNT(*) FROM rows WHERE receipt IS NOT NULL GROUP BY receipt"
            ).fetchall()
        )

    def unknown_journalled(self) -> int:
        return int(self._read("SELECT COUNT(DISTINCT line) FROM unknown_journal").fetchone()[0])

    def awaiting_receipts(self) -> int:
        return int(
            self._read("SELECT COUNT(*) FROM rows WHERE state = 'sent' AND receipt IS NULL").fetchone()[0]
        )

    def earliest_deferred(self) -> datetime | None:
        row = self._read("SELECT MIN(until) FROM rows WHERE state = 'deferred'").fetchone()
        return datetime.fromtimestamp(row[0], UTC) if row and row[0] is not None else None

    def report_rows(self) -> Iterator[dict[str, Any]]:
        """Every row in file order, as the report shows it (streamed from the database)."""
        cursor = self._read(
            "SELECT line, msisdn, id, state, reason, remote_ids, parts, attempts, sent_at, until, receipt,"
            " receipt_error, receipt_at FROM rows ORDER BY line"
        )
        for r in cursor:
            yield {
                "line": r[0], "msisdn": r[1], "message_id": r[2],
                "outcome": r[3], "reason": r[4], "remote_ids": r[5].split() if r[5] else [],
                "parts": r[6], "attempts": r[7], "sent_at": _iso(r[8]), "deferred_until": _iso(r[9]),
                "receipt": r[10], "receipt_error": r[11], "receipt_at": _iso(r[12]),
            }  # fmt: skip


class JobReceiptStore:
    """:class:`~channels.receipts.ReceiptStore` kept in the job file, with the newest ``cache``
    entries also in memory (receipts usually come within seconds, so lookups are dict probes; older
    entries, and those of an earlier run, are read back from disk). Memory stays bounded however
    many messages await receipts, and receipts that arrive after a restart still find their row.

    ``line_of`` tells the file line of a message just accepted (the journal knows it); when the
    tracker removes a message (final state), its line waits in :meth:`take_line` for the receipt.
    """

    def __init__(self, job: JobFile, line_of: Callable[[str], int | None], *, cache: int = 50_000) -> None:
        self.job = job
        self.line_of = line_of
        self.cache = cache
        self._mem: dict[str, tuple[Tracked, int]] = {}  # insertion order: oldest first
        self._by_key: dict[tuple[str, str], str] = {}
        self._keys: dict[str, list[tuple[str, str]]] = {}
        self._finished: dict[str, int] = {}

    def add(self, tracked: Tracked, keys: list[tuple[str, str]]) -> None:
        line = self.line_of(tracked.message_id)
        if line is None:
            return
        self._remember(tracked, line, keys)
        self.job._write(
            _TRACK,
            (tracked.message_id, line, tracked.channel.value, tracked.gateway, " ".join(tracked.remote_ids),
             tracked.deadline.timestamp(), "{}"),
        )  # fmt: skip
        for gateway, key in keys:
            self.job._write(_TRACK_KEY, (gateway, key, tracked.message_id))

    def _remember(self, tracked: Tracked, line: int, keys: list[tuple[str, str]]) -> None:
        self._mem[tracked.message_id] = (tracked, line)
        self._keys[tracked.message_id] = keys
        for k in keys:
            self._by_key[k] = tracked.message_id
        while len(self._mem) > self.cache:  # the oldest stay on disk only
            self._forget(next(iter(self._mem)))

    def _forget(self, message_id: str) -> tuple[Tracked, int] | None:
        entry = self._mem.pop(message_id, None)
        for k in self._keys.pop(message_id, []):
            self._by_key.pop(k, None)
        return entry

    def _load(self, row: tuple[Any, ...] | None) -> Tracked | None:
        if row is None:
            return None
        tracked = Tracked(
            message_id=row[0], channel=ChannelKind(row[2]), gateway=row[3], remote_ids=tuple(row[4].split()),
            deadline=datetime.fromtimestamp(row[5], UTC),
            part_states={k: DeliveryState(v) for k, v in json.loads(row[6]).items()},
        )  # fmt: skip
        self._mem[tracked.message_id] = (tracked, int(row[1]))
        return tracked

    def lookup(self, gateway: str, key: str) -> Tracked | None:
        mid = self._by_key.get((gateway, key))
        if mid is not None and mid in self._mem:
            return self._mem[mid][0]
        return self._load(
            self.job._read(
                "SELECT t.* FROM tracked_keys k JOIN tracked t ON t.message_id = k.message_id"
                " WHERE k.gateway = ? AND k.key = ?",
                (gateway, key),
            ).fetchone()
        )

    def get(self, message_id: str) -> Tracked | None:
        if message_id in self._mem:
            return self._mem[message_id][0]
        row = self.job._read("SELECT * FROM tracked WHERE message_id = ?", (message_id,)).fetchone()
        return self._load(row)

    def update(self, tracked: Tracked) -> None:
        parts = json.dumps({k: v.value for k, v in tracked.part_states.items()})
        self.job._write(_TRACK_PARTS, (parts, tracked.message_id))

    def due(self, now: datetime) -> list[Tracked]:
        rows = self.job._read("SELECT * FROM tracked WHERE deadline <= ? LIMIT 10000", (now.timestamp(),))
        out = []
        for row in rows.fetchall():
            cached = self._mem.get(row[0])
            tracked = cached[0] if cached is not None else self._load(row)
            if tracked is not None and not tracked.done:
                out.append(tracked)
        return out

    def remove(self, message_id: str) -> None:
        entry = self._forget(message_id)
        if entry is not None:
            self._finished[message_id] = entry[1]
        self.job._write(_UNTRACK, (message_id,))
        self.job._write(_UNTRACK_KEYS, (message_id,))

    def take_line(self, message_id: str) -> int | None:
        """The line of a message the tracker has just finished (once)."""
        return self._finished.pop(message_id, None)

    def __len__(self) -> int:
        return int(self.job._read("SELECT COUNT(*) FROM tracked").fetchone()[0])
