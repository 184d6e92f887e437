// The menu page: the item dialog (options with their min/max rules and the running price) and
// the cart panel. The menu itself is rendered by the server; its JSON island feeds the dialog.

import {
  addLine,
  cartSubtotal,
  indexMenu,
  itemCount,
  loadCart,
  MAX_QUANTITY,
  onCartChange,
  renderCartLines,
} from "./cart.js";
import { el, money, readJSON, restaurantTimeZone, signedMoney } from "./format.js";

const menu = readJSON("menu-data");
const index = indexMenu(menu);

// -- cart panel and phone cart bar ---------------------------------------------------------------

function renderCart() {
  const cart = loadCart();
  const lines = document.querySelector("[data-cart-lines]");
  if (lines) renderCartLines(lines, cart, index);
  const count = itemCount(cart);
  const total = money(cartSubtotal(cart, index));
  const totalRow = document.querySelector("[data-cart-total-row]");
  if (totalRow) {
    totalRow.hidden = count === 0;
    totalRow.querySelector("[data-cart-total]").textContent = total;
  }
  const checkout = document.querySelector("[data-checkout-link]");
  if (checkout) checkout.classList.toggle("is-disabled", count === 0);
  const bar = document.querySelector("[data-cart-bar]");
  if (bar) {
    bar.hidden = count === 0;
    bar.querySelector("[data-cart-bar-count]").textContent =
      count === 1 ? "1 item" : `${count} items`;
    bar.querySelector("[data-cart-bar-total]").textContent = total;
  }
}

// -- the item dialog -----------------------------------------------------------------------------

const dialog = document.getElementById("item-dialog");
const form = document.getElementById("item-form");
const groupsBox = document.getElementById("dialog-groups");
const quantityInput = document.getElementById("dialog-quantity");
const notesInput = document.getElementById("dialog-notes");
const errorBox = document.getElementById("dialog-error");
let current = null; // { item, trigger }

function choiceHint(group) {
  const { min_choices: min, max_choices: max } = group;
  if (min === max) return `Choose ${min}`;
  if (min === 0) return `Optional, choose up to ${max}`;
  return `Choose ${min} to ${max}`;
}

function renderGroup(group) {
  const single = group.min_choices === 1 && group.max_choices === 1;
  const hintId = `group-${group.id}-hint`;
  const errorId = `group-${group.id}-error`;
  const fieldset = el("fieldset", {
    class: "option-group",
    "aria-describedby": `${hintId} ${errorId}`,
    dataset: { groupId: String(group.id) },
  });
  fieldset.append(
    el(
      "legend",
      {},
      group.name,
      group.min_choices > 0 ? el("span", { class: "required", text: " (required)" }) : null,
    ),
    el("p", { class: "hint", id: hintId, text: choiceHint(group) }),
  );
  for (const option of group.options) {
    const input = el("input", {
      type: single ? "radio" : "checkbox",
      name: `group-${group.id}`,
      value: String(option.id),
      disabled: !option.available,
      dataset: { available: option.available ? "yes" : "no" },
    });
    fieldset.append(
      el(
        "label",
        { class: option.available ? "choice" : "choice choice--unavailable" },
        input,
        el("span", { class: "choice__name", text: option.name }),
        option.price_delta_cents
          ? el("span", { class: "choice__price", text: signedMoney(option.price_delta_cents) })
          : null,
        option.available ? null : el("span", { class: "choice__note", text: "(unavailable)" }),
      ),
    );
  }
  fieldset.append(el("p", { class: "field-error", id: errorId, role: "alert" }));
  return fieldset;
}

function chosen(group) {
  return [...form.querySelectorAll(`input[name="group-${group.id}"]:checked`)].map((input) =>
    Number(input.value),
  );
}

function quantity() {
  const value = Number.parseInt(quantityInput.value, 10);
  return Number.isInteger(value) ? value : 0;
}

// Enforce the maximum as the customer clicks, and keep the price in view.
function refresh() {
  const { item } = current;
  let unit = item.price_cents;
  for (const group of item.modifier_groups) {
    const ids = chosen(group);
    const full = ids.length >= group.max_choices;
    for (const input of form.querySelectorAll(`input[type="checkbox"][name="group-${group.id}"]`)) {
      input.disabled = input.dataset.available !== "yes" || (full && !input.checked);
    }
    if (ids.length >= group.min_choices) {
      form.querySelector(`#group-${group.id}-error`).textContent = "";
    }
    for (const id of ids) unit += index.get(item.id).options.get(id).price_delta_cents;
  }
  const count = Math.min(Math.max(quantity(), 1), MAX_QUANTITY);
  document.getElementById("dialog-price").textContent = money(unit * count);
  return unit;
}

function openDialog(itemId, trigger) {
  const entry = index.get(itemId);
  if (!entry || !entry.item.available) return;
  const { item } = entry;
  current = { item, trigger };
  document.getElementById("dialog-title").textContent = item.name;
  document.getElementById("dialog-description").textContent = item.description;
  document.getElementById("dialog-base-price").textContent = money(item.price_cents);
  groupsBox.replaceChildren(...item.modifier_groups.map(renderGroup));
  quantityInput.value = "1";
  notesInput.value = "";
  errorBox.textContent = "";
  refresh();
  dialog.showModal();
}

function missingChoice() {
  for (const group of current.item.modifier_groups) {
    const count = chosen(group).length;
    if (count < group.min_choices || count > group.max_choices) return group;
  }
  return null;
}

function addToCart(event) {
  event.preventDefault();
  const group = missingChoice();
  if (group) {
    const message =
      group.min_choices === 1 && group.max_choices === 1
        ? `Please choose a ${group.name.toLowerCase()}.`
        : `Please check ${group.name}: ${choiceHint(group).toLowerCase()}.`;
    form.querySelector(`#group-${group.id}-error`).textContent = message;
    form.querySelector(`input[name="group-${group.id}"]:not(:disabled)`)?.focus();
    return;
  }
  const count = quantity();
  if (count < 1 || count > MAX_QUANTITY) {
    errorBox.textContent = `Choose a quantity from 1 to ${MAX_QUANTITY}.`;
    quantityInput.focus();
    return;
  }
  const { item } = current;
  const optionIds = item.modifier_groups.flatMap(chosen);
  const options = index.get(item.id).options;
  addLine({
    itemId: item.id,
    optionIds,
    notes: notesInput.value,
    quantity: count,
    name: item.name,
    unitCents: refresh(),
    optionNames: optionIds.map((id) => options.get(id).name),
  });
  dialog.close();
  announce(`Added ${count} \u00d7 ${item.name} to your order.`);
}

let toastTimer = null;
function announce(message) {
  const toast = document.querySelector("[data-toast]");
  toast.textContent = message;
  toast.classList.add("is-visible");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => toast.classList.remove("is-visible"), 3000);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-add-item]");
  if (button) openDialog(Number(button.dataset.addItem), button);
});
form.addEventListener("submit", addToCart);
form.addEventListener("change", () => refresh());
quantityInput.addEventListener("input", () => refresh());
for (const step of form.querySelectorAll("[data-quantity-step]")) {
  step.addEventListener("click", () => {
    const next = Math.min(
      Math.max(quantity() + Number(step.dataset.quantityStep), 1),
      MAX_QUANTITY,
    );
    quantityInput.value = String(next);
    refresh();
  });
}
dialog.querySelector("[data-close-dialog]").addEventListener("click", () => dialog.close());
// A click on the backdrop (outside the form) closes the dialog too.
dialog.addEventListener("click", (event) => {
  if (event.target === dialog) dialog.close();
});
dialog.addEventListener("close", () => {
  current?.trigger?.focus();
});

onCartChange(renderCart);
renderCart();

// -- today, when it is a special day --------------------------------------------------------------

// The page is cached past midnight: which day is today is worked out here, in the restaurant's
// time zone, from the special days the menu carries.
function showSpecialToday() {
  const box = document.querySelector("[data-special-today]");
  if (!box) return;
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: restaurantTimeZone(),
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(new Date());
  const part = (type) => parts.find((p) => p.type === type).value;
  const today = `${part("year")}-${part("month")}-${part("day")}`;
  const special = (menu?.special_days || []).find((day) => day.day === today);
  if (!special) return;
  const clock = (minute) =>
    minute === 1440
      ? "midnight"
      : `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
  const said = special.closed
    ? "Closed today"
    : `Today we are open ${clock(special.opens_minute)}\u2013${clock(special.closes_minute)} only`;
  box.textContent = special.message ? `${said}: ${special.message}` : `${said}.`;
  box.hidden = false;
}

showSpecialToday();
