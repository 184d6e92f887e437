// The sales page: read /api/manage/reports for the chosen days and show totals, charts, items.
"use strict";

const API = "/api/manage/reports";
const config = { displayModeBar: false, responsive: true };
let money = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD" });
const cents = (value) => money.format(value / 100);

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function cells(row, values) {
  for (const value of values) {
    const cell = document.createElement("td");
    cell.textContent = String(value);
    row.append(cell);
  }
}

function fill(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren();
  for (const values of rows) {
    const row = document.createElement("tr");
    cells(row, values);
    body.append(row);
  }
}

function show(report) {
  money = new Intl.NumberFormat(undefined, { style: "currency", currency: report.currency });
  const at = new Intl.DateTimeFormat(undefined, {
    timeZone: report.time_zone, hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).format(new Date(report.as_of));
  const asOf = document.getElementById("as-of");
  asOf.textContent = `Figures as of ${at} (read again at most every 30 seconds).`;
  asOf.hidden = false;
  const t = report.totals;
  fill("totals", [[t.orders, cents(t.gross_sales_cents), cents(t.delivery_fees_cents), cents(t.tax_cents),
    cents(t.tips_cents), cents(t.total_cents), cents(t.refunds_cents), cents(t.net_cents)]]);
  fill("items", report.by_item.map((item) => [item.name, item.quantity, cents(item.sales_cents)]));
  fill("split", [
    ...report.by_fulfilment.map((f) => [f.key, f.orders, cents(f.total_cents)]),
    ...report.by_payment.map((p) => [`paid: ${p.key}`, p.orders, cents(p.total_cents)]),
  ]);
  Plotly.react("chart-days", [{
    x: report.by_day.map((d) => d.day), y: report.by_day.map((d) => d.totals.net_cents / 100),
    type: "bar", name: "net",
  }], { title: { text: "Net sales by day" }, margin: { t: 40, r: 10, b: 40, l: 60 } }, config);
  Plotly.react("chart-hours", [{
    x: report.by_hour.map((h) => h.hour), y: report.by_hour.map((h) => h.orders),
    type: "bar", name: "orders",
  }], { title: { text: "Orders by hour of day" }, margin: { t: 40, r: 10, b: 40, l: 50 } }, config);
}

async function load() {
  const from = document.getElementById("from").value;
  const to = document.getElementById("to").value;
  const query = new URLSearchParams({ from, to });
  document.getElementById("orders-csv").href = `${API}?${query}&format=csv`;
  document.getElementById("days-csv").href = `${API}?${query}&format=summary-csv`;
  const error = document.getElementById("report-error");
  const response = await fetch(`${API}?${query}`, { credentials: "same-origin" });
  const body = await response.json();
  if (!response.ok) {
    error.textContent = body.detail || "The report could not be read.";
    error.hidden = false;
    return;
  }
  error.hidden = true;
  show(body);
}

document.addEventListener("DOMContentLoaded", () => {
  const today = new Date();
  const weekAgo = new Date(today.getTime() - 6 * 24 * 3600 * 1000);
  document.getElementById("from").value = isoDay(weekAgo);
  document.getElementById("to").value = isoDay(today);
  document.getElementById("period").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  load();
});
