"""One listening socket per port, unless sharing it is asked for.

On Linux granian has each worker bind its own socket with SO_REUSEPORT, and so would any other
process: a second ``gourmet run`` (or a second sandbox provider) started on a port in use bound
it too, and the kernel silently split new connections between the two. Here the server binds
one socket itself, before its workers start, with SO_REUSEPORT only when sharing is explicit,
and the workers serve from that socket (granian's own path where it shares one socket, as on
macOS). A port already served then refuses the second server at bind; two servers that both
ask to share may still join.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from granian._granian import SocketHolder


class PortInUseError(RuntimeError):
    """Another process already serves the port."""


def listen(host: str, port: int, backlog: int, *, share: bool, hint: str) -> socket.socket:
    """A listening socket on ``host:port``; PortInUseError (with ``hint``) when it is served."""
    family, kind, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind)
    try:
        # A restart binds at once despite its last run's connections in TIME_WAIT; on Linux
        # SO_REUSEADDR never lets two listeners share a port, SO_REUSEPORT does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if share:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"{host}:{port} is already served by another process, and a second server"
                f" would silently take part of its traffic: not starting. {hint}"
            ) from exc
        raise
    sock.set_inheritable(True)
    return sock


class OwnListener:
    """Mixin for granian's server (MPServer, granian 2.8): bind the one socket the workers share.

    Set ``share_port`` before ``serve()``; the class it mixes into provides the rest."""

    share_port = False
    port_hint = ""
    bind_addr: str
    bind_port: int
    backlog: int
    _ssp: Any
    _shd: Any
    _sfd: Any
    _sso: Any

    def _init_shared_socket(self) -> None:
        listener = listen(
            self.bind_addr, self.bind_port, self.backlog, share=self.share_port, hint=self.port_hint
        )
        # What granian does where it shares one socket: the workers receive its descriptor
        # (pickled with the socket, spawned processes inherit it) and serve from it. (granian's
        # stub omits SocketHolder's constructor: descriptor, is it a Unix socket, backlog.)
        self._ssp = None
        self._sfd = listener.fileno()
        self._shd = SocketHolder(self._sfd, False, self.backlog)  # type: ignore[call-arg]
        self._sso = listener  # closed by granian's _drop_shared_socket at shutdown
