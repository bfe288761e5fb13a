"""The rejects file of a bulk import: each bad row as given, plus where it was and why.

Written to a hidden file beside the target and renamed when the import finishes, so a crash
never leaves a half-written rejects file that looks complete.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from outages.errors import ValidationError
from outages.text import CsvWriter


class RejectsFile:
    """The rejects CSV, written to a hidden file beside the target and renamed when done."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        if path.is_dir():  # found now, before the import stores anything
            raise ValidationError(f"the rejects file {path} is a folder: give a file name, "
                                  f"e.g. {path / 'rejects.csv'}", field="rejects")
        self.path, self.header, self.count = path, list(header), 0
        self.temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._handle: IO[str] | None = None
        self._writer: Any = None

    def __enter__(self) -> RejectsFile:
        return self

    def add(self, values: Iterable[Any]) -> None:
        if self._writer is None:
            self._open()
        self._writer.writerow(values)
        self.count += 1

    def _open(self) -> None:
        try:
            self._handle = self.temp.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise ValidationError(f"cannot write the rejects file {self.path}: "
                                  f"{exc.strerror}", field="rejects") from None
        self._writer = CsvWriter(self._handle)
        self._writer.writerow(self.header)

    def commit(self) -> Path | None:
        """Put the finished file in place; None when there was nothing to reject."""
        if self._handle is None:
            return None
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._handle = None
        os.replace(self.temp, self.path)
        return self.path

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._handle is not None:
            self._handle.close()
            self.temp.unlink(missing_ok=True)
