// Order tracking: the page is rendered by the server; this keeps it current without a reload.
// Server-sent events (``order`` events carry the whole order) when the browser can hold a
// stream, and GET /api/orders/{token} every 5 s when it cannot or the stream fails.

import { send } from "./api.js";
import { el, money, readJSON, restaurantTimeZone, timeFormats } from "./format.js";
import { setUpPaymentRecovery } from "./payment.js";

const POLL_MS = 5000;
const FINISHED = new Set(["completed", "delivered", "rejected", "cancelled"]);
const CANCELLABLE = new Set(["received", "awaiting_payment"]); // until the kitchen takes it

const root = document.querySelector("[data-order-token]");
const token = root.dataset.orderToken;
const labels = readJSON("labels-data");
const formats = timeFormats(restaurantTimeZone());
const liveState = document.querySelector("[data-live-state]");
const recoveryPanel = document.querySelector("[data-payment-recovery]");
const cancelPanel = document.querySelector("[data-cancel]");
let status = root.dataset.orderStatus;
let source = null;
let pollTimer = null;

// -- drawing the order -----------------------------------------------------------------------

function render(order) {
  status = order.status;
  root.dataset.orderStatus = order.status;
  document.querySelector("[data-status-label]").textContent = labels.status[order.status];
  renderProgress(order);
  const terminal = document.querySelector("[data-terminal]");
  terminal.hidden = !["rejected", "cancelled"].includes(order.status);
  const reason = order.rejection_reason ? `: ${order.rejection_reason}` : "";
  document.querySelector("[data-terminal-text]").textContent =
    order.status === "rejected"
      ? `The restaurant could not take this order${reason}.`
      : order.status === "cancelled"
        ? "This order was cancelled."
        : "";
  const ready = document.querySelector("[data-ready-time]");
  ready.dateTime = order.estimated_ready_at;
  ready.textContent = formats.time(order.estimated_ready_at);
  document.querySelector("[data-ready-day]").textContent = formats.day(order.estimated_ready_at);
  document.querySelector("[data-payment]").textContent =
    labels.payment[`${order.payment}/${order.payment_status}`] ||
    (order.payment === "card" ? "Card" : "Pay at pickup");
  document.querySelector("[data-refunded-row]").hidden = !order.refunded_cents;
  document.querySelector("[data-refunded]").textContent = money(order.refunded_cents || 0);
  renderHistory(order.history);
  recoveryPanel.hidden = order.status !== "awaiting_payment";
  cancelPanel.hidden = !CANCELLABLE.has(order.status);
  if (FINISHED.has(order.status)) finish();
}

function renderProgress(order) {
  const steps = labels.steps[order.fulfilment];
  const reached = steps.indexOf(order.status);
  const items = steps.map((step, i) => {
    const state = i < reached ? "done" : i === reached ? "current" : "todo";
    return el(
      "li",
      {
        class: `progress__step progress__step--${state}`,
        dataset: { step },
        "aria-current": state === "current" ? "step" : null,
      },
      el("span", { class: "progress__dot", "aria-hidden": "true" }),
      el("span", { class: "progress__label", text: labels.status[step] }),
    );
  });
  document.querySelector("[data-progress]").replaceChildren(...items);
}

function renderHistory(history) {
  const items = history.map((change) =>
    el(
      "li",
      {},
      el("time", {
        dateTime: change.at,
        text: `${formats.time(change.at)}, ${formats.day(change.at)}`,
      }),
      " ",
      el("span", { class: "history__status", text: labels.status[change.status] }),
      change.reason
        ? el("span", { class: "history__reason", text: ` \u2014 ${change.reason}` })
        : null,
    ),
  );
  document.querySelector("[data-history]").replaceChildren(...items);
}

function setLive(text) {
  liveState.textContent = text;
}

// -- live updates ----------------------------------------------------------------------------

function finish() {
  source?.close();
  source = null;
  stopPolling();
  setLive("This order is finished; nothing more will change.");
}

function startStream() {
  if (!("EventSource" in window)) {
    startPolling();
    return;
  }
  source = new EventSource(`/api/orders/${encodeURIComponent(token)}/events`);
  source.addEventListener("open", () => setLive("Live: updates appear here by themselves."));
  source.addEventListener("order", (event) => {
    stopPolling();
    setLive("Live: updates appear here by themselves.");
    render(JSON.parse(event.data));
  });
  source.addEventListener("error", () => {
    if (FINISHED.has(status)) {
      finish();
      return;
    }
    // A dropped stream reconnects by itself; one refused outright (busy, not a stream) is
    // CLOSED for good. Either way poll meanwhile, so the page never goes stale.
    if (source?.readyState === EventSource.CLOSED) source = null;
    startPolling();
  });
}

function startPolling() {
  if (pollTimer !== null || FINISHED.has(status)) return;
  setLive("Checking for updates every 5 seconds.");
  pollTimer = setTimeout(poll, POLL_MS);
}

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

async function poll() {
  const result = await send("GET", `/api/orders/${encodeURIComponent(token)}`);
  if (pollTimer === null) return; // the stream came back meanwhile
  if (result.ok) render(result.data);
  if (FINISHED.has(status)) return;
  const delay = result.ok ? POLL_MS : Math.max(result.retryAfter * 1000, POLL_MS);
  pollTimer = setTimeout(poll, delay);
}

// Cancelling asks once more on the page itself (a second button), never in a browser dialog.
function askToCancel(asking) {
  cancelPanel.querySelector("[data-cancel-button]").hidden = asking;
  cancelPanel.querySelector("[data-cancel-confirm]").hidden = !asking;
}

async function cancelOrder() {
  const button = cancelPanel.querySelector("[data-cancel-yes]");
  const error = cancelPanel.querySelector("[data-cancel-error]");
  button.disabled = true;
  const result = await send("POST", `/api/orders/${encodeURIComponent(token)}/cancel`);
  button.disabled = false;
  askToCancel(false);
  if (result.ok) {
    error.hidden = true;
    render(result.data);
    return;
  }
  error.textContent = result.data?.detail || "The order could not be cancelled; please try again.";
  error.hidden = false;
}

cancelPanel.querySelector("[data-cancel-button]").addEventListener("click", () => askToCancel(true));
cancelPanel.querySelector("[data-cancel-no]").addEventListener("click", () => askToCancel(false));
cancelPanel.querySelector("[data-cancel-yes]").addEventListener("click", cancelOrder);
setUpPaymentRecovery(recoveryPanel, { token, onPaid: render });
if (FINISHED.has(status)) finish();
else startStream();
