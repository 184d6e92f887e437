"""``python -m gourmet.payments.sandbox``: serve the sandbox provider with granian.

One worker, always: charges and idempotency keys live in that worker's memory. The options reach
the worker process through ``PAYMENT_SANDBOX_*`` variables, which granian's factory target
(:func:`gourmet.payments.sandbox.app.app_from_env`) reads.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

import msgspec

from gourmet.payments.sandbox.app import ENV_PREFIX, app_from_env


def main(argv: Sequence[str] | None = None) -> None:
    from granian import Granian  # imported here: only the CLI needs a server
    from granian.constants import Interfaces
    from granian.log import LogLevels

    from gourmet.listener import OwnListener, PortInUseError

    class SandboxServer(OwnListener, Granian):  # type: ignore[misc, valid-type]
        port_hint = (
            "Stop the other provider, choose another --port, or pass --share-port to both to"
            " serve the port together."
        )

    parser = argparse.ArgumentParser(
        prog="python -m gourmet.payments.sandbox",
        description="Run the sandbox card payment provider.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, help="seed the failure injection (reproducible runs)")
    parser.add_argument(
        "--share-port",
        action="store_true",
        help="join a provider already serving the port (each then gets part of the charges)",
    )
    args = parser.parse_args(argv)
    os.environ[f"{ENV_PREFIX}LATENCY_MS"] = str(args.latency_ms)
    os.environ[f"{ENV_PREFIX}FAILURE_RATE"] = str(args.failure_rate)
    if args.seed is not None:
        os.environ[f"{ENV_PREFIX}SEED"] = str(args.seed)
    try:
        app_from_env()  # fail here, with a message, rather than in the worker
    except msgspec.ValidationError as exc:
        parser.error(str(exc))
    server: Any = SandboxServer(
        "gourmet.payments.sandbox.app:app_from_env",
        factory=True,
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=1,
        log_level=LogLevels.warning,
    )
    server.share_port = args.share_port
    try:
        server.serve()
    except PortInUseError as exc:
        parser.exit(1, f"{exc}\n")


if __name__ == "__main__":
    main()
