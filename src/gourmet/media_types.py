"""What a route that takes JSON accepts, shared by the body check and the API document."""

from __future__ import annotations

from typing import Final

# application/json, and the structured syntax suffix of RFC 6839 (application/merge-patch+json,
# ...): JSON by definition, and no more a simple cross-site request than application/json.
JSON_MEDIA_TYPES: Final = ("application/json", "application/*+json")
# What a 415 lists the accepted types in: Accept-Post (W3C LDP), Accept-Patch (RFC 5789 2.2).
ACCEPT_HEADERS: Final = {"POST": "Accept-Post", "PATCH": "Accept-Patch"}
