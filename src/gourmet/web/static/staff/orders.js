// Past orders: search /api/staff/orders/search, page by page, and open any order in full.
"use strict";

const API = "/api/staff/orders";
let next = null;
let money = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD" });
const cents = (value) => money.format(value / 100);

function params(before) {
  const query = new URLSearchParams();
  for (const name of ["q", "from", "to", "status"]) {
    const value = document.getElementById(name).value;
    if (value) query.set(name, value);
  }
  if (before) query.set("before", before);
  return query;
}

function text(tag, value) {
  const element = document.createElement(tag);
  element.textContent = String(value);
  return element;
}

async function search(append) {
  const error = document.getElementById("search-error");
  const response = await fetch(`${API}/search?${params(append ? next : null)}`, { credentials: "same-origin" });
  const body = await response.json();
  if (!response.ok) {
    error.textContent = body.detail || "The search could not be made.";
    error.hidden = false;
    return;
  }
  error.hidden = true;
  const rows = document.querySelector("#found tbody");
  if (!append) rows.replaceChildren();
  for (const order of body.orders) {
    const row = document.createElement("tr");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link";
    open.textContent = `#${order.number}`;
    open.addEventListener("click", () => show(order.number));
    const first = document.createElement("td");
    first.append(open);
    row.append(first, text("td", new Date(order.created_at).toLocaleString()), text("td", order.customer_name),
      text("td", order.phone), text("td", order.status), text("td", cents(order.total_cents)));
    rows.append(row);
  }
  next = body.next_before;
  document.getElementById("more").hidden = next === null;
}

async function show(number) {
  const response = await fetch(`${API}/${number}`, { credentials: "same-origin" });
  const order = await response.json();
  if (!response.ok) return;
  document.getElementById("order-title").textContent = `Order #${order.number}`;
  const refunded = order.refunded_cents ? `, refunded ${cents(order.refunded_cents)}` : "";
  document.getElementById("order-summary").textContent =
    `${order.customer_name}, ${order.phone}; ${order.fulfilment}; ${order.status}; ` +
    `${cents(order.totals.total_cents)} (${order.payment}, ${order.payment_status}${refunded})`;
  const lines = document.getElementById("order-lines");
  lines.replaceChildren(...order.lines.map((line) => text("li",
    `${line.quantity} × ${line.name}` + (line.options.length ? ` (${line.options.map((o) => o.name).join(", ")})` : "") +
    ` ${cents(line.line_total_cents)}`)));
  const history = document.getElementById("order-history");
  history.replaceChildren(...order.history.map((entry) => text("li",
    `${new Date(entry.at).toLocaleString()} ${entry.status} by ${entry.actor}` + (entry.reason ? `: ${entry.reason}` : ""))));
  document.getElementById("order").hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("search").addEventListener("submit", (event) => {
    event.preventDefault();
    search(false);
  });
  document.getElementById("more").addEventListener("click", () => search(true));
  search(false);
});
