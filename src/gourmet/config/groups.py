"""The groups of settings, one model each: read from ``GOURMET_<GROUP>__<NAME>``.

Comments say why a setting exists; how a value was chosen, measured, is in docs/results.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from gourmet.money import check_currency

STATION_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
DEFAULT_PRINTER_PORT = 9100
# The sandbox card provider that `gourmet run` starts when payments point here.
SANDBOX_PAYMENTS_URL = "http://127.0.0.1:8200"
STRIPE_JS_URL = "https://js.stripe.com/v3/"  # Stripe requires Stripe.js loaded from Stripe
STRIPE_KEY_MIN_LENGTH = 32  # Stripe's secret keys are about a hundred characters


class Group(BaseModel):
    """A group refuses names it does not have: a misspelt setting is an error, not a default."""

    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(Group):
    """An explicit URL, or the embedded PostgreSQL kept under ``data_dir``; the pool's guards."""

    url: str | None = None
    # PgBouncer in transaction mode between the pools and PostgreSQL: the pools then prepare no
    # statements on the server (a transaction-mode pooler hands each transaction to any server
    # connection) and send no startup options (PgBouncer refuses them; its connect_query sets
    # the same guards, see db/pgbouncer.py), and LISTEN, which needs a session of its own, goes
    # straight to PostgreSQL at listen_url.
    pooler: Literal["none", "pgbouncer"] = "none"
    listen_url: str | None = None
    name: str = "gourmet"
    pool_min_size: int = Field(default=2, ge=0)
    pool_max_size: int | None = Field(
        default=None, ge=1, le=200, description="None: derived from the connection budget"
    )
    pool_timeout_s: float = Field(default=2.0, gt=0, description="longest wait for a connection")
    pool_max_waiting: int = Field(default=64, ge=0, description="0 means unbounded")
    pool_max_lifetime_s: float = Field(default=1800.0, gt=0)
    pool_check_idle_s: float = Field(
        default=1.0, ge=0, description="check connections idle longer than this before use"
    )
    statement_timeout_ms: int = Field(default=2000, ge=0)
    idle_in_transaction_timeout_ms: int = Field(default=5000, ge=0)
    lock_timeout_ms: int = Field(default=1000, ge=0)
    pool_leak_threshold_s: float = Field(
        default=2.0, gt=0, description="log a connection held longer than this"
    )
    # The connection budget: what PostgreSQL allows, minus what is kept for other clients
    # (operators, migrations, monitoring), shared by every process of every replica.
    reserved_connections: int = Field(default=10, ge=0)


class ServerSettings(Group):
    """The HTTP server, its connections and its shutdown."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default_factory=lambda: len(os.sched_getaffinity(0)), ge=1)
    replicas: int = Field(default=1, ge=1, description="app replicas sharing the database")
    # Links in emails point here.
    public_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Proxies whose X-Forwarded-For is believed (addresses or networks, e.g. the load balancer's);
    # from anyone else the header is ignored, so a client cannot pick the address it is limited as.
    trusted_proxies: list[str] = Field(default_factory=list)
    # A bounded accept queue (granian's minimum is 128): beyond it Linux drops new connection
    # attempts, and clients retry them after a second, instead of waiting in a queue of thousands
    # for a worker that reaches them after they left.
    backlog: int = Field(default=256, ge=128)
    # Open connections one worker serves at once (granian's "backpressure", which otherwise
    # follows the backlog). Each keep-alive browser and each live order or kitchen stream holds
    # one; a connection over the cap is not even accepted, so the cap must stay far above the
    # backlog. Database work is bounded by admission control, not by this.
    max_connections: int = Field(default=4096, ge=1)
    # A client that has not sent a whole request head within this long is disconnected: idle
    # one-byte connections must not pile up to the connection cap (granian's default is 30 s).
    header_read_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # granian starts that timeout at the first byte: a connection that has sent none this long
    # after connecting is closed by its worker's sweep (resilience/connections.py).
    first_byte_timeout_s: float = Field(default=2.0, ge=0.5, le=60)
    # Connections one client address may hold on one worker; the quietest beyond are closed.
    # The trusted proxies are exempt: every client arrives through them.
    connections_per_address: int = Field(default=256, ge=8)
    connection_sweep_s: float = Field(default=0.5, ge=0.05, le=5, description="sweep interval")
    # A request body must arrive whole within this long (408 otherwise), on every route.
    body_read_timeout_s: float = Field(default=5.0, ge=0.5, le=60)
    # Two servers on one port split its traffic silently: another may join (SO_REUSEPORT) only
    # when both say so; otherwise a port already served refuses a second server.
    share_port: bool = False
    shutdown_timeout_s: float = Field(default=10.0, gt=0)
    # On SIGTERM, readiness answers 503 for this long while requests are still served, so a load
    # balancer (or Kubernetes) stops sending traffic before the listener closes.
    drain_s: float = Field(default=5.0, ge=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # raises for anything else
        return value


class AdmissionSettings(Group):
    """Admission control and the waiting line (hardened profile only)."""

    deadline_s: float = Field(default=3.0, gt=0, description="default budget of a request")
    # An order attempt's whole time from its arrival, its wait in line included: below the ten
    # seconds after which browsers' fetches, API clients, proxies and people give up (sending
    # no deadline), so that no order is placed for a client that has gone (line_policy.py).
    checkout_budget_s: float = Field(
        default=8.0, gt=0, le=60, description="an order attempt's time from arrival, line included"
    )
    limiter_initial: int = Field(default=20, ge=1)
    limiter_min: int = Field(default=4, ge=1)
    limiter_max: int = Field(default=100, ge=1)
    # A request finding the limit full may wait this long for a slot (a burst, not overload).
    limiter_burst_wait_ms: float = Field(default=5.0, ge=0)
    shed_retry_after_s: tuple[int, int] = (1, 3)
    # The waiting room (resilience/waiting_room.py): order attempts that find checkout's share
    # full wait in a line of at most this many per process, each for at most hold seconds and
    # never past its checkout budget (line_policy.py). Each held customer keeps a connection
    # open, so the server's max_connections must leave room beside the line.
    waiting_room_size: int = Field(default=3000, ge=0, description="0: refuse at once instead")
    waiting_room_hold_s: float = Field(
        default=6.5, ge=0, description="longest wait in line within one request"
    )
    # What the room keeps in memory per process: the customers held in line and those counted
    # in line while away (with their Idempotency-Key). At the bound, a newcomer gets the room's
    # "full" answer (their place and when to come back) and nothing more is kept for them.
    waiting_room_max_bytes: int = Field(default=32 * 1024 * 1024, ge=0)
    # Checkouts per second one worker sustains with headroom (make bench measures it): the
    # growth alerts' capacity.
    checkouts_per_worker: float = Field(default=400.0, gt=0)


class PaymentsSettings(Group):
    """Card payments: the provider (the sandbox, started by `gourmet run`, or Stripe) and its
    guards."""

    # sandbox: Gourmet's own test provider at `url` (none: pay at pickup only); stripe: a
    # Stripe account, its keys below (docs/operating/payments.md says how to go live).
    provider: Literal["sandbox", "stripe"] = "sandbox"
    url: str | None = SANDBOX_PAYMENTS_URL
    # Secrets: read from the environment, never logged or printed (SecretStr).
    stripe_secret_key: SecretStr | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: SecretStr | None = None
    # Another server speaking Stripe's API, and its Stripe.js (the tests' local stand-in).
    stripe_api_url: str | None = None
    stripe_js_url: str = STRIPE_JS_URL
    timeout_s: float = Field(default=2.5, gt=0, description="a whole charge call")
    breaker_failures: int = Field(default=5, ge=1, description="failures in a row that open it")
    breaker_open_s: float = Field(default=30.0, gt=0, description="how long it stays open")
    # A card order still unpaid this long is cancelled: its slot place and stock go back.
    unpaid_expiry_minutes: int = Field(default=15, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _stripe_needs_its_keys(self) -> PaymentsSettings:
        if self.provider != "stripe":
            return self
        missing = [
            f"GOURMET_PAYMENTS__{name.upper()}"
            for name in ("stripe_secret_key", "stripe_publishable_key", "stripe_webhook_secret")
            if not getattr(self, name)
        ]
        if missing:
            raise ValueError(f"GOURMET_PAYMENTS__PROVIDER=stripe needs {', '.join(missing)}")
        return self

    def live_problem(self) -> str | None:
        """Why these payments cannot take real money (production refuses them), or None."""
        if self.provider == "sandbox":
            if not self.url:
                return None  # pay at pickup only: no card is taken
            return (
                "GOURMET_PAYMENTS__PROVIDER is the sandbox, which takes no real money: set it"
                " to stripe with the account's live keys, or GOURMET_PAYMENTS__URL to nothing"
                " for pay at pickup only"
            )
        secret = self.stripe_secret_key.get_secret_value() if self.stripe_secret_key else ""
        if secret.startswith(("sk_test_", "rk_test_")) or str(
            self.stripe_publishable_key
        ).startswith("pk_test_"):
            return "Stripe test-mode keys take no real money: production needs the live keys"
        if len(secret) < STRIPE_KEY_MIN_LENGTH or "CHANGE-ME" in secret:
            return (
                "GOURMET_PAYMENTS__STRIPE_SECRET_KEY is not a Stripe key (a placeholder?): copy"
                " the live secret key from Stripe's dashboard"
            )
        if self.stripe_api_url or self.stripe_js_url != STRIPE_JS_URL:
            return (
                "GOURMET_PAYMENTS__STRIPE_API_URL and _JS_URL point at a stand-in for tests:"
                " production talks to Stripe itself (unset them)"
            )
        return None


class NotificationsSettings(Group):
    """Customers' emails and text messages, and the outbox that sends them."""

    # smtp://host:port, smtps:// or smtp+starttls://, user:password@ allowed; none: no email.
    # `gourmet run` starts a local sink and sets it.
    smtp_url: str | None = None
    mail_from: str = "Gourmet Delights <orders@gourmet-delights.example>"
    # "ready" text messages: "sandbox" writes them to <data dir>/sms.jsonl; "off" sends none.
    sms: Literal["off", "sandbox"] = "off"
    # Each process looks for due jobs this often, and a job taken by a worker that then died is
    # handed on after the lease.
    outbox_every_s: float = Field(default=1.0, gt=0, le=60)
    outbox_lease_s: float = Field(default=60.0, ge=5, le=3600)
    # Tries of a job that keeps failing for now (provider or mail server down) before it is
    # failed for an operator: with delays doubling from 2 s to 5 minutes, 30 is 1.5 to 2 hours.
    outbox_max_attempts: int = Field(default=30, ge=1, le=1000)


class SecuritySettings(Group):
    """Staff access, sessions, and the limits on what one client may do."""

    # Cookies carry Secure when the site is served over HTTPS (behind a TLS proxy, say).
    cookie_secure: bool = False
    # The shared staff credential, kept beside accounts as the admin role (docs, "Staff access").
    staff_token: str | None = None
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # New accounts one client address may make in an hour (0: no limit).
    sign_ups_per_hour: int = Field(default=10, ge=0)
    # Password reset links one client address may ask for, or use, in an hour (0: no limit).
    password_resets_per_hour: int = Field(default=10, ge=0)
    # Checkout attempts per client within the window: per account when signed in, else per
    # address (0: no limit). A family or an office orders a few times an evening; a script
    # filling every slot of the day with pay-at-pickup orders is stopped after this many.
    checkouts_per_client: int = Field(default=30, ge=0)
    checkout_window_s: int = Field(default=600, ge=1)
    # Wrong sign-ins counted within a window (accounts/throttle.py): per account from one
    # address, per address over all accounts, per account from anywhere (a browser that signed
    # in to the account before is exempt from the last).
    sign_in_window_s: int = Field(default=300, ge=1)
    sign_in_failures: int = Field(default=5, ge=1)
    sign_in_failures_per_address: int = Field(default=30, ge=1)
    sign_in_failures_per_account: int = Field(default=100, ge=1)


class OrdersSettings(Group):
    """Idempotency keys and the tracking views held in memory."""

    # Idempotency keys make a retried checkout safe; a key is kept this long, then pruned (a
    # retry after two days is a new order). Each process prunes every idempotency_prune_every_s.
    idempotency_retention_hours: float = Field(default=48.0, gt=0)
    idempotency_prune_every_s: float = Field(default=600.0, gt=0)
    # Each process holds the views of this many recently read orders (0: every read goes to the
    # database, as in the incident profile).
    views_held: int = Field(default=5000, ge=0)


class KitchenSettings(Group):
    """Busy mode by itself, tickets and their printers."""

    # With this many orders due soon waiting for the kitchen (0: never), add auto_busy_minutes of
    # lead time for 30 minutes (the kitchen can end it sooner).
    auto_busy_backlog: int = Field(default=0, ge=0)
    auto_busy_minutes: int = Field(default=15, ge=1, le=120)
    # Station printers, ESC/POS over TCP: a station's name, and its printer's host or host:port
    # (9100 by default), e.g. {"kitchen": "192.168.1.40"}. Each prints a ticket of each order
    # the kitchen accepts.
    printers: dict[str, str] = Field(default_factory=dict)
    # New orders are accepted as they arrive (their tickets printed), not by a cook's tap.
    auto_accept: bool = False
    # The board sounds an alarm for an order nobody has accepted within this long (0: never).
    unaccepted_alarm_minutes: float = Field(default=5, ge=0, le=120)

    @field_validator("printers")
    @classmethod
    def _printers(cls, value: dict[str, str]) -> dict[str, str]:
        for station, address in value.items():
            if not STATION_NAME.fullmatch(station):
                raise ValueError(f"{station!r} is not a station name (letters, digits, - and _)")
            printer_address(address)  # raises for anything else
        return value


class RestaurantSettings(Group):
    """Prices, charges and pages in this currency (ISO 4217, counted in cents), in this zone."""

    currency: str = "USD"
    timezone: str = "America/New_York"
    slot_days_ahead: int = Field(default=2, ge=1, le=14)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return check_currency(value)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value


class LogsSettings(Group):
    """JSON lines for machines, or readable lines for a developer's terminal."""

    json_lines: bool = False
    # Share of fast successful requests that get an access line (errors and slow ones always).
    ok_sample: float = Field(default=0.05, ge=0, le=1)
    slow_ms: float = Field(default=250.0, gt=0)
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


def printer_address(address: str) -> tuple[str, int]:
    """``host`` or ``host:port`` (9100 by default); ValueError for anything else."""
    host, sep, port = address.strip().rpartition(":")
    if not sep:
        host, port = port, str(DEFAULT_PRINTER_PORT)
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host) or not port.isdigit():
        raise ValueError(f"{address!r} is not a printer address (host or host:port)")
    if not 0 < int(port) < 65536:
        raise ValueError(f"{address!r} is not a printer address (port 1 to 65535)")
    return host, int(port)


def group_default(group: type[Group], name: str) -> Any:
    """The default of one setting, for code below the settings that needs the same value when
    built without them (tests, tools): one default per setting, written once, here."""
    return group.model_fields[name].default
