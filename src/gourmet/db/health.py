"""Whether the database is reachable, as last seen by a connection that is always open.

The menu cache's LISTEN connection is held for the life of the process; it notices a lost database
at once (its socket closes) and reconnects with a short backoff. Its state is the cheapest honest
answer to "is the database up?", letting requests be refused in microseconds while it is down.
"""

from __future__ import annotations

import time


class DatabaseHealth:
    def __init__(self) -> None:
        self.up = True  # optimistic until a connection attempt says otherwise
        self.changed_at = time.monotonic()
        self.outages = 0

    def mark_up(self) -> None:
        if not self.up:
            self.up = True
            self.changed_at = time.monotonic()

    def mark_down(self) -> None:
        if self.up:
            self.up = False
            self.outages += 1
            self.changed_at = time.monotonic()
