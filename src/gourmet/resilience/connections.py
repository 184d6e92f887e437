"""Each worker closes the connections granian would otherwise hold for ever.

granian (hyper underneath) starts its header read timeout at a connection's first byte and has
no idle timeout of its own: a socket that connects and sends nothing keeps one of the worker's
GOURMET_SERVER__MAX_CONNECTIONS for good, and 8,706 of them locked every customer out. The accept
loop is Rust, out of reach of a Python guard, so a thread in each worker sweeps the worker's own
connections every GOURMET_SERVER__CONNECTION_SWEEP_S (its descriptors, and the kernel's TCP_INFO of
each) and ends

- each one that has sent no byte GOURMET_SERVER__FIRST_BYTE_TIMEOUT_S after connecting;
- beyond GOURMET_SERVER__CONNECTIONS_PER_ADDRESS from one client address, the quietest first
  (trusted proxies are exempt: every client arrives through them).

``shutdown()`` on a duplicate of the descriptor ends the connection itself: the client reads
end-of-file, and so does hyper, which then lets its descriptor go. The cap is enforced after
accepting, at each sweep, not at accept. Linux only (TCP_INFO, /proc/self/fd).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass

import structlog
from prometheus_client import Counter

from gourmet.asgi import ASGIApp, Message, Receive, Scope, Send
from gourmet.config import Settings

log = structlog.get_logger("gourmet.connections")

CONNECTIONS_CLOSED = Counter(
    "gourmet_connections_closed",
    "Client connections the worker's sweep closed",
    ["reason"],  # silent: no byte in time; over_address_cap: one address holding too many
)

DESCRIPTORS = "/proc/self/fd"
TCP_ESTABLISHED = 1
# struct tcp_info (linux/tcp.h): the state is byte 0, tcpi_last_data_recv the u32 at 52 and
# tcpi_bytes_received the u64 at 128, present since Linux 4.1.
TCP_INFO_BYTES = 136
LAST_DATA_RECV = struct.Struct("=I")
BYTES_RECEIVED = struct.Struct("=Q")


@dataclass(frozen=True, slots=True)
class Served:
    """One client connection of this worker, as a sweep saw it."""

    descriptor: int
    inode: int
    address: str
    quiet_ms: int  # since its last byte arrived; since it connected if none has
    silent: bool  # it has sent no byte at all


@dataclass(frozen=True, slots=True)
class SweepRules:
    port: int
    first_byte_ms: int
    per_address: int
    exempt: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> SweepRules:
        return cls(
            port=settings.server.port,
            first_byte_ms=round(settings.server.first_byte_timeout_s * 1000),
            per_address=settings.server.connections_per_address,
            exempt=tuple(
                ipaddress.ip_network(n, strict=False) for n in settings.server.trusted_proxies
            ),
        )

    def is_exempt(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.partition("%")[0])  # an IPv6 zone is no part of it
        return any(ip in network for network in self.exempt)


class Sweep:
    """One worker's sweeps: what the rules say must go, closed at each :meth:`run`."""

    def __init__(self, rules: SweepRules) -> None:
        self.rules = rules
        # A socket's ends never change: its client address (None: not a client of this port)
        # is looked up once, by inode, and forgotten when the socket is gone.
        self._peers: dict[int, str | None] = {}

    def run(self) -> dict[str, int]:
        """Close what the rules say must go, once; how many were closed, by reason."""
        rules = self.rules
        closed = {"silent": 0, "over_address_cap": 0}
        by_address: dict[str, list[Served]] = defaultdict(list)
        for connection in self.served_connections():
            if connection.silent and connection.quiet_ms >= rules.first_byte_ms:
                closed["silent"] += close(connection)
            elif not rules.is_exempt(connection.address):
                by_address[connection.address].append(connection)
        for connections in by_address.values():
            excess = len(connections) - rules.per_address
            if excess > 0:
                connections.sort(key=lambda c: (not c.silent, -c.quiet_ms))
                closed["over_address_cap"] += sum(close(c) for c in connections[:excess])
        return closed

    def served_connections(self) -> list[Served]:
        """This process's established TCP connections on the port, the server's side.

        Each descriptor is read in place (no duplicate: a sweep over thousands of connections
        must cost little, and must not double the worker's open files). Should the descriptor
        be closed and reused meanwhile, what is read is the new socket's, and :func:`close`
        checks the inode before it acts."""
        found = []
        peers: dict[int, str | None] = {}
        for name in os.listdir(DESCRIPTORS):
            try:
                link = os.readlink(f"{DESCRIPTORS}/{name}")
            except OSError:  # closed meanwhile
                continue
            if not link.startswith("socket:["):
                continue
            descriptor, inode = int(name), int(link[8:-1])
            address = self._peers.get(inode, "")
            if address == "":
                try:
                    address = self._peer(descriptor)
                except OSError:  # gone, or no descriptor to spare: look again next sweep
                    continue
            peers[inode] = address
            if address is None:
                continue
            info = _tcp_info(descriptor)
            if info is None or info[0] != TCP_ESTABLISHED:
                continue
            (quiet_ms,) = LAST_DATA_RECV.unpack_from(info, 52)
            (received,) = BYTES_RECEIVED.unpack_from(info, 128)
            found.append(Served(descriptor, inode, address, quiet_ms, received == 0))
        self._peers = peers
        return found

    def _peer(self, descriptor: int) -> str | None:
        """The client address of a connection to the port; None for any other socket (the
        listener, PostgreSQL, the card provider, pipes). OSError when it cannot be looked at."""
        with socket.socket(fileno=os.dup(descriptor)) as sock:
            try:
                if sock.type != socket.SOCK_STREAM or sock.getsockname()[1] != self.rules.port:
                    return None
                return str(sock.getpeername()[0])
            except (OSError, IndexError, TypeError):  # not connected, or not an IP socket
                return None


def _tcp_info(descriptor: int) -> bytes | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, fileno=descriptor)
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_BYTES)
    except OSError:
        return None
    finally:
        sock.detach()  # the descriptor is granian's: never closed here
    return info if len(info) >= TCP_INFO_BYTES else None


def close(connection: Served) -> int:
    """End the connection (1), unless its descriptor now holds another socket (0)."""
    try:
        duplicate = os.dup(connection.descriptor)
    except OSError:
        return 0
    with socket.socket(fileno=duplicate) as sock:
        if os.fstat(duplicate).st_ino != connection.inode:
            return 0  # closed and reused by a new connection since the sweep saw it
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # the client left first
            return 0
    return 1


class ConnectionSweeper:
    """The sweeping thread of one worker."""

    def __init__(self, rules: SweepRules, every_s: float) -> None:
        self.sweep = Sweep(rules)
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not sys.platform.startswith("linux"):
            log.warning("connection sweep off: it needs Linux (TCP_INFO, /proc/self/fd)")
            return
        self._thread = threading.Thread(target=self._run, name="connection-sweep", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5 * self.every_s, 1.0))

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                closed = self.sweep.run()
            except OSError as exc:  # out of descriptors itself, say: the next sweep tries again
                log.warning("connection sweep failed", error=str(exc))
                continue
            for reason, count in closed.items():
                if count:
                    CONNECTIONS_CLOSED.labels(reason).inc(count)
            if any(closed.values()):
                log.warning("connections closed", **closed)


class SweepWhileServing:
    """ASGI layer: the sweeper runs from the app's startup to its shutdown (the lifespan)."""

    def __init__(self, app: ASGIApp, sweeper: ConnectionSweeper) -> None:
        self.app = app
        self.sweeper = sweeper

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def started(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                self.sweeper.start()
            await send(message)

        try:
            await self.app(scope, receive, started)
        finally:
            self.sweeper.stop()
