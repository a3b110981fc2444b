"""What a simulator received, decoded to what the subscriber would see, for tests and for people.

Every simulator appends one record (a JSON-able dict) per message it received. Tests read
``recorder.records``; ``--record FILE.jsonl`` appends each record as one line, flushed at once so a
person can ``tail -f`` it. Records hold full numbers and texts on purpose: they are test output, not
logs.

A simulator under load may hand in its commonest record as a flat tuple of strings, numbers and
octets instead (:attr:`Recorder.record_row`) with the function that expands it: a record is then one
object the garbage collector stops tracking, not a dict and its lists that every full collection
walks again (with a million records kept, that walk was a fifth of the SMSC simulator's CPU). Rows
are expanded the first time ``records`` is read, and from then on as they come, so readers only
ever see dicts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

Row = tuple[Any, ...]


class Recorder:
    def __init__(
        self,
        path: str | Path | None = None,
        *,
        keep: int | None = None,
        expand: Callable[[Row], dict[str, Any]] | None = None,
    ) -> None:
        """``keep``: how many records to hold in memory (None: all); the file gets every record.
        ``expand``: turns a row given to :attr:`record_row` into its record."""
        self._kept: list[Any] = []  # records, and rows not expanded yet
        self._dropped = 0  # records no longer held (keep)
        self._expanded = False  # records has been read: rows are expanded as they come
        self._keep = keep
        self._expand = expand
        self._file: IO[str] | None = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115
        self.record_row: Callable[[Row], None] = self._record_row
        """A record as a flat tuple of str, bytes, int, float and None, which ``expand`` turns into
        its dict (when the records are read, or at once for the file). While that is all there is to
        do (no file, no ``keep``, records not read yet), it is the list's own ``append``: one C call
        per message, not a method."""
        self._choose_record_row()

    @property
    def count(self) -> int:
        """How many records were made (held, and let go under ``keep``)."""
        return self._dropped + len(self._kept)

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record held, oldest first (one list, which later records extend)."""
        if not self._expanded:
            expand = self._expand
            if expand is not None:
                self._kept = [expand(r) if type(r) is tuple else r for r in self._kept]
            self._expanded = True
            self._choose_record_row()
        return self._kept

    def record(self, record: dict[str, Any]) -> None:
        self._kept.append(record)
        self._trim()
        if self._file is not None:
            self._write(record)

    def _choose_record_row(self) -> None:
        plain = self._expand is not None and not self._expanded and self._keep is None and self._file is None
        self.record_row = self._kept.append if plain else self._record_row

    def _record_row(self, row: Row) -> None:
        expand = self._expand
        if expand is None:
            raise TypeError("record_row needs a Recorder made with expand=")
        self._kept.append(expand(row) if self._expanded else row)
        if self._keep is not None:
            self._trim()
        if self._file is not None:
            self._write(expand(row))

    def _trim(self) -> None:
        if self._keep is not None and len(self._kept) > self._keep:
            extra = len(self._kept) - self._keep
            del self._kept[:extra]
            self._dropped += extra

    def _write(self, record: dict[str, Any]) -> None:
        assert self._file is not None
        self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._file.flush()

    def find(self, **match: Any) -> list[dict[str, Any]]:
        return [r for r in self.records if all(r.get(k) == v for k, v in match.items())]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self._kept)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._choose_record_row()
