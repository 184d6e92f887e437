"""Email through a real SMTP server (aiosmtplib), with failures sorted as the caller must act:
:class:`MailUnavailable` (transient: the server is down, slow, or said 4xx; send again later) and
:class:`MailRejected` (final: the server refused the message or its recipient with 5xx).

Each message carries a ``Message-ID`` made from its event, so a message that was sent but whose
acknowledgement was lost (the one window an outbox cannot close) shows as the same message twice,
and mail clients file it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import urlsplit

import aiosmtplib


class MailUnavailable(Exception):  # noqa: N818 - reads as the condition it reports
    """Transient: try again later."""


class MailRejected(Exception):  # noqa: N818 - reads as what the server did
    """Final: the server refused the message or its recipient."""


class MailSender(Protocol):
    async def send(self, message: EmailMessage, recipient: str) -> None:
        """Send ``message`` to ``recipient`` alone, whatever its headers say."""


@dataclass(frozen=True)
class SmtpSender:
    """Sends to the SMTP server at ``url`` (``smtp://host:port``; ``smtps://`` for implicit TLS,
    ``smtp+starttls://`` to upgrade), with optional credentials in the URL."""

    url: str
    timeout_s: float = 10.0

    async def send(self, message: EmailMessage, recipient: str) -> None:
        parts = urlsplit(self.url)
        try:
            await aiosmtplib.send(
                message,
                # The envelope, not the headers, says who receives it: one RCPT TO, always.
                recipients=[recipient],
                hostname=parts.hostname or "127.0.0.1",
                port=parts.port or (465 if parts.scheme == "smtps" else 25),
                username=parts.username,
                password=parts.password,
                use_tls=parts.scheme == "smtps",
                start_tls=parts.scheme == "smtp+starttls",
                timeout=self.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if all(error.code >= 500 for error in exc.recipients):
                raise MailRejected(f"recipient refused: {exc}") from exc
            raise MailUnavailable(f"recipient deferred: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise MailRejected(f"SMTP server refused the message: {exc}") from exc
            raise MailUnavailable(f"SMTP server deferred the message: {exc}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailUnavailable(f"SMTP server unreachable: {exc!r}") from exc
