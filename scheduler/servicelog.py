"""How the service speaks: standard ``logging``, one stream (stderr), a line per event.

Text on a terminal (``2026-11-30T09:00:01.250Z INFO  delivered content/a.md → mastodon  item=a
channel=mastodon``), JSON lines for log collectors (``--log-format json``: ``time``, ``level``,
``logger``, ``message`` and the event's fields). Fields are passed as ``extra={"fields": {...}}``.
APScheduler's own loggers go through the same handler, so its warnings carry a time and a level too.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

LOGGER = "newsroom.serve"


def _time(record: logging.LogRecord) -> str:
    t = datetime.fromtimestamp(record.created, timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None) or {}
        line = f"{_time(record)} {record.levelname:<7} {record.getMessage()}"
        extra = "  ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        if extra:
            line += "  " + extra
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"time": _time(record), "level": record.levelname, "logger": record.name,
               "message": record.getMessage()}
        for k, v in (getattr(record, "fields", None) or {}).items():
            if v is not None:
                out.setdefault(k, v)
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(fmt: str = "text", stream=None) -> logging.Handler:
    """Send the service's lines (and APScheduler's warnings) to ``stream`` (stderr) in ``fmt``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    for name, level in ((LOGGER, logging.INFO), ("apscheduler", logging.WARNING)):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "_newsroom", False)]:
            logger.removeHandler(old)
        handler._newsroom = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    return handler
