// The kitchen board: open orders pushed by the server (server-sent events), the soonest due
// first, one tap per move. Each card counts down to its due time and turns red when late;
// pre-orders wait in "Later" until their preparation time (the restaurant's lead time, busy
// mode included, before they are due). A new order raises an alert that stays, and sounds every
// few seconds, until someone taps "Got it". Busy mode adds minutes to every wait with one tap.
// A printer that stops answering is said above the board; accepted orders can be reprinted.
"use strict";

const REPEAT_ALERT_MS = 8000;
const TICK_MS = 15000;
const PRINTERS_EVERY_MS = 10000;
const PRINTED = new Set(["accepted", "preparing", "ready", "out_for_delivery"]);

const LABELS = {
  accepted: "Accept", preparing: "Start preparing", ready: "Ready",
  completed: "Picked up", out_for_delivery: "Out for delivery", delivered: "Delivered",
  rejected: "Reject", cancelled: "Cancel",
};
const seen = new Set();
let firstLoad = true;
let soundOn = false;
let audio = null;
let alertTimer = null;
let lastCards = [];
let stations = []; // the station printers (GET /api/staff/printers)
let prepMinutes = 20; // the lead time, busy mode included (from GET /api/staff/busy)

function money(cents) { return `$${(cents / 100).toFixed(2)}`; }

function age(createdAt) {
  const minutes = Math.max(0, Math.round((Date.now() - new Date(createdAt)) / 60000));
  return minutes < 1 ? "just now" : `${minutes} min ago`;
}

function localTime(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function beep() {
  if (!soundOn) return;
  audio = audio || new AudioContext();
  for (const [delay, pitch] of [[0, 880], [0.25, 1175]]) {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = pitch;
    gain.gain.setValueAtTime(0.3, audio.currentTime + delay);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + delay + 0.2);
    tone.connect(gain).connect(audio.destination);
    tone.start(audio.currentTime + delay);
    tone.stop(audio.currentTime + delay + 0.2);
  }
}

function minutesUntil(iso) {
  return Math.round((new Date(iso) - Date.now()) / 60000);
}

function dueText(order) {
  const left = minutesUntil(order.estimated_ready_at);
  if (order.status === "ready" || order.status === "out_for_delivery") return `due ${localTime(order.estimated_ready_at)}`;
  if (left < 0) return `LATE by ${-left} min (due ${localTime(order.estimated_ready_at)})`;
  return `due in ${left} min (${localTime(order.estimated_ready_at)})`;
}

function isLate(order) {
  return minutesUntil(order.estimated_ready_at) < 0 && !["ready", "out_for_delivery"].includes(order.status);
}

// A pre-order waits in "Later" until its preparation time; orders for as soon as possible never do.
function isLater(order) {
  return !order.asap && ["received", "accepted"].includes(order.status)
    && minutesUntil(order.estimated_ready_at) > prepMinutes;
}

function card({ order, next_statuses: nextStatuses }, fresh) {
  const item = el("li", undefined, fresh ? "card fresh" : "card");
  if (isLate(order)) item.classList.add("late");
  item.dataset.token = order.token;
  const title = el("h3");
  title.append(el("span", `#${order.number} ${order.customer_name}`), el("span", money(order.totals.total_cents)));
  item.append(title);
  item.append(el("p", dueText(order), "due"));
  const when = order.asap ? "ASAP" : "pre-order";
  item.append(el("p", `${order.fulfilment} · ${when} · ${age(order.created_at)}`, "meta age"));
  item.querySelector(".age").dataset.created = order.created_at;
  const lines = el("ul");
  for (const line of order.lines) {
    const options = line.options.map((o) => o.name).join(", ");
    const text = `${line.quantity} × ${line.name}${options ? ` (${options})` : ""}${line.notes ? ` — ${line.notes}` : ""}`;
    lines.append(el("li", text));
  }
  item.append(lines);
  if (order.notes) item.append(el("p", order.notes, "notes"));
  if (order.address) item.append(el("p", `${order.address.line1}, ${order.address.postcode}`, "meta"));
  const actions = el("div", undefined, "actions");
  for (const status of nextStatuses) {
    const button = el("button", LABELS[status] || status);
    if (status === "rejected" || status === "cancelled") button.className = "danger";
    button.type = "button";
    button.addEventListener("click", () => move(order.number, status));
    actions.append(button);
  }
  if (stations.length && PRINTED.has(order.status)) {
    const again = el("button", "Reprint");
    again.type = "button";
    again.addEventListener("click", () => reprint(order.number));
    actions.append(again);
  }
  item.append(actions);
  const last = order.history[order.history.length - 1];
  if (last && last.actor !== "customer") {
    const what = last.reason && last.status === order.status ? last.reason : LABELS[last.status] || last.status;
    item.append(el("p", `${what} · ${last.actor} · ${localTime(last.at)}`, "changed"));
  }
  return item;
}

// -- orders nobody has accepted ------------------------------------------------------------------

const ALARM_MINUTES = Number(document.body.dataset.alarmMinutes || 0);

function waitingMinutes(order) {
  return (Date.now() - new Date(order.created_at)) / 60000;
}

// An order still "New" after the restaurant's minutes: said above the board, its card marked,
// and the sound repeats (with the sound on) until someone accepts or rejects it.
function checkUnaccepted() {
  const banner = document.getElementById("unaccepted");
  const late = ALARM_MINUTES > 0
    ? lastCards.filter(({ order }) => order.status === "received" && waitingMinutes(order) >= ALARM_MINUTES)
    : [];
  for (const { order } of late) {
    document.querySelector(`li[data-token="${order.token}"]`)?.classList.add("unaccepted-card");
  }
  banner.hidden = late.length === 0;
  banner.textContent = late.map(({ order }) =>
    `Order #${order.number} has waited ${Math.floor(waitingMinutes(order))} min for someone to accept it.`).join(" ");
  if (late.length) beep();
}

function render(cards, { redraw = false } = {}) {
  lastCards = cards;
  let arrived = 0;
  for (const column of document.querySelectorAll(".column ol")) column.replaceChildren();
  for (const entry of cards) {
    const fresh = !redraw && !seen.has(entry.order.token);
    if (fresh && !firstLoad && entry.order.status === "received") arrived += 1;
    seen.add(entry.order.token);
    const status = isLater(entry.order) ? "later" : entry.order.status;
    const column = document.querySelector(`.column[data-status="${status}"] ol`);
    if (column) column.append(card(entry, fresh && !firstLoad));
  }
  firstLoad = false;
  if (arrived) raiseAlert(arrived);
  checkUnaccepted();
}

// The alert stays, and sounds again every few seconds, until someone acknowledges it.
function raiseAlert(count) {
  const banner = document.getElementById("new-order");
  const text = document.getElementById("new-order-text");
  const waiting = banner.hidden ? 0 : Number(banner.dataset.count || 0);
  banner.dataset.count = String(waiting + count);
  text.textContent = waiting + count === 1 ? "New order!" : `${waiting + count} new orders!`;
  banner.hidden = false;
  beep();
  clearInterval(alertTimer);
  alertTimer = setInterval(beep, REPEAT_ALERT_MS);
}

function acknowledge() {
  clearInterval(alertTimer);
  alertTimer = null;
  const banner = document.getElementById("new-order");
  banner.hidden = true;
  banner.dataset.count = "0";
}

// -- busy mode ---------------------------------------------------------------------------------

function showBusy(state) {
  prepMinutes = state.lead_minutes + state.extra_minutes;
  const label = document.getElementById("busy-state");
  const on = state.extra_minutes > 0;
  label.className = on ? "busy-state on" : "busy-state";
  label.textContent = on
    ? `Busy: +${state.extra_minutes} min until ${localTime(state.until)}`
    : "Not busy";
  for (const button of document.querySelectorAll("[data-busy]")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.busy) === state.extra_minutes && on));
  }
}

async function loadBusy() {
  const response = await fetch("/api/staff/busy", { credentials: "same-origin" });
  if (response.ok) showBusy(await response.json());
}

async function setBusy(extra) {
  const response = await fetch("/api/staff/busy", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Requested-With": "gourmet" },
    body: JSON.stringify({ extra_minutes: extra, for_minutes: 60 }),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    alert(problem.detail || `Could not change busy mode (HTTP ${response.status}).`);
    return;
  }
  showBusy(await response.json());
  render(lastCards, { redraw: true });
}

// -- printers -----------------------------------------------------------------------------------

async function loadPrinters() {
  const response = await fetch("/api/staff/printers", { credentials: "same-origin" });
  if (!response.ok) return;
  const printers = await response.json();
  const hadNone = !stations.length;
  stations = printers.map((printer) => printer.station);
  const off = printers.filter((printer) => !printer.answering);
  const banner = document.getElementById("printers");
  banner.hidden = off.length === 0;
  banner.textContent = off.map((printer) =>
    `Printer ${printer.station} is not answering: ${printer.waiting} ticket(s) waiting.`).join(" ");
  banner.title = off.map((printer) => printer.last_error).join("\n"); // the details, on hover
  if (hadNone && stations.length) render(lastCards, { redraw: true });
}

async function reprint(number) {
  const response = await fetch(`/api/staff/orders/${number}/print`, {
    method: "POST", credentials: "same-origin",
    headers: { "X-Requested-With": "gourmet" },
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    alert(problem.detail || `Could not print the ticket again (HTTP ${response.status}).`);
  }
}

async function move(number, status) {
  let reason = null;
  if (status === "rejected") {
    reason = await askReason();
    if (!reason) return;
  }
  const response = await fetch(`/api/staff/orders/${number}/status`, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Requested-With": "gourmet" },
    body: JSON.stringify({ status, reason }),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    alert(problem.detail || `Could not change the order (HTTP ${response.status}).`);
  }
}

function askReason() {
  const dialog = document.getElementById("reject-dialog");
  const input = document.getElementById("reject-reason");
  input.value = "";
  return new Promise((resolve) => {
    const form = document.getElementById("reject-form");
    const done = (value) => { dialog.close(); resolve(value); };
    form.onsubmit = (event) => { event.preventDefault(); done(input.value.trim()); };
    document.getElementById("reject-cancel").onclick = () => done(null);
    dialog.showModal();
  });
}

function connect() {
  const status = document.getElementById("connection");
  const source = new EventSource("/api/staff/orders/events");
  source.addEventListener("orders", (event) => {
    status.textContent = "Live";
    status.className = "connection live";
    render(JSON.parse(event.data));
  });
  source.onerror = () => {
    status.textContent = "Reconnecting…";
    status.className = "connection";
  };
}

for (const button of document.querySelectorAll("[data-busy]")) {
  button.addEventListener("click", () => setBusy(Number(button.dataset.busy)));
}
document.getElementById("acknowledge").addEventListener("click", acknowledge);
document.getElementById("sound").addEventListener("click", (event) => {
  soundOn = !soundOn;
  event.target.textContent = soundOn ? "Sound on" : "Turn sound on";
  event.target.setAttribute("aria-pressed", String(soundOn));
  if (soundOn) beep();
});
// Timers and the "Later" column move with the clock; busy mode can end by itself.
setInterval(() => render(lastCards, { redraw: true }), TICK_MS);
setInterval(loadBusy, 60000);
setInterval(checkUnaccepted, REPEAT_ALERT_MS);
setInterval(loadPrinters, PRINTERS_EVERY_MS);
loadPrinters();
loadBusy().finally(connect);
