"""What a report request can get wrong."""

from __future__ import annotations

from gourmet.problems import Problem


class InvalidRange(Problem):
    """A range of days a report cannot cover; ``field`` names the parameter (from, to)."""

    status = 422
    slug = "invalid-range"
    title = "Invalid range of days"

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail, field=field)
