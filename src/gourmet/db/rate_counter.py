"""Counts per bucket and time window, shared by every process through PostgreSQL (the
``rate_counter`` table): the sign-in throttle and the per-client limits count here.

Windows are fixed (``window_s`` long, aligned to the epoch): a count is one upsert, a check one
indexed read. Expired windows are deleted now and then by whoever counts, a batch at a time.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from psycopg import Rollback

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn

PRUNE_ONE_IN = 200  # counts that also delete expired windows
PRUNE_BATCH = 500

WINDOW = "to_timestamp(floor(extract(epoch FROM now()) / %(window)s) * %(window)s)"


@dataclass(frozen=True)
class Count:
    hits: int
    resets_in_s: int  # until the window ends


class RateCounter:
    def __init__(self, pool: GuardedPool, rng: random.Random | None = None) -> None:
        self._pool = pool
        self._rng = rng or random.Random()

    async def read(self, buckets: Sequence[str], window_s: int) -> dict[str, Count]:
        """This window's count of each bucket (buckets never counted are left out)."""
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"SELECT bucket, hits, ceil(extract(epoch FROM expires_at - now()))::int"  # noqa: S608 - constant SQL
                    f" AS resets_in_s FROM rate_counter"
                    f" WHERE bucket = ANY(%(buckets)s) AND window_start = {WINDOW}",
                    {"buckets": list(buckets), "window": window_s},
                )
            ).fetchall()
        return {row["bucket"]: Count(row["hits"], max(row["resets_in_s"], 1)) for row in rows}

    async def add(self, buckets: Sequence[str], window_s: int) -> dict[str, Count]:
        """Count one hit in each bucket; their counts afterwards."""
        async with self._pool.connection() as conn:
            counts = await _count(conn, buckets, window_s)
            await self._maybe_prune(conn)
        return counts

    async def add_within(self, limits: Mapping[str, int | None], window_s: int) -> dict[str, Count]:
        """Count one hit in each bucket, all or none: if that takes any bucket past its limit
        (None: no limit), nothing is counted. Returns the buckets that would have gone past
        (empty: counted).

        The upsert locks each bucket's row until the transaction ends, so concurrent hits on a
        bucket are counted one after another and each sees the ones before it: however many
        arrive at once, no more than the limit are let through. A refused hit is rolled back,
        so hammering on after the limit adds nothing to the other buckets' counts."""
        async with self._pool.connection() as conn:
            async with conn.transaction() as transaction:
                counts = await _count(conn, list(limits), window_s)
                over = {
                    bucket: count
                    for bucket, count in counts.items()
                    if (limit := limits[bucket]) is not None and count.hits > limit
                }
                if over:
                    raise Rollback(transaction)  # leaves the block, counting nothing
            if not over:
                await self._maybe_prune(conn)
        return over

    async def take_back(self, buckets: Sequence[str], window_s: int) -> None:
        """Undo one hit in each bucket's current window (never below zero)."""
        async with self._pool.connection() as conn:
            await conn.execute(
                f"UPDATE rate_counter SET hits = hits - 1"  # noqa: S608 - constant SQL
                f" WHERE bucket = ANY(%(buckets)s) AND window_start = {WINDOW} AND hits > 0",
                {"buckets": list(buckets), "window": window_s},
            )

    async def _maybe_prune(self, conn: Conn) -> None:
        if self._rng.randrange(PRUNE_ONE_IN) == 0:
            await conn.execute(
                "DELETE FROM rate_counter WHERE ctid = ANY(ARRAY(SELECT ctid FROM"
                " rate_counter WHERE expires_at < now() LIMIT %s))",
                (PRUNE_BATCH,),
            )

    async def clear(self, buckets: Sequence[str]) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("DELETE FROM rate_counter WHERE bucket = ANY(%s)", (list(buckets),))


async def _count(conn: Conn, buckets: Sequence[str], window_s: int) -> dict[str, Count]:
    # Sorted, so that concurrent counts lock shared buckets in the same order (no deadlock).
    rows = await (
        await conn.execute(
            f"INSERT INTO rate_counter AS c (bucket, window_start, expires_at, hits)"  # noqa: S608 - constant SQL
            f" SELECT bucket, {WINDOW}, {WINDOW} + make_interval(secs => %(window)s), 1"
            f" FROM unnest(%(buckets)s::text[]) AS bucket"
            f" ON CONFLICT (bucket, window_start) DO UPDATE SET hits = c.hits + 1"
            f" RETURNING bucket, hits,"
            f" ceil(extract(epoch FROM expires_at - now()))::int AS resets_in_s",
            {"buckets": sorted(set(buckets)), "window": window_s},
        )
    ).fetchall()
    return {row["bucket"]: Count(row["hits"], max(row["resets_in_s"], 1)) for row in rows}
