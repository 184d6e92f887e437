"""``gourmet replay-incident``: the November spike, compressed, against the platform as it was
(the ``incident`` profile) and as it is (``hardened``), each on a fresh database, one report
side by side.

Both servers run alike (one worker, a pool of ``pool_size``) so that only the platform differs:
the old one holds a connection for each whole request (``gourmet.db.held``), waits 30 s for one
and caches nothing, and its customers use its checkout page (no Idempotency-Key; a reload after
15 s of spinner sends the order again: ``OldCheckoutPage``); Gourmet's customers use Gourmet's.
The normal rate is set from the checkout capacity measured first (closed loops of checkouts
for a few seconds) so that the shape's peak (10x normal in November: a normal rate of a fifth
of capacity) offers twice what the server can place: as in November, more than it can do, for
long enough to matter. Each server's own capacity is measured before its run: the ideal
first-come-first-served queue its customers' waits are held against (``ideal_queue``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx

from gourmet.db.embedded import start_embedded
from gourmet_tools.loadtest import ideal_queue, loadstats, openload, traffic
from gourmet_tools.loadtest.local import STAFF_TOKEN, fresh_database, local_server
from gourmet_tools.loadtest.menu_orders import checkout_bodies
from gourmet_tools.loadtest.runner import Progress, RunResult, run_shape
from gourmet_tools.loadtest.shapes import SHAPES

PROFILES = ("incident", "hardened")
# The nights the replay offers, and the report's title for each.
REPLAY_SHAPES = {
    "november": "The November spike, replayed",
    "promotion": "A promotion at 20:00",
    "slow-climb": "A slow climb over an hour",
}
SPIKE_X_CAPACITY = 2.0  # the shape's peak offers this much of the measured capacity
CAPACITY_PROBE_S = 4.0
CAPACITY_CLIENTS = 8
PORT = 8181


def measure_capacity(base: str) -> float:
    """Checkouts per second closed loops of CAPACITY_CLIENTS reach."""
    with httpx.Client(base_url=base, timeout=10) as client:
        bodies = checkout_bodies(client)
    host = base.removeprefix("http://")
    payloads = tuple(traffic.http_post_json(host, "/api/orders", body) for body in bodies)
    mix = [traffic.RequestKind("checkout", 1.0, payloads)]
    run = asyncio.run(
        openload.closed_load(base, mix, concurrency=CAPACITY_CLIENTS, duration_s=CAPACITY_PROBE_S)
    )
    return float(loadstats.summarize(run, 0.0, CAPACITY_PROBE_S)["goodput_per_s"])


def replay_incident(
    folder: Path,
    *,
    scale: float,
    patience_s: float,
    pool_size: int,
    base_rate: float | None = None,
    shape: str = "november",
    say: Callable[[str], None] = print,
    progress: Callable[[str], Progress] | None = None,
) -> list[RunResult]:
    """``shape`` (one of REPLAY_SHAPES) against each profile; the runs' results."""
    if shape not in REPLAY_SHAPES:
        raise ValueError(f"unknown shape {shape!r}; one of {', '.join(REPLAY_SHAPES)}")
    make_shape = SHAPES[shape]
    embedded = start_embedded(folder.parent / "replay-pgdata")
    results: list[RunResult] = []
    try:
        for profile in PROFILES:
            name = f"gourmet_replay_{profile}"
            url = embedded.url_for(name)
            fresh_database(embedded.admin_url, url, name)
            env = {
                "GOURMET_DATABASE__URL": url,
                "GOURMET_PROFILE": profile,
                "GOURMET_SERVER__WORKERS": "1",
                "GOURMET_DATABASE__POOL_MAX_SIZE": str(pool_size),
                "GOURMET_DATA_DIR": str(folder / profile),
            }
            with local_server(env, PORT, folder / f"{profile}.log") as base:
                capacity = measure_capacity(base)
                say(f"{profile}: checkout capacity {capacity:.0f}/s")
                if base_rate is None:
                    # Set once, from the first server: both profiles get the same arrivals.
                    base_rate = capacity * SPIKE_X_CAPACITY / make_shape(1.0, scale).peak_rate
                plan = make_shape(base_rate, scale)
                say(
                    f"{profile}: {plan.description}, normal {base_rate:.1f} customers/s, the peak"
                    f" {plan.peak_rate:.0f}/s, {plan.duration_s:.0f} s of arrivals"
                )
                result = run_shape(
                    profile,
                    base,
                    plan,
                    patience_s=patience_s,
                    staff_token=STAFF_TOKEN,
                    database_url=url,
                    spike_prefix=plan.peak,
                    progress=progress(profile) if progress else None,
                    # November's customers met the old page: no key, reloads after 15 s.
                    old_page=profile == "incident",
                )
                result.figures["base_rate_per_s"] = base_rate
                result.figures.update(beside_ideal(result, capacity))
                results.append(result)
    finally:
        embedded.stop()
    return results


def beside_ideal(result: RunResult, capacity_per_s: float) -> dict[str, object]:
    """The capacity measured before the run and the ideal queue's waits beside the measured.

    The ideal queue takes the arrivals of every customer, placed or not (issue 21: "the same
    arrivals"), and serves them all. The measured waits are those of the placed customers only:
    one never placed has no wait to measure. So when some were not placed, the measured side
    leaves out the customers who waited longest and the ratio flatters the run: read it beside
    "placed within patience".
    """
    arrivals = [customer.arrives_s for customer in result.customers]
    return {
        "capacity_per_s": capacity_per_s,
        **ideal_queue.beside_measured(result.figures, arrivals, capacity_per_s),
    }
