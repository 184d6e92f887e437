"""Who is asking: the client's address, for limits kept per client.

The peer of the connection is the client, unless it is a proxy we were told to trust
(``GOURMET_SERVER__TRUSTED_PROXIES``: addresses or networks, e.g. the load balancer's). Only then is
``X-Forwarded-For`` read, from the right (the entry our proxy added) past every trusted hop:
anything further left was written by the client and proves nothing. A client that sends its own
``X-Forwarded-For`` straight to us cannot pass for another address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import cached_property

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


class ClientAddress:
    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._trusted_text = tuple(trusted_proxies)

    @cached_property
    def _trusted(self) -> tuple[Network, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self._trusted_text)

    def of(self, peer: str | None, forwarded_for: str | None) -> str:
        """The client's address, given the connection's peer and its X-Forwarded-For."""
        if peer is None:
            return UNKNOWN
        if not self._is_trusted(peer) or not forwarded_for:
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop if _is_address(hop) else peer
        return hops[0] if _is_address(hops[0]) else peer

    def _is_trusted(self, address: str) -> bool:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self._trusted)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
