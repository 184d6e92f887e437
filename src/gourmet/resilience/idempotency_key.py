"""The rule an ``Idempotency-Key`` must meet, checked at the door (the waiting room) and by
checkout itself: one rule, so a key the line refuses is one checkout would refuse too."""

from __future__ import annotations

from typing import Final

from gourmet.problems import Problem

MAX_IDEMPOTENCY_KEY: Final = 255


def check_idempotency_key(key: str | None) -> None:
    """Raise a 400 problem unless ``key`` is absent or 1 to 255 characters long."""
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise Problem(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters long.")
