"""Slot lists from memory: in a rush the checkout form's slot list costs one query per change,
not one per customer.

A list is held per fulfilment until something changes it: an order placed or released (every
process hears ``order_changed``), a change of the restaurant's rules (``rules_changed``), or time
itself (slots pass, days begin: a list is held at most ``HELD_S``). A process that makes such a
change forgets its lists at once, before its own notice comes back. Readers arriving while a list
is being read wait for that read instead of making their own, so a thousand customers opening
checkout together cost one query; a reader that arrives after a change never joins a read that
started before it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from gourmet.ordering.schemas import Fulfilment, Slot
from gourmet.resilience import deadline

HELD_S = 10.0

Load = Callable[[Fulfilment], Awaitable[list[Slot]]]


class SlotCache:
    def __init__(
        self, load: Load, *, enabled: bool = True, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._load = load
        self._enabled = enabled
        self._clock = clock
        self._generation = 0  # bumped by every change
        self._held: dict[Fulfilment, tuple[int, float, list[Slot]]] = {}
        self._loading: dict[Fulfilment, tuple[int, asyncio.Future[list[Slot]]]] = {}
        self.loads = 0

    async def slots(self, fulfilment: Fulfilment) -> list[Slot]:
        if not self._enabled:
            return await self._load(fulfilment)
        generation = self._generation
        held = self._held.get(fulfilment)
        if held is not None and held[0] == generation and self._clock() - held[1] < HELD_S:
            return held[2]
        loading = self._loading.get(fulfilment)
        if loading is None or loading[0] != generation:
            future = asyncio.ensure_future(self._read(fulfilment, generation))
            loading = self._loading[fulfilment] = (generation, future)
        # Shielded: a reader that gives up does not cancel the read the others wait for.
        return await asyncio.shield(loading[1])

    def forget(self, _payload: str = "") -> None:
        """Every list may have changed (an order, a release, a rule)."""
        self._generation += 1
        self._held.clear()

    async def on_change(self, payload: str) -> None:
        """The notification hub's handler for ``order_changed`` and ``rules_changed``."""
        self.forget(payload)

    async def _read(self, fulfilment: Fulfilment, generation: int) -> list[Slot]:
        read_at = self._clock()
        try:
            # Shared by every reader waiting on it: not bound by the first one's deadline.
            with deadline.unbounded():
                slots = await self._load(fulfilment)
            self.loads += 1
            if generation == self._generation:  # nothing changed while it was read
                self._held[fulfilment] = (generation, read_at, slots)
            return slots
        finally:
            if self._loading.get(fulfilment, (None,))[0] == generation:
                del self._loading[fulfilment]
