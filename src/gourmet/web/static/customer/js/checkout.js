// Checkout: the form, the slot picker, and placing the order through POST /api/orders.
//
// One Idempotency-Key per checkout attempt, created at the first "Place order" and kept (in
// sessionStorage, so even a reload keeps it) until an order exists: every retry, automatic after
// a 503 or by hand after a lost connection, sends the same key and the same body, so the server
// answers with the same order instead of cooking it twice.
//
// When the kitchen's checkout capacity is full, the server keeps the attempt in a line and, if
// its turn does not come within a few seconds, answers with the place in line, an estimate and a
// ticket that keeps the time of the first attempt. The page shows the place, counts down, and
// sends the ticket back with the retry, so the customer keeps their place (in sessionStorage
// with the key: a reload keeps it too).

import { isBusy, problemSlug, send } from "./api.js";
import {
  cartSubtotal,
  clearCart,
  describeLine,
  indexMenu,
  itemCount,
  loadCart,
  onCartChange,
  renderCartLines,
} from "./cart.js";
import { money, readJSON, restaurantTimeZone, timeFormats } from "./format.js";
import { setUpPaymentRecovery } from "./payment.js";
import { SlotPicker, showAsapQuote } from "./slots.js";

// Online checkout, or a phone order that staff enter (the phone page, /phone).
const ENDPOINT = document.getElementById("checkout-form").dataset.endpoint || "/api/orders";
const PHONE = ENDPOINT !== "/api/orders";
const KEY_STORAGE = "gourmet.checkout.key";
const TICKET_STORAGE = "gourmet.checkout.ticket";
const CONTACT_STORAGE = "gourmet.contact";
const MAX_AUTOMATIC_RETRIES = 20;
const MAX_LINE_WAIT_MS = 10 * 60 * 1000; // in line, the page keeps trying this long
const SLOW_ANSWER_MS = 2000; // no answer yet: the attempt is waiting in line

const menu = readJSON("menu-data");
const index = indexMenu(menu);
const formats = timeFormats(restaurantTimeZone());
const form = document.getElementById("checkout-form");
const placeButton = document.querySelector("[data-place-order]");
const formError = document.querySelector("[data-form-error]");
const busyBanner = document.querySelector("[data-busy-banner]");
const slots = new SlotPicker(
  document.getElementById("slot"),
  document.querySelector("[data-slot-status]"),
  { formats, paused: Boolean(menu?.ordering_paused) },
);
const slotOffer = document.querySelector("[data-slot-offer]");
const asapQuote = document.querySelector("[data-asap-quote]");
let quotedFor = null; // the fulfilment whose ASAP quote is shown
let flaggedItems = new Set(); // items the server said are sold out
let submitting = false;

// -- small helpers ---------------------------------------------------------------------------

function storage(kind) {
  try {
    return window[kind];
  } catch {
    return null;
  }
}

function idempotencyKey() {
  const session = storage("sessionStorage");
  let key = session?.getItem(KEY_STORAGE);
  if (!key) {
    key = crypto.randomUUID ? crypto.randomUUID() : fallbackUUID();
    session?.setItem(KEY_STORAGE, key);
  }
  return key;
}

function fallbackUUID() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function forgetIdempotencyKey() {
  storage("sessionStorage")?.removeItem(KEY_STORAGE);
  storage("sessionStorage")?.removeItem(TICKET_STORAGE);
}

// The waiting room's ticket for this attempt, if it was given one.
function lineTicket() {
  return storage("sessionStorage")?.getItem(TICKET_STORAGE) || null;
}

function keepLineTicket(ticket) {
  if (ticket) storage("sessionStorage")?.setItem(TICKET_STORAGE, ticket);
}

function value(name) {
  const field = form.elements.namedItem(name);
  if (field instanceof RadioNodeList) return field.value;
  return field ? field.value.trim() : "";
}

const fulfilment = () => value("fulfilment");

// -- the cart summary ------------------------------------------------------------------------

function renderSummary() {
  const cart = loadCart();
  renderCartLines(document.querySelector("[data-cart-lines]"), cart, index, {
    flagged: flaggedItems,
  });
  const count = itemCount(cart);
  const row = document.querySelector("[data-cart-total-row]");
  row.hidden = count === 0;
  row.querySelector("[data-cart-total]").textContent = money(cartSubtotal(cart, index));
  const tip = tipCents(cartSubtotal(cart, index));
  const tipRow = document.querySelector("[data-tip-row]");
  tipRow.hidden = count === 0 || tip === 0;
  tipRow.querySelector("[data-tip-total]").textContent = money(tip);
  if (!submitting) placeButton.disabled = count === 0;
}

// -- the tip: a percentage of the subtotal (rounded as the server rounds it) or an amount ----

function tipCents(subtotalCents) {
  const choice = value("tip");
  if (!choice) return 0;
  if (choice === "amount") return amountCents();
  return Math.floor((subtotalCents * Number(choice) + 50) / 100);
}

function amountCents() {
  const typed = Number.parseFloat(document.getElementById("tip-amount").value);
  return Number.isFinite(typed) && typed > 0 ? Math.round(typed * 100) : 0;
}

// -- showing errors next to their fields -----------------------------------------------------

function clearErrors() {
  formError.textContent = "";
  for (const box of document.querySelectorAll("[data-error-for]")) box.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]"))
    input.removeAttribute("aria-invalid");
  slotOffer.hidden = true;
}

const FIELD_INPUTS = {
  "address.line1": "address-line1",
  "address.postcode": "address-postcode",
  "customer.name": "customer-name",
  "customer.phone": "customer-phone",
  "customer.email": "customer-email",
  notes: "order-notes",
  slot: "slot",
  card_token: "card-token",
  tip_cents: "tip-amount",
};

function fieldError(field, message, { focus = true } = {}) {
  const box = document.querySelector(`[data-error-for="${field}"]`);
  if (!box) {
    showFormError(message);
    return;
  }
  box.textContent = message;
  const input = document.getElementById(FIELD_INPUTS[field] || "");
  if (input) input.setAttribute("aria-invalid", "true");
  if (focus) (input && !input.closest("[hidden]") ? input : box).focus?.();
  (input || box).scrollIntoView?.({ block: "center" });
}

function showFormError(message) {
  formError.textContent = message;
  formError.focus();
}

// -- fulfilment, time and payment choices ----------------------------------------------------

function syncChoices() {
  const delivery = fulfilment() === "delivery";
  document.querySelector("[data-address]").hidden = !delivery;
  document.getElementById("address-line1").required = delivery;
  document.getElementById("address-postcode").required = delivery;
  const scheduled = value("when") === "slot";
  if (quotedFor !== fulfilment()) {
    quotedFor = fulfilment();
    const prepTimes = loadCart().lines.map((line) => index.get(line.itemId)?.item.prep_minutes);
    showAsapQuote(fulfilment(), asapQuote, prepTimes);
  }
  document.querySelector("[data-slot-field]").hidden = !scheduled;
  if (scheduled && slots.loadedFor !== fulfilment()) slots.load(fulfilment(), fulfilment);
  const cardField = document.querySelector("[data-card-field]");
  if (cardField) cardField.hidden = value("payment") !== "card";
}

// A slot the server proposes (the next free one): one click chooses it and places the order.
function offerSlot(iso, message) {
  const text = slotOffer.querySelector("[data-slot-offer-text]");
  const button = slotOffer.querySelector("[data-slot-offer-button]");
  text.textContent = `${message} The next free time is ${formats.time(iso)}, ${formats.day(iso)}.`;
  button.textContent = `Order for ${formats.time(iso)} instead`;
  button.onclick = async () => {
    form.querySelector('input[name="when"][value="slot"]').checked = true;
    document.querySelector("[data-slot-field]").hidden = false;
    slots.choose(iso);
    slotOffer.hidden = true;
    slots.load(fulfilment(), fulfilment, iso); // refresh the list around it, in the background
    submit();
  };
  slotOffer.hidden = false;
  button.focus();
}

// -- building and placing the order ----------------------------------------------------------

function checkForm(cart) {
  let ok = true;
  const problems = [];
  if (cart.lines.length === 0) {
    fieldError("lines", "Your order is empty. Add something from the menu first.", {
      focus: false,
    });
    ok = false;
  } else if (cart.lines.some((line) => describeLine(line, index).problem)) {
    fieldError("lines", "Some items cannot be ordered right now. Please remove them first.", {
      focus: false,
    });
    ok = false;
  }
  const required = [
    ["customer.name", "Please enter your name."],
    ["customer.phone", "Please enter a phone number (at least 5 characters) so we can reach you."],
  ];
  if (fulfilment() === "delivery") {
    required.unshift(
      ["address.line1", "Please enter the street address for delivery."],
      ["address.postcode", "Please enter the ZIP code for delivery."],
    );
  }
  for (const [field, message] of required) {
    const input = document.getElementById(FIELD_INPUTS[field]);
    if (!input.value.trim() || !input.checkValidity()) problems.push([field, message]);
  }
  const email = document.getElementById("customer-email");
  if (email.value && !email.checkValidity()) {
    problems.push(["customer.email", "Please check the email address (or leave it empty)."]);
  }
  if (value("when") === "slot" && !slots.value) {
    problems.push(["slot", "Please choose a time, or pick \u201cAs soon as possible\u201d."]);
  }
  problems.forEach(([field, message], i) => fieldError(field, message, { focus: i === 0 }));
  return ok && problems.length === 0;
}

function orderBody(cart) {
  const body = {
    fulfilment: fulfilment(),
    customer: { name: value("name"), phone: value("phone") },
    lines: cart.lines.map((line) => ({
      item_id: line.itemId,
      quantity: line.quantity,
      option_ids: line.optionIds,
      notes: line.notes || "",
    })),
    notes: document.getElementById("order-notes").value,
    payment: value("payment") || "pay_at_pickup",
  };
  if (value("email")) body.customer.email = value("email");
  if (value("when") === "slot") body.slot = slots.value;
  if (body.fulfilment === "delivery") {
    body.address = { line1: value("line1"), postcode: value("postcode"), city: value("city") };
  }
  // With Stripe the card is confirmed on the order's page, after the order is placed.
  if (body.payment === "card" && form.elements.namedItem("card_token")) {
    body.card_token = value("card_token");
  }
  const tip = value("tip");
  if (tip === "amount") body.tip_cents = amountCents();
  else if (tip) body.tip_percent = Number(tip);
  if (PHONE && form.elements.namedItem("override")?.checked) body.override = true;
  return body;
}

function setSubmitting(on, label = "Placing your order\u2026") {
  submitting = on;
  placeButton.disabled = on || itemCount(loadCart()) === 0;
  placeButton.textContent = on ? label : "Place order";
  form.setAttribute("aria-busy", on ? "true" : "false");
}

async function submit() {
  if (submitting) return;
  clearErrors();
  const cart = loadCart();
  if (!checkForm(cart)) return;
  rememberContact();
  await place(orderBody(cart), idempotencyKey(), 0, Date.now());
}

async function place(body, key, attempt, startedAt) {
  setSubmitting(true);
  const headers = { "Idempotency-Key": key };
  const ticket = lineTicket();
  if (ticket) headers["Gourmet-Ticket"] = ticket;
  // In a rush the restaurant keeps the attempt waiting in line (up to 10 s) before it answers
  // with a place: say so, instead of a button that seems stuck.
  const slow = setTimeout(() => {
    setSubmitting(true, "Waiting in line\u2026");
    busyBanner.querySelector("[data-busy-text]").textContent =
      "A busy moment: you are in line for the kitchen. Keep this page open; " +
      "nothing is charged until your order is placed.";
    busyBanner.hidden = false;
  }, SLOW_ANSWER_MS);
  const result = await send("POST", ENDPOINT, { body, headers });
  clearTimeout(slow);
  if (result.ok) {
    placed(result.data);
    return;
  }
  const inLine = problemSlug(result) === "waiting-room";
  if (inLine) keepLineTicket(result.data.ticket);
  // Waiting in line is not failing: those answers do not count against the retries.
  const tries = inLine ? attempt : attempt + 1;
  const patient = tries <= MAX_AUTOMATIC_RETRIES && Date.now() - startedAt < MAX_LINE_WAIT_MS;
  if (isBusy(result) && patient) {
    retryLater(body, key, tries, startedAt, result);
    return;
  }
  busyBanner.hidden = true;
  setSubmitting(false);
  if (isBusy(result)) {
    showFormError(
      "We are still very busy and your order was not placed. Please try again in a few minutes.",
    );
    return;
  }
  showProblem(result);
}

// 503: nothing was done. Say so kindly, count down, and send the very same request again.
function retryLater(body, key, attempt, startedAt, result) {
  let left = result.retryAfter;
  const text = busyBanner.querySelector("[data-busy-text]");
  const reason = busyReason(result);
  const draw = () => {
    text.textContent = `${reason} \u2014 retrying in ${left} s.`;
  };
  draw();
  busyBanner.hidden = false;
  const inLine = problemSlug(result) === "waiting-room";
  setSubmitting(true, inLine ? "Waiting in line\u2026" : "Waiting to retry\u2026");
  const timer = setInterval(() => {
    left -= 1;
    if (left > 0) {
      draw();
      return;
    }
    clearInterval(timer);
    text.textContent = "Trying again now\u2026";
    place(body, key, attempt, startedAt);
  }, 1000);
}

function busyReason(result) {
  if (result.status === 0) {
    return "We could not reach the restaurant, your order was not placed yet";
  }
  if (problemSlug(result) !== "waiting-room") {
    return "We are very busy, your order was not placed";
  }
  const place = Number(result.data.place_in_line);
  const wait = Number(result.data.estimated_wait_s);
  const estimate = Number.isFinite(wait) && wait > 0 ? `, about ${Math.ceil(wait)} s to go` : "";
  return (
    `You are in line: number ${place}${estimate}. Keep this page open; ` +
    "your place is kept and nothing is charged until your order is placed"
  );
}

function placed(order) {
  clearCart();
  forgetIdempotencyKey();
  window.location.assign(`/orders/${encodeURIComponent(order.token)}`);
}

function showProblem(result) {
  const problem = result.data || {};
  const detail = problem.detail || "";
  switch (problemSlug(result)) {
    case "slot-full":
      if (problem.next_free_slot) {
        fieldError("slot", "That time just filled up.", { focus: false });
        offerSlot(problem.next_free_slot, "Sorry, that time is full.");
      } else {
        fieldError("slot", "Every time in the next hours is full. Please try again a bit later.");
      }
      return;
    case "outside-opening-hours":
      // The detail speaks to programs ("pick a slot from /api/slots"); say it for people.
      fieldError(
        "slot",
        value("when") === "slot"
          ? "That time is no longer available (too soon, or we are closed then)."
          : "We are closed right now, so we cannot cook as soon as possible.",
        { focus: false },
      );
      if (problem.next_free_slot) offerSlot(problem.next_free_slot, "Please choose another time.");
      return;
    case "outside-delivery-zone":
      fieldError("address.postcode", detail || "We do not deliver to this ZIP code.");
      return;
    case "address-required":
      fieldError("address.line1", "Please enter the street address and ZIP code for delivery.");
      return;
    case "item-unavailable":
      flaggedItems = new Set(problem.item_ids || []);
      renderSummary();
      fieldError("lines", detail || "Something in your order is not available any more.");
      return;
    case "below-minimum-order":
    case "unknown-item":
    case "option-rules":
    case "quantity-out-of-range":
    case "invalid-cart":
      fieldError("lines", detail || "Please check the items in your order.");
      return;
    case "card-token-required":
      fieldError("card_token", detail || "Please choose a card.");
      return;
    case "invalid-email":
      fieldError("customer.email", "Please enter one email address, like name@example.com.");
      return;
    case "payment-declined":
    case "payments-unavailable":
    case "payment-not-possible":
      if (problem.order_token) {
        orderSaved(problem);
        return;
      }
      break;
    case "idempotency-key-reused":
      forgetIdempotencyKey();
      showFormError(
        "An earlier attempt from this page already placed an order with different details. " +
          "Check whether you received it before ordering again.",
      );
      return;
    case "bad-request":
      if (badRequest(problem)) return;
      break;
    case "body-too-large":
      showFormError("Your order is too large to send. Please shorten the notes.");
      return;
    default:
      break;
  }
  showFormError(detail || "Something went wrong and your order was not placed. Please try again.");
}

// Schema errors name the field (errors[0].key is "customer.phone"): put a plain-words message
// next to it.
const FIELD_WORDS = {
  "customer.name": "Please check your name.",
  "customer.phone": "Please enter a phone number of at least 5 characters.",
  "customer.email": "Please check the email address.",
  "address.line1": "Please check the street address.",
  "address.postcode": "Please check the ZIP code.",
  notes: "The notes are too long (500 characters at most).",
  slot: "Please choose a time from the list.",
  card_token: "Please choose a card.",
  tip_cents: "Please enter a tip between $0 and $1,000.",
};

function badRequest(problem) {
  const field = (problem.errors?.[0]?.key || "").replace(/^\$\./, "");
  if (!(field in FIELD_WORDS)) return false;
  fieldError(field, FIELD_WORDS[field]);
  return true;
}

// The order exists, waiting for its payment: offer another card or paying at pickup.
let recovery = null;
function orderSaved(problem) {
  clearCart();
  forgetIdempotencyKey();
  const panel = document.querySelector("[data-payment-recovery]");
  const link = panel.querySelector("[data-order-link]");
  link.href = `/orders/${encodeURIComponent(problem.order_token)}`;
  recovery ??= setUpPaymentRecovery(panel, {
    token: problem.order_token,
    onPaid: (order) => placed(order),
  });
  recovery.show(problem);
  placeButton.hidden = true;
  panel.scrollIntoView?.({ block: "center" });
}

// -- a holiday: say so before the customer fills in the form ---------------------------------

async function showClosedToday() {
  const result = await send("GET", `/api/slots?fulfilment=${encodeURIComponent(fulfilment())}`);
  const message = result.ok ? result.data.closed_today : null;
  if (message === null || message === undefined) return;
  const notice = document.querySelector("[data-closed-today]");
  notice.textContent =
    `Closed today${message ? `: ${message}` : ""}. You can still order for another day: ` +
    "choose a time below.";
  notice.hidden = false;
}

// -- remembering contact details for next time -------------------------------------------------

function rememberContact() {
  if (PHONE) return; // each caller is someone else
  const contact = { name: value("name"), phone: value("phone"), email: value("email") };
  try {
    storage("localStorage")?.setItem(CONTACT_STORAGE, JSON.stringify(contact));
  } catch {
    // not remembered; nothing else depends on it
  }
}

function restoreContact() {
  if (PHONE) return;
  try {
    const contact = JSON.parse(storage("localStorage")?.getItem(CONTACT_STORAGE) || "null");
    if (!contact) return;
    for (const [name, id] of [
      ["name", "customer-name"],
      ["phone", "customer-phone"],
      ["email", "customer-email"],
    ]) {
      const input = document.getElementById(id);
      if (!input.value && typeof contact[name] === "string") input.value = contact[name];
    }
  } catch {
    // nothing remembered
  }
}

// -- wiring ----------------------------------------------------------------------------------

form.addEventListener("change", (event) => {
  if (["fulfilment", "when", "payment"].includes(event.target.name)) {
    if (event.target.name === "fulfilment") slots.loadedFor = null;
    syncChoices();
  }
  if (event.target.name === "tip") {
    document.querySelector("[data-tip-amount-field]").hidden = value("tip") !== "amount";
    renderSummary();
  }
});
form.addEventListener("input", (event) => {
  const target = event.target;
  if (target.name === "tip_amount") renderSummary();
  if (target.getAttribute("aria-invalid")) {
    target.removeAttribute("aria-invalid");
    const describedBy = target.getAttribute("aria-describedby") || "";
    for (const id of describedBy.split(" ")) {
      const box = document.getElementById(id);
      if (box?.dataset.errorFor) box.textContent = "";
    }
  }
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
onCartChange(() => {
  flaggedItems = new Set();
  renderSummary();
});
restoreContact();
syncChoices();
renderSummary();
showClosedToday();
