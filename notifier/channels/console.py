"""Writes each message as one JSON line to a file or stdout: the default with no provider."""

from __future__ import annotations

import json
import sys
import threading
import uuid
from dataclasses import asdict
from typing import TextIO

from notifier.channels.base import Message, Receipt


class ConsoleChannel:
    name = "console"

    def __init__(self, path: str = "-") -> None:
        self._lock = threading.Lock()
        self._own = path != "-"
        self._out: TextIO = open(path, "a", encoding="utf-8") if self._own else sys.stdout  # noqa: SIM115

    def send(self, message: Message) -> Receipt:
        provider_id = f"console-{uuid.uuid4().hex[:16]}"
        line = json.dumps({**asdict(message), "provider_id": provider_id}, ensure_ascii=False)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()
        return Receipt(provider_id=provider_id)

    def close(self) -> None:
        if self._own:
            self._out.close()
