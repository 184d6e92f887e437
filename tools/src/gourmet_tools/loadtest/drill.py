"""``gourmet drill``: a game day. The November spike is replayed against a Gourmet while the
operator is walked through the response: the alert fires, the runbook to open, a status-page
incident with an expected resolution time, then resolving it once customers are served again.
Every step's time is recorded next to the run's own report.

The questions go through ``ask`` (the terminal's prompt; a script's answers in tests), so a
drill runs the same way at a desk and unattended.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from gourmet_tools.loadtest.runner import RunResult, run_shape
from gourmet_tools.loadtest.shapes import Shape

ALERT_WAIT_S = 300.0
POLL_S = 1.0
RUNBOOKS = "docs/runbooks"

Ask = Callable[[str, str], str]  # (question, default) -> answer
Say = Callable[[str], None]


@dataclass
class Step:
    name: str
    at_s: float  # seconds from the start of the drill
    detail: str = ""


@dataclass
class Drill:
    base: str
    staff_token: str
    shape: Shape
    patience_s: float
    ask: Ask
    say: Say
    database_url: str | None = None
    steps: list[Step] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def run(self) -> tuple[list[Step], RunResult]:
        outcome: list[RunResult] = []
        load = threading.Thread(target=lambda: outcome.append(self._load()), daemon=True)
        self.say(f"Drill: {self.shape.description}, {self.shape.duration_s:.0f} s of arrivals.")
        load.start()
        self._step("load started", self.base)
        with httpx.Client(
            base_url=self.base,
            timeout=5,
            headers={"Authorization": f"Bearer {self.staff_token}", "X-Operator": "drill"},
        ) as client:
            alert = self._wait_for_alert(client, load)
            if alert is not None:
                self._respond(client, alert, load)
            else:
                self.say("No alert fired during the drill: check the alert rules' thresholds.")
                self._step("no alert fired")
        load.join()
        self._step("load finished")
        return self.steps, outcome[0]

    def _load(self) -> RunResult:
        return run_shape(
            "drill",
            self.base,
            self.shape,
            patience_s=self.patience_s,
            staff_token=self.staff_token,
            database_url=self.database_url,
            spike_prefix="spike",
        )

    def _wait_for_alert(
        self, client: httpx.Client, load: threading.Thread
    ) -> dict[str, Any] | None:
        self.say("Watch the alerts: the first to fire is yours (the ops page shows them too).")
        deadline = time.monotonic() + ALERT_WAIT_S
        while load.is_alive() and time.monotonic() < deadline:
            try:
                alerts = client.get("/api/ops/series").json()["alerts"]
            except (httpx.HTTPError, ValueError, KeyError):
                alerts = []
            if alerts:
                alert: dict[str, Any] = alerts[0]
                self._step("alert fired", f"{alert['name']} ({alert['severity']})")
                return alert
            time.sleep(POLL_S)
        return None

    def _respond(self, client: httpx.Client, alert: dict[str, Any], load: threading.Thread) -> None:
        runbook = alert.get("runbook") or f"{RUNBOOKS}/README.md"
        self.say(f"ALERT {alert['name']}: {alert['summary']}")
        self.ask(f"Open the runbook {runbook}; press Enter once you have read it", "")
        self._step("runbook opened", runbook)
        title = self.ask("Status page incident title", "Ordering is very busy")
        message = self.ask(
            "Message to customers",
            "Many people are ordering at once. Orders may take longer; keep the page open, "
            "your place in line is kept.",
        )
        eta = self.ask("Expected resolution in minutes", "30")
        incident_id = self._post_incident(client, title, message, eta)
        if incident_id is None:
            return
        self._step("incident posted", f"#{incident_id}: {title}, resolution in {eta} min")
        self.say("Now watch the customers being served again (ops page, /status).")
        self.ask("Press Enter when you judge the spike over", "")
        while load.is_alive():  # the drill resolves once the replay itself has ended
            time.sleep(POLL_S)
        resolution = self.ask("Resolution message", "Back to normal. Thank you for your patience.")
        answer = _post(
            client,
            f"/api/ops/incidents/{incident_id}",
            {"state": "resolved", "message": resolution},
        )
        self._step("incident resolved" if answer.status_code == 200 else "resolve failed")

    def _post_incident(
        self, client: httpx.Client, title: str, message: str, eta_minutes: str
    ) -> int | None:
        expected = time.time() + 60 * float(eta_minutes or 30)
        answer = _post(
            client,
            "/api/ops/incidents",
            {
                "title": title,
                "state": "investigating",
                "message": message,
                "components": ["ordering"],
                "expected_resolution_at": time.strftime(
                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime(expected)
                ),
            },
        )
        if answer.status_code != 201:
            self.say(f"The status page refused the incident ({answer.status_code}): {answer.text}")
            self._step("incident refused", answer.text[:200])
            return None
        mine = [
            i for i in answer.json()["incidents"] if i["title"] == title and not i["resolved_at"]
        ]
        return int(mine[0]["id"]) if mine else None

    def _step(self, name: str, detail: str = "") -> None:
        step = Step(name, round(time.monotonic() - self.started, 1), detail)
        self.steps.append(step)
        self.say(f"  [{step.at_s:6.1f} s] {name}{': ' + detail if detail else ''}")


BUSY_TRIES = 3  # an operator whose post meets a busy moment tries again, as the page would


def _post(client: httpx.Client, path: str, body: dict[str, object]) -> httpx.Response:
    """POST ``body``; a busy answer (5xx) or none is tried again after its Retry-After (at most
    2 s), BUSY_TRIES times in all; the last try's answer (or error) is the outcome."""
    for _ in range(BUSY_TRIES - 1):
        try:
            answer = client.post(path, json=body)
        except httpx.TransportError:
            time.sleep(1.0)
            continue
        if answer.status_code < 500:
            return answer
        time.sleep(min(float(answer.headers.get("retry-after", "1")), 2.0))
    return client.post(path, json=body)
