"""The whole API fuzzed from its own OpenAPI document (schemathesis, bounded examples): for every
operation, anonymous and with the credentials of each role, no answer is a 5xx, and every
answer's status, content type, headers and body are the ones the document declares.

The server is a real ``gourmet serve`` on a database of its own, so what is fuzzed is what runs
(the ASGI layers in front of Litestar included). Two of schemathesis's checks are left out, each
for a reason stated where they are listed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from gourmet_tools.loadtest.local import STAFF_TOKEN, local_server
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as openapi_checks

from gourmet.accounts.guards import SESSION_COOKIE
from tests.loadtest.helpers import own_database
from tests.processes import free_port

DATABASE = "gourmet_fuzz_test"
PASSWORD = "fuzzing the whole api"
CSRF = {"X-Requested-With": "gourmet"}
EXAMPLES = 8  # per operation, each sent as every role: 45 operations x 5 roles

CHECKS = [
    st_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    # Left out: allow_header_conformance (Litestar's automatic OPTIONS answer lists one
    # handler's methods when a path has several). negative_data_rejection has its own test.
]


@pytest.fixture(scope="module")
def fuzz_server(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = own_database(admin_url, DATABASE)
    folder = tmp_path_factory.mktemp("fuzz")
    _create_admin(url, "admin@example.com")
    env = {
        "GOURMET_DATABASE__URL": url,
        "GOURMET_DATA_DIR": str(folder),
        "GOURMET_SERVER__WORKERS": "1",
    }
    with local_server(env, free_port(), folder / "server.log") as base:
        yield base


def _create_admin(database_url: str, email: str) -> None:
    command = [str(Path(sys.executable).with_name("gourmet")), "users", "create-admin"]
    subprocess.run(
        [*command, "--email", email],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        text=True,
        check=True,
        capture_output=True,
        env={**os.environ, "GOURMET_DATABASE__URL": database_url},
    )


@pytest.fixture(scope="module")
def credentials(fuzz_server: str) -> dict[str, dict[str, str]]:
    """The headers of each role, signed in once."""
    with httpx.Client(base_url=fuzz_server, headers=CSRF) as client:
        admin = _session(client, "/api/session", {"email": "admin@example.com"})
        for role in ("manager", "staff"):
            answer = client.post(
                "/api/admin/accounts",
                json={"email": f"{role}@example.com", "password": PASSWORD, "role": role},
                headers={"Cookie": f"{SESSION_COOKIE}={admin}"},
            )
            assert answer.status_code == 201, answer.text
        manager = _session(client, "/api/session", {"email": "manager@example.com"})
        customer = _session(client, "/api/accounts", {"email": "ada@example.com", "name": "Ada"})
    return {
        "anonymous": {},
        "customer": {"Cookie": f"{SESSION_COOKIE}={customer}", **CSRF},
        "staff-token": {"Authorization": f"Bearer {STAFF_TOKEN}"},
        "manager": {"Cookie": f"{SESSION_COOKIE}={manager}", **CSRF},
        "admin": {"Cookie": f"{SESSION_COOKIE}={admin}", **CSRF},
    }


def _session(client: httpx.Client, path: str, body: dict[str, str]) -> str:
    client.cookies.clear()
    answer = client.post(path, json={**body, "password": PASSWORD})
    assert answer.status_code in (200, 201), answer.text
    cookie = answer.cookies.get(SESSION_COOKIE)
    assert cookie
    client.cookies.clear()
    return cookie


@pytest.fixture(scope="module")
def api_schema(fuzz_server: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_server}/api/schema/openapi.json")


def test_every_answer_is_declared_and_none_is_a_server_error(
    api_schema: schemathesis.BaseSchema,
    credentials: dict[str, dict[str, str]],
    fuzz_server: str,
) -> None:
    failures = fuzz_every_operation(
        api_schema, fuzz_server, credentials, GenerationMode.POSITIVE, CHECKS
    )
    assert not failures, "\n\n".join(failures)


def test_invalid_requests_are_refused_with_a_4xx(
    api_schema: schemathesis.BaseSchema,
    credentials: dict[str, dict[str, str]],
    fuzz_server: str,
) -> None:
    """Requests that break the document (wrong types, missing fields, values out of range) are
    refused with a 4xx, never taken and never a 5xx. Sent with the staff token, so that a
    refusal is for the data, not for the credentials. (Types given loosely, "3" for 3 or 1 for
    true, are rarely drawn here; tests/test_hostile_input.py sends them on purpose.)"""
    staff = {"staff-token": credentials["staff-token"]}
    failures = fuzz_every_operation(
        api_schema,
        fuzz_server,
        staff,
        GenerationMode.NEGATIVE,
        [st_checks.not_a_server_error, openapi_checks.negative_data_rejection],
    )
    assert not failures, "\n\n".join(failures)


def fuzz_every_operation(
    api_schema: schemathesis.BaseSchema,
    fuzz_server: str,
    credentials: dict[str, dict[str, str]],
    mode: GenerationMode,
    checks: list[Any],
) -> list[str]:
    """Each operation's examples sent as each role of ``credentials``; the failures, named."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 40
    acting = [""]  # the role of the request that failed
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: schemathesis.Case[Any]) -> None:
            for role, headers in credentials.items():
                # A sign-out would end the role's session for the rest of the run.
                if case.method == "DELETE" and case.path == "/api/session" and role != "anonymous":
                    continue
                acting[0] = role
                case.call_and_validate(base_url=fuzz_server, headers=headers, checks=checks)

        try:
            fuzz()
        except Unsatisfiable:
            continue  # no request breaks this operation's document (no body, free-text path)
        except Exception as failure:
            failures.append(f"{operation.label} (as {acting[0]}): {failure}")
    return failures
