"""System tools the tests drive for real: found, or skipped with the reason (a failure in CI)."""

from __future__ import annotations

import os
import shutil
import sys

import pytest


def require_tool(name: str, package: str) -> str:
    """The path of ``name``; skip when it is missing, or fail under CI=true."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        reason = f"{name} is not installed (Debian package '{package}')"
        print(reason, file=sys.stderr)
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must install it")
        pytest.skip(reason)
    return path
