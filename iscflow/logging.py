"""structlog, configured once per entry point: console on a terminal, JSON otherwise."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

# A signed e-mail link's token (`base64url(payload).base64url(mac)`, domain/links.py), as it
# appears in a request path that an access log writes down.
SIGNED_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return SIGNED_TOKEN.sub(REDACTED, text)


class RedactSignedLinks(logging.Filter):
    """Blanks signed-link tokens in log records: whoever reads the logs must not be able to
    approve an escalation or change someone's preferences with them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redacted(v) for k, v in record.args.items()}
        return True


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def _redacting(logger: logging.Logger | logging.Handler) -> None:
    if not any(isinstance(f, RedactSignedLinks) for f in logger.filters):
        logger.addFilter(RedactSignedLinks())


def configure_logging(level: str = "INFO", *, json: bool | None = None) -> None:
    use_json = (not sys.stderr.isatty()) if json is None else json
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    _redacting(handler)
    # Uvicorn's access log may have handlers of its own (`iscflow api`): filter at the logger.
    _redacting(logging.getLogger("uvicorn.access"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
