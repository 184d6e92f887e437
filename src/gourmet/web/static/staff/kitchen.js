// The kitchen board: open orders pushed by the server (server-sent events), one tap per move,
// and a visible and audible alert when a new order arrives.
"use strict";

const LABELS = {
  accepted: "Accept", preparing: "Start preparing", ready: "Ready",
  completed: "Picked up", out_for_delivery: "Out for delivery", delivered: "Delivered",
  rejected: "Reject", cancelled: "Cancel",
};
const seen = new Set();
let firstLoad = true;
let soundOn = false;
let audio = null;

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

function card({ order, next_statuses: nextStatuses }, fresh) {
  const item = el("li", undefined, fresh ? "card fresh" : "card");
  item.dataset.token = order.token;
  const title = el("h3");
  title.append(el("span", `#${order.number} ${order.customer_name}`), el("span", money(order.totals.total_cents)));
  item.append(title);
  const when = order.asap ? "ASAP" : "at";
  item.append(el("p", `${order.fulfilment} · ${when} ${localTime(order.slot_start)} · ${age(order.created_at)}`, "meta age"));
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
  item.append(actions);
  return item;
}

function render(cards) {
  let arrived = false;
  for (const column of document.querySelectorAll(".column ol")) column.replaceChildren();
  for (const entry of cards) {
    const fresh = !seen.has(entry.order.token);
    if (fresh && !firstLoad && entry.order.status === "received") arrived = true;
    seen.add(entry.order.token);
    const column = document.querySelector(`.column[data-status="${entry.order.status}"] ol`);
    if (column) column.append(card(entry, fresh && !firstLoad));
  }
  firstLoad = false;
  if (arrived) {
    const banner = document.getElementById("new-order");
    banner.hidden = false;
    setTimeout(() => { banner.hidden = true; }, 4000);
    beep();
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

document.getElementById("sound").addEventListener("click", (event) => {
  soundOn = !soundOn;
  event.target.textContent = soundOn ? "Sound on" : "Turn sound on";
  event.target.setAttribute("aria-pressed", String(soundOn));
  if (soundOn) beep();
});
setInterval(() => {
  for (const node of document.querySelectorAll(".age")) {
    node.textContent = node.textContent.replace(/[^·]*$/, ` ${age(node.dataset.created)}`);
  }
}, 30000);
connect();
