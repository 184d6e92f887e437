"""The connection budget: how many connections each process may hold, and refusing more.

PostgreSQL's ``max_connections`` is shared by every process of every replica, plus operators and
migrations. In November the pool was sized on its own and a traffic spike, with more servers added
to fight it, asked for more connections than the database had. Here the size follows from the
budget, and a configuration that would exceed it refuses to start, saying what to change.
"""

from __future__ import annotations

from dataclasses import dataclass

# Each process holds one connection outside its pool: the LISTEN connection of the menu cache.
CONNECTIONS_OUTSIDE_POOL = 1
DEFAULT_POOL_CEILING = 20  # more connections than this per process rarely adds throughput


class ConnectionBudgetError(RuntimeError):
    """The configuration asks for more connections than the database allows."""


@dataclass(frozen=True)
class ConnectionBudget:
    max_connections: int
    reserved: int
    processes: int  # workers per replica x replicas

    @property
    def available(self) -> int:
        return self.max_connections - self.reserved

    def pool_size(self, requested: int | None) -> int:
        """The pool size per process: ``requested`` if it fits, else derived from the budget."""
        fair_share = self.available // self.processes - CONNECTIONS_OUTSIDE_POOL
        if requested is None:
            if fair_share < 1:
                raise ConnectionBudgetError(self._explain(1))
            return min(fair_share, DEFAULT_POOL_CEILING)
        if self.processes * (requested + CONNECTIONS_OUTSIDE_POOL) > self.available:
            raise ConnectionBudgetError(self._explain(requested))
        return requested

    def listeners_fit(self) -> None:
        """Behind PgBouncer only the listeners reach PostgreSQL from the processes."""
        if self.processes * CONNECTIONS_OUTSIDE_POOL > self.available:
            raise ConnectionBudgetError(
                f"{self.processes} process(es) each keep a LISTEN connection to PostgreSQL, but"
                f" it allows {self.available} (max_connections {self.max_connections} -"
                f" {self.reserved} reserved). Run fewer GOURMET_SERVER__WORKERS"
                " or GOURMET_SERVER__REPLICAS, or raise max_connections."
            )

    def _explain(self, size: int) -> str:
        needed = self.processes * (size + CONNECTIONS_OUTSIDE_POOL)
        fair_share = max(self.available // self.processes - CONNECTIONS_OUTSIDE_POOL, 0)
        return (
            f"{self.processes} process(es) x ({size} pooled + {CONNECTIONS_OUTSIDE_POOL} listener)"
            f" = {needed} connections, but the database allows {self.available}"
            f" (max_connections {self.max_connections} - {self.reserved} reserved). Lower"
            f" GOURMET_DATABASE__POOL_MAX_SIZE to at most {fair_share}, run fewer"
            " GOURMET_SERVER__WORKERS or GOURMET_SERVER__REPLICAS, put PgBouncer in front, or"
            " raise max_connections."
        )
