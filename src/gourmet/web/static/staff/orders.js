// Past orders: search /api/staff/orders/search, page by page, and open any order in full.
// Managers also see its refunds and make one (/api/manage/orders/{number}/refunds).
"use strict";

const API = "/api/staff/orders";
const REFUNDS = (number) => `/api/manage/orders/${number}/refunds`;
let next = null;
let money = null;
const cents = (value) => money.format(value / 100);
let shown = null; // the order open below the list
let refundKey = null; // one per refund asked: a double click or a retry makes one refund

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
  shown = order;
  if (document.getElementById("refund")) await showRefunds();
}

// -- refunds (managers) -------------------------------------------------------------------------

async function showRefunds() {
  const response = await fetch(REFUNDS(shown.number), { credentials: "same-origin" });
  const body = await response.json();
  const left = document.getElementById("refund-left");
  if (!response.ok) {
    left.textContent = body.detail || "The refunds could not be read.";
    return;
  }
  left.textContent = body.paid_cents
    ? `Paid ${cents(body.paid_cents)}; refunded ${cents(body.refunded_cents)}` +
      (body.pending_cents ? `, ${cents(body.pending_cents)} on its way` : "") +
      `; ${cents(body.refundable_cents)} can still be refunded.`
    : "Nothing has been paid yet (an order paid at pickup is paid once collected).";
  document.getElementById("refund-list").replaceChildren(...body.refunds.map((refund) => text("li",
    `${new Date(refund.created_at).toLocaleString()} ${cents(refund.amount_cents)} ` +
    `${refund.method === "cash" ? "in cash" : "to the card"} (${refund.state}) by ${refund.requested_by}: ${refund.reason}`)));
  const form = document.getElementById("refund-form");
  form.hidden = body.refundable_cents === 0;
  form.reset();
  refundKey = crypto.randomUUID();
  const lines = document.getElementById("refund-lines");
  lines.replaceChildren(...shown.lines.map((line, index) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    Object.assign(input, { type: "number", min: 0, max: line.quantity, value: 0, name: `line-${index + 1}` });
    input.dataset.position = String(index + 1);
    label.append(input, ` of ${line.quantity} × ${line.name}`);
    return label;
  }));
  whatChanged();
}

function whatChanged() {
  const what = new FormData(document.getElementById("refund-form")).get("what");
  document.getElementById("refund-lines").hidden = what !== "lines";
  document.getElementById("refund-amount-row").hidden = what !== "amount";
}

function refundBody() {
  const form = document.getElementById("refund-form");
  const what = new FormData(form).get("what");
  const body = { reason: document.getElementById("refund-reason").value };
  if (what === "whole") body.whole = true;
  if (what === "amount") body.amount_cents = Math.round(Number(document.getElementById("refund-amount").value) * 100);
  if (what === "lines") {
    body.lines = [...document.querySelectorAll("#refund-lines input")]
      .filter((input) => Number(input.value) > 0)
      .map((input) => ({ position: Number(input.dataset.position), quantity: Number(input.value) }));
  }
  return body;
}

async function refund(event) {
  event.preventDefault();
  const error = document.getElementById("refund-error");
  const button = event.target.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const response = await fetch(REFUNDS(shown.number), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "Idempotency-Key": refundKey,
        "X-Requested-With": "gourmet",
      },
      body: JSON.stringify(refundBody()),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      error.textContent = body.detail || "The refund could not be made.";
      error.hidden = false;
      return;
    }
    error.hidden = true;
    await show(shown.number);
  } catch {
    error.textContent = "Gourmet cannot be reached; check the connection and refund again.";
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const currency = document.querySelector("main").dataset.currency || "USD";
  money = new Intl.NumberFormat(undefined, { style: "currency", currency });
  const refundForm = document.getElementById("refund-form");
  if (refundForm) {
    refundForm.addEventListener("submit", refund);
    refundForm.addEventListener("change", whatChanged);
  }
  document.getElementById("search").addEventListener("submit", (event) => {
    event.preventDefault();
    search(false);
  });
  document.getElementById("more").addEventListener("click", () => search(true));
  search(false);
});
