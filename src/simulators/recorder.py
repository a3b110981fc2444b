"""What a simulator received, decoded to what the subscriber would see, for tests and for people.

Every simulator appends one record (a JSON-able dict) per message it received. Tests read
``recorder.records``; ``--record FILE.jsonl`` appends each record as one line, flushed at once so a
person can ``tail -f`` it. Records hold full numbers and texts on purpose: they are test output, not
logs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


class Recorder:
    def __init__(self, path: str | Path | None = None, *, keep: int | None = None) -> None:
        """``keep``: how many records to hold in memory (None: all); the file gets every record."""
        self.records: list[dict[str, Any]] = []
        self._keep = keep
        self._file: IO[str] | None = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115
        self.count = 0

    def record(self, record: dict[str, Any]) -> None:
        self.count += 1
        self.records.append(record)
        if self._keep is not None and len(self.records) > self._keep:
            del self.records[: len(self.records) - self._keep]
        if self._file is not None:
            self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            self._file.flush()

    def find(self, **match: Any) -> list[dict[str, Any]]:
        return [r for r in self.records if all(r.get(k) == v for k, v in match.items())]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
