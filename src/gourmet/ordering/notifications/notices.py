"""Telling customers what happens to their order: an email on confirmed, accepted (with the
time), ready, rejected (with the reason), cancelled, delayed and refunded, and a text message
when it is ready.

:meth:`Notices.order_event` writes the message's job into the outbox in the transaction that
makes the change, so a message exists exactly when its change committed, is never lost to a
restart, and is written once (its ``event_key`` is unique: ``email:<order>:<event>``). The
outbox worker sends it later (:class:`CustomerMail`, :class:`ReadyText`): a request never waits
on a mail server and never holds a connection for one. Content is rendered when sent, from the
order as it is then, in plain text and HTML (``emails/``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import jinja2
from psycopg.types.json import Jsonb

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.money import Money
from gourmet.notify.addresses import InvalidEmail, one_mailbox
from gourmet.notify.sms import SmsProvider, SmsUnavailable
from gourmet.notify.smtp import MailRejected, MailSender, MailUnavailable
from gourmet.ordering.notifications import outbox
from gourmet.ordering.notifications.outbox import GiveUp, Job, RetryLater
from gourmet.ordering.tracking import repository as tracking_repo

EMAIL: Final = "email"
RESET: Final = "password-reset"  # an account's email, not an order's
SMS: Final = "sms"
SUBJECTS: Final = {
    "confirmed": "Order {n} confirmed",
    "accepted": "Order {n} accepted",
    "ready": "Order {n} is ready",
    "rejected": "Order {n} could not be taken",
    "cancelled": "Order {n} was cancelled",
    "delayed": "Order {n} will be a little later",
    "refunded": "Refund for order {n}",
}
# Status changes a customer hears of (the others, preparing or completed, are on the page).
STATUS_EVENTS: Final = frozenset({"accepted", "ready", "rejected", "cancelled"})
TEMPLATES = Path(__file__).with_name("emails")


@dataclass(frozen=True)
class Notices:
    """Which channels are on; writes an event's jobs for those that are."""

    email: bool = False
    sms: bool = False

    async def order_event(
        self,
        conn: Conn,
        order_id: int,
        event: str,
        tag: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """In the caller's transaction: tell the order's customer of ``event``. ``tag`` tells
        apart events that may happen more than once (each delay, each refund); ``details`` are
        what the message says of this one (a refund's amount and reason)."""
        suffix = f":{tag}" if tag else ""
        if self.email:
            await conn.execute(
                "INSERT INTO outbox (kind, event_key, order_id, payload)"
                " SELECT 'email', %s, id, %s FROM orders WHERE id = %s AND email IS NOT NULL"
                " ON CONFLICT (event_key) DO NOTHING",
                (
                    f"email:{order_id}:{event}{suffix}",
                    Jsonb({**(details or {}), "event": event}),
                    order_id,
                ),
            )
        if self.sms and event == "ready":
            await outbox.enqueue(conn, SMS, f"sms:{order_id}:ready", order_id, {"event": event})

    async def password_reset(self, conn: Conn, account_id: int, email: str, token: str) -> None:
        """In the caller's transaction: mail ``email`` the link that spends ``token``. The token
        waits in the job until it is sent, then is struck from it (see CustomerMail)."""
        if not self.email:
            return
        key = f"email:account:{account_id}:reset:{hashlib.sha256(token.encode()).hexdigest()[:16]}"
        payload = {"event": RESET, "to": email, "token": token}
        await outbox.enqueue(conn, EMAIL, key, None, payload)


class CustomerMail:
    """The ``email`` jobs' handler: renders the event's message and sends it over SMTP."""

    def __init__(
        self,
        pool: GuardedPool,
        sender: MailSender,
        *,
        from_address: str,
        public_url: str,
        tz: ZoneInfo,
        money: Money,
    ) -> None:
        self._pool = pool
        self._sender = sender
        self._from = from_address
        self._public_url = public_url.rstrip("/")
        self._tz = tz
        self._money = money
        loader = jinja2.FileSystemLoader(TEMPLATES)
        self._text = jinja2.Environment(loader=loader, autoescape=False, keep_trailing_newline=True)  # noqa: S701 - plain text, never HTML
        self._html = jinja2.Environment(loader=loader, autoescape=True)

    async def __call__(self, job: Job) -> None:
        if job.payload.get("event") == RESET:
            await self._send_reset(job)
            return
        async with self._pool.connection() as conn:
            order = await tracking_repo.order_mail_row(conn, job.order_id or 0)
        if order is not None and order["email"]:
            recipient = _recipient(order["email"])
            message = self.compose(
                {**order, "email": recipient},
                str(job.payload["event"]),
                job.event_key,
                details=job.payload,
            )
            await self._deliver(message, recipient)
        async with self._pool.connection() as conn:
            await outbox.mark_done(conn, job.id)

    async def _send_reset(self, job: Job) -> None:
        token = job.payload.get("token")
        if token:  # struck out once sent: a job read later holds no usable link
            recipient = _recipient(str(job.payload["to"]))
            # The token travels in the fragment: never in a request line, a log or a Referer.
            link = f"{self._public_url}/account/reset#token={token}"
            values = {"link": link, "money": self._money}
            message = EmailMessage()
            message["Subject"] = "Choose a new password - Gourmet Delights"
            message["From"] = self._from
            message["To"] = recipient
            message["Message-ID"] = make_msgid(
                idstring=job.event_key.replace(":", "."), domain="gourmet"
            )
            message.set_content(self._text.get_template("password_reset.txt").render(values))
            message.add_alternative(
                self._html.get_template("password_reset.html").render(values), subtype="html"
            )
            await self._deliver(message, recipient)
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                "UPDATE outbox SET payload = payload - 'token' WHERE id = %s", (job.id,)
            )
            await outbox.mark_done(conn, job.id)

    async def _deliver(self, message: EmailMessage, recipient: str) -> None:
        """Send, or say whether trying again can help."""
        try:
            await self._sender.send(message, recipient)
        except MailUnavailable as exc:
            raise RetryLater(str(exc)) from exc
        except MailRejected as exc:
            raise GiveUp(str(exc)) from exc

    def compose(
        self,
        order: dict[str, Any],
        event: str,
        event_key: str,
        details: Mapping[str, Any] | None = None,
    ) -> EmailMessage:
        number = order["id"]
        ready_at = self._clock(order["estimated_ready_at"])
        history = order["history"] or []
        values = {
            "order": {**order, "number": number},
            "link": f"{self._public_url}/orders/{order['token']}",
            "money": self._money,
            "ready_at": ready_at,
            "when": f"as soon as possible, about {ready_at}" if order["asap"] else f"at {ready_at}",
            "reason": history[-1].get("reason") if history else None,
            "details": details or {},
        }
        message = EmailMessage()
        message["Subject"] = SUBJECTS[event].format(n=number) + " - Gourmet Delights"
        message["From"] = self._from
        message["To"] = order["email"]
        message["Message-ID"] = make_msgid(idstring=event_key.replace(":", "."), domain="gourmet")
        message.set_content(self._text.get_template(f"{event}.txt").render(values))
        message.add_alternative(
            self._html.get_template(f"{event}.html").render(values), subtype="html"
        )
        return message

    def _clock(self, moment: datetime) -> str:
        local = moment.astimezone(self._tz)
        return f"{local:%H:%M} on {local:%A} {local.day} {local:%B}"


def _recipient(address: str) -> str:
    """Checked again when sent: an order stored before checkout checked it may hold a list."""
    try:
        return one_mailbox(address)
    except InvalidEmail as exc:
        raise GiveUp(f"not one email address: {exc.detail}") from exc


class ReadyText:
    """The ``sms`` jobs' handler: "your order is ready" to the order's phone."""

    def __init__(self, pool: GuardedPool, provider: SmsProvider) -> None:
        self._pool = pool
        self._provider = provider

    async def __call__(self, job: Job) -> None:
        async with self._pool.connection() as conn:
            order = await tracking_repo.order_mail_row(conn, job.order_id or 0)
        if order is not None and order["phone"]:
            text = f"Gourmet Delights: order {order['id']} is ready."
            try:
                await self._provider.send(
                    to=order["phone"], text=text, idempotency_key=job.event_key
                )
            except SmsUnavailable as exc:
                raise RetryLater(str(exc)) from exc
        async with self._pool.connection() as conn:
            await outbox.mark_done(conn, job.id)
