"""A local SMTP server that keeps what it receives, for the embedded stack and the tests.

Messages are stored as .eml files under one folder. A message whose Message-ID was already
received is counted but not stored again: retried deliveries collapse into one message.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self._sink.receive(bytes(envelope.content))
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(
        self,
        directory: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 2525,
        on_message: Callable[[EmailMessage], None] | None = None,
    ) -> None:
        self.directory = directory
        self.host, self.port = host, port
        self.on_message = on_message
        self.transactions = 0
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        directory.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def receive(self, content: bytes) -> None:
        message = BytesParser(policy=policy.default).parsebytes(content)
        assert isinstance(message, EmailMessage)
        key = hashlib.sha256(str(message["Message-ID"]).strip().encode()).hexdigest()[:32]
        with self._lock:
            self.transactions += 1
            if not any(self.directory.glob(f"*-{key}.eml")):
                sequence = len(list(self.directory.glob("*.eml"))) + 1
                target = self.directory / f"{sequence:08d}-{key}.eml"
                partial = target.with_suffix(".part")
                partial.write_bytes(content)
                partial.replace(target)
        if self.on_message is not None:
            self.on_message(message)

    def messages(self) -> list[EmailMessage]:
        """Stored messages in order of arrival."""
        parsed = []
        for path in sorted(self.directory.glob("*.eml")):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed
