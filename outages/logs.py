"""Log lines as text or JSON (setting log.format), with phone numbers and emails masked.

A log line may carry a recipient (a provider's error message often repeats the number it
refused): both formats mask them, so logs shipped to a collector hold no contact data. JSON
lines carry the ids a record was given in `extra` (outage_id, notice_id,
provider_message_id), so a notice can be followed from the outbox to the provider.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# Ids a record may carry in `extra`, copied to JSON lines as they are.
IDS = ("outage_id", "notice_id", "provider_message_id")
TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"

# A run of 9 to 15 digits, maybe after a '+' and grouped by spaces: phone numbers in E.164
# or national form. Shorter runs (ids, error codes, counts) are left alone, and so are dates
# and times (digits joined by '-', ':' or '.'); but a '+' number right after a colon
# ("Number:+84912345678", as providers write it) is one.
_PHONE = re.compile(r"(?:(?<=:)\+|(?<![\w+:.-])\+?)\d(?: ?\d){8,14}(?![\w:.-])")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask(text: str) -> str:
    """`text` with phone numbers as '+8491*****78' and emails as 'n***@example.vn'."""
    return _PHONE.sub(_mask_phone, _EMAIL.sub(r"\1***@\2", text))


def _mask_phone(match: re.Match[str]) -> str:
    digits = match.group().replace(" ", "")
    head = 5 if digits.startswith("+") else 4
    return digits[:head] + "*" * (len(digits) - head - 2) + digits[-2:]


class TextFormatter(logging.Formatter):
    def __init__(self, fmt: str | None = TEXT_FORMAT, datefmt: str | None = None,
                 style: Any = "%", validate: bool = True, **kwargs: Any) -> None:
        super().__init__(fmt, datefmt, style, validate, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the ids it carries and
    the traceback of an exception."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:  # logging.config passes fmt
        super().__init__()

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        line.update({key: getattr(record, key) for key in IDS if hasattr(record, key)})
        if record.exc_info:
            line["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter_class(log_format: str) -> type[logging.Formatter]:
    return JsonFormatter if log_format == "json" else TextFormatter


# Libraries that describe each request or job at INFO: one line per notice is ours to write.
CHATTY = ("twilio.http_client", "apscheduler.executors.default")


def configure(log_format: str, level: int) -> None:
    """Route the root logger to standard error in `log_format` (text or json)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_class(log_format)())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
