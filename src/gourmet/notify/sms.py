"""Text messages: the provider interface and a sandbox.

A real provider (an HTTP API) implements :class:`SmsProvider`; the sandbox writes each message as
one JSON line to a file, where a developer or a test reads what a customer would have received.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class SmsUnavailable(Exception):  # noqa: N818 - reads as the condition it reports
    """Transient: try again later."""


class SmsProvider(Protocol):
    async def send(self, *, to: str, text: str, idempotency_key: str) -> None: ...


@dataclass(frozen=True)
class SandboxSms:
    """Appends ``{"to", "text", "key", "at"}`` to ``path``; a key already written is not written
    again (a provider's idempotency, as the payment sandbox has)."""

    path: Path

    async def send(self, *, to: str, text: str, idempotency_key: str) -> None:
        await asyncio.to_thread(self._append, to, text, idempotency_key)

    def _append(self, to: str, text: str, key: str) -> None:
        try:
            if any(m["key"] == key for m in read_sandbox(self.path)):
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            line = {"to": to, "text": text, "key": key, "at": datetime.now(UTC).isoformat()}
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")
        except OSError as exc:
            raise SmsUnavailable(str(exc)) from exc


def read_sandbox(path: Path) -> list[dict[str, str]]:
    """The messages the sandbox has sent, oldest first."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
