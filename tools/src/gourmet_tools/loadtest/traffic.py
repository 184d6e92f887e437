"""The traffic an open-model driver sends: kinds of request, each encoded once up front, and the
instants at which requests arrive (a constant rate or Poisson, phase by phase)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gourmet_tools.loadtest.loadrun import Phase


@dataclass(frozen=True, slots=True)
class RequestKind:
    """One kind of request in the mix: its share and the encoded requests to pick from, or
    ``make``, which encodes the request of a given row (a checkout with a key of its own)."""

    name: str
    weight: float
    payloads: tuple[bytes, ...] = ()
    make: Callable[[int], bytes] | None = None


def http_get(host: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def http_post_json(host: str, path: str, body: Any, headers: str = "") -> bytes:
    """A POST of ``body`` as JSON; ``headers`` are extra header lines, each ending in CRLF."""
    data = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"{headers}Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def arrivals(phases: Sequence[Phase], *, poisson: bool, rng: random.Random) -> Iterator[float]:
    """Intended send times (seconds from the start) over all phases."""
    start = 0.0
    for phase in phases:
        end = start + phase.duration_s
        if phase.rate > 0:
            t = start
            while True:
                t += rng.expovariate(phase.rate) if poisson else 1.0 / phase.rate
                if t >= end:
                    break
                yield t
        start = end
