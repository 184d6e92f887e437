// The ops page: fetch this worker's last 15 minutes every 5 s and draw them with plotly.js.
"use strict";

const REFRESH_MS = 5000;
const layout = (title, yTitle) => ({
  title: { text: title }, margin: { t: 40, r: 10, b: 40, l: 50 },
  yaxis: { title: { text: yTitle }, rangemode: "tozero" }, xaxis: { type: "date" },
  legend: { orientation: "h" },
});
const config = { displayModeBar: false, responsive: true };

function line(points, key, name) {
  return {
    x: points.map((p) => new Date(p.at * 1000)),
    y: points.map((p) => p[key]),
    name, mode: "lines", type: "scatter",
  };
}

function draw(points) {
  Plotly.react("chart-traffic", [
    line(points, "requests_per_s", "requests/s"),
    line(points, "errors_per_s", "errors/s"),
    line(points, "shed_per_s", "shed/s"),
  ], layout("Traffic", "per second"), config);
  Plotly.react("chart-latency", [
    line(points, "p50_ms", "p50"), line(points, "p99_ms", "p99"),
  ], layout("Latency", "ms"), config);
  Plotly.react("chart-pool", [
    line(points, "pool_in_use", "in use"), line(points, "pool_waiting", "waiting"),
    line(points, "pool_max", "size"),
  ], layout("Connection pool", "connections"), config);
  Plotly.react("chart-orders", [line(points, "orders_per_min", "orders/min")],
    layout("Orders", "per minute"), config);
}

function showAlerts(alerts) {
  const list = document.getElementById("alerts");
  list.replaceChildren();
  if (alerts.length === 0) {
    const item = document.createElement("li");
    item.textContent = "None: all quiet.";
    list.append(item);
  }
  for (const alert of alerts) {
    const item = document.createElement("li");
    item.className = alert.severity;
    const runbook = document.createElement("code");
    runbook.textContent = alert.runbook;
    item.append(`${alert.severity.toUpperCase()} ${alert.name}: ${alert.summary} Runbook: `, runbook);
    list.append(item);
  }
}

function showFailedJobs(failed) {
  const summary = document.getElementById("failed-summary");
  const table = document.getElementById("failed-jobs");
  const rows = table.querySelector("tbody");
  rows.replaceChildren();
  summary.textContent = failed.total === 0 ? "None." :
    `${failed.total} failed job(s)` + (failed.total > failed.jobs.length ? `; the latest ${failed.jobs.length}:` : ":");
  table.hidden = failed.total === 0;
  for (const job of failed.jobs) {
    const row = document.createElement("tr");
    const failedAt = job.failed_at ? new Date(job.failed_at).toLocaleString() : "";
    for (const text of [job.kind, job.order ?? "", job.attempts, job.last_error ?? "", failedAt]) {
      const cell = document.createElement("td");
      cell.textContent = String(text);
      row.append(cell);
    }
    rows.append(row);
  }
}

async function refreshFailedJobs() {
  try {
    const response = await fetch("/api/ops/failed-jobs", { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    showFailedJobs(await response.json());
  } catch (error) {
    document.getElementById("failed-summary").textContent = `Could not load failed jobs: ${error.message}`;
  }
}

async function refresh() {
  refreshFailedJobs();
  try {
    const response = await fetch("/api/ops/series", { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    document.getElementById("worker").textContent = data.worker_pid;
    document.getElementById("overall").textContent = data.status.overall;
    showAlerts(data.alerts);
    if (window.Plotly) draw(data.series);
  } catch (error) {
    document.getElementById("alerts").textContent = `Could not load figures: ${error.message}`;
  }
}

async function postIncident(event) {
  event.preventDefault();
  const form = event.target;
  const id = form.incident.value;
  const minutes = Number(form.eta.value);
  const body = {
    state: form.state.value,
    message: form.message.value,
    title: form.title.value || null,
    expected_resolution_at: minutes ? new Date(Date.now() + minutes * 60000).toISOString() : null,
  };
  const response = await fetch(id ? `/api/ops/incidents/${id}` : "/api/ops/incidents", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Requested-With": "gourmet" },
    body: JSON.stringify(body),
  });
  const result = document.getElementById("incident-result");
  if (response.ok) {
    result.textContent = "Posted. Customers see it now.";
  } else {
    const problem = await response.json().catch(() => ({}));
    result.textContent = problem.detail || `Refused (HTTP ${response.status})`;
  }
}

document.getElementById("incident-form").addEventListener("submit", postIncident);
refresh();
setInterval(refresh, REFRESH_MS);
