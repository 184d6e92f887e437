"""A local SMTP sink (aiosmtpd): every message it receives is kept as an ``.eml`` file and
announced on a line, and nothing is delivered anywhere. ``gourmet run`` starts one on
127.0.0.1:8025 so that the customer emails of a local run can be read in ``var/mail/``.

    python -m gourmet.notify.sink --port 8025 --dir var/mail
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class MailFolder:
    """The aiosmtpd handler: writes each message to ``folder`` as ``<n>.eml``."""

    def __init__(self, folder: Path, *, say: bool = True) -> None:
        self.folder = folder
        self.say = say
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        content: bytes = envelope.original_content or envelope.content
        number = len(list(self.folder.glob("*.eml"))) + 1
        path = self.folder / f"{number:05d}.eml"
        path.write_bytes(content)
        if self.say:
            message = email.message_from_bytes(content, policy=email.policy.default)
            print(f"mail to {', '.join(envelope.rcpt_tos)}: {message['subject']} ({path})")
        return "250 Message accepted for delivery"


def read_folder(folder: Path) -> list[email.message.EmailMessage]:
    """The messages a sink kept, oldest first."""
    messages = []
    for path in sorted(folder.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        messages.append(parsed)
    return messages


def start(
    folder: Path, host: str = "127.0.0.1", port: int = 8025, *, say: bool = True
) -> Controller:
    """Start a sink in a thread of this process; ``.stop()`` it."""
    controller = Controller(MailFolder(folder, say=say), hostname=host, port=port)
    controller.start()
    return controller


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gourmet.notify.sink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args(argv)
    controller = start(args.dir, args.host, args.port)
    print(f"SMTP sink on {args.host}:{args.port}, keeping mail in {args.dir}")
    try:
        asyncio.run(asyncio.Event().wait())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
