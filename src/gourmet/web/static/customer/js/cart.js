// The cart lives in the browser (localStorage), so it survives a reload and needs no server.
// It keeps only what the order needs (item, options, quantity, notes) plus names and prices as a
// snapshot for display; prices are re-read from the menu when it is at hand, and the server
// re-prices everything at checkout anyway.

import { el, money } from "./format.js";

const STORAGE_KEY = "gourmet.cart";
const CHANGE_EVENT = "gourmet:cart";
export const MAX_QUANTITY = 50;
let memoryCart = null; // used when localStorage is unavailable (private mode, disabled)

function emptyCart() {
  return { version: 1, lines: [] };
}

function validLine(line) {
  return (
    line &&
    Number.isInteger(line.itemId) &&
    Number.isInteger(line.quantity) &&
    line.quantity >= 1 &&
    Array.isArray(line.optionIds) &&
    line.optionIds.every(Number.isInteger)
  );
}

export function loadCart() {
  try {
    const raw = window.localStorage.getItem(STORAGE_KEY);
    const parsed = raw ? JSON.parse(raw) : null;
    if (parsed && parsed.version === 1 && Array.isArray(parsed.lines)) {
      return { version: 1, lines: parsed.lines.filter(validLine) };
    }
  } catch {
    if (memoryCart) return structuredClone(memoryCart);
  }
  return emptyCart();
}

export function saveCart(cart) {
  memoryCart = structuredClone(cart);
  try {
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify(cart));
  } catch {
    // Storage full or disabled: the cart lasts as long as the page.
  }
  window.dispatchEvent(new CustomEvent(CHANGE_EVENT));
}

export function onCartChange(callback) {
  window.addEventListener(CHANGE_EVENT, callback);
  window.addEventListener("storage", (event) => {
    if (event.key === STORAGE_KEY || event.key === null) callback();
  });
}

export function lineKey(itemId, optionIds, notes) {
  return [itemId, [...optionIds].sort((a, b) => a - b).join("."), notes.trim()].join("|");
}

export function addLine({ itemId, optionIds, notes, quantity, name, unitCents, optionNames }) {
  const cart = loadCart();
  const key = lineKey(itemId, optionIds, notes);
  const existing = cart.lines.find((line) => line.key === key);
  if (existing) {
    existing.quantity = Math.min(existing.quantity + quantity, MAX_QUANTITY);
  } else {
    cart.lines.push({
      key,
      itemId,
      optionIds: [...optionIds],
      notes: notes.trim(),
      quantity: Math.min(quantity, MAX_QUANTITY),
      name,
      unitCents,
      optionNames,
    });
  }
  saveCart(cart);
}

export function setQuantity(key, quantity) {
  const cart = loadCart();
  cart.lines = cart.lines
    .map((line) => (line.key === key ? { ...line, quantity } : line))
    .filter((line) => line.quantity >= 1);
  for (const line of cart.lines) line.quantity = Math.min(line.quantity, MAX_QUANTITY);
  saveCart(cart);
}

export function removeLine(key) {
  setQuantity(key, 0);
}

export function clearCart() {
  saveCart(emptyCart());
}

export function itemCount(cart) {
  return cart.lines.reduce((sum, line) => sum + line.quantity, 0);
}

// item id -> { item, options: Map(option id -> option) }
export function indexMenu(menu) {
  const index = new Map();
  if (!menu) return index;
  for (const category of menu.categories) {
    for (const item of category.items) {
      const options = new Map();
      for (const group of item.modifier_groups) {
        for (const option of group.options) options.set(option.id, { ...option, group });
      }
      index.set(item.id, { item, options });
    }
  }
  return index;
}

// What a line looks like now: the menu's names and prices, and whether it can still be ordered.
export function describeLine(line, index) {
  const entry = index.get(line.itemId);
  if (!entry) {
    const known = index.size > 0;
    return {
      name: line.name || "Item",
      optionNames: line.optionNames || [],
      unitCents: line.unitCents || 0,
      problem: known ? "This item is no longer on the menu." : null,
    };
  }
  const options = line.optionIds.map((id) => entry.options.get(id));
  const missing = options.some((option) => !option || !option.available);
  const unitCents =
    entry.item.price_cents + options.reduce((sum, o) => sum + (o ? o.price_delta_cents : 0), 0);
  let problem = null;
  if (!entry.item.available) problem = "Not available right now. Please remove it.";
  else if (missing) problem = "An option you chose is not available any more. Please remove it.";
  return {
    name: entry.item.name,
    optionNames: options.filter(Boolean).map((option) => option.name),
    unitCents,
    problem,
  };
}

export function cartSubtotal(cart, index) {
  return cart.lines.reduce(
    (sum, line) => sum + describeLine(line, index).unitCents * line.quantity,
    0,
  );
}

// Draw the editable cart into ``container``: quantity steppers and a remove button per line.
export function renderCartLines(container, cart, index, { flagged = new Set() } = {}) {
  container.replaceChildren();
  if (cart.lines.length === 0) {
    container.append(el("p", { class: "cart-empty", text: "Your order is empty." }));
    return;
  }
  const list = el("ul", { class: "cart-list" });
  for (const [position, line] of cart.lines.entries()) {
    const view = describeLine(line, index);
    const problem =
      view.problem ||
      (flagged.has(line.itemId) ? "Not enough left. Lower the quantity or remove it." : null);
    const nameId = `${container.id || "cart"}-line-${position}`;
    const minus = el("button", {
      type: "button",
      class: "icon-button",
      "aria-label": `One less ${view.name}`,
      text: "\u2212",
    });
    const plus = el("button", {
      type: "button",
      class: "icon-button",
      "aria-label": `One more ${view.name}`,
      text: "+",
      disabled: line.quantity >= MAX_QUANTITY,
    });
    const quantity = el(
      "span",
      { class: "cart-line__qty" },
      el("span", { class: "visually-hidden", text: "Quantity " }),
      String(line.quantity),
    );
    minus.addEventListener("click", () => setQuantity(line.key, line.quantity - 1));
    plus.addEventListener("click", () => setQuantity(line.key, line.quantity + 1));
    const remove = el("button", {
      type: "button",
      class: "link-button",
      "aria-describedby": nameId,
      text: "Remove",
    });
    remove.addEventListener("click", () => removeLine(line.key));
    list.append(
      el(
        "li",
        {
          class: problem ? "cart-line cart-line--problem" : "cart-line",
          dataset: { itemId: String(line.itemId) },
        },
        el(
          "div",
          { class: "cart-line__main" },
          el("span", { class: "cart-line__name", id: nameId, text: view.name }),
          el("span", { class: "cart-line__price", text: money(view.unitCents * line.quantity) }),
        ),
        view.optionNames.length
          ? el("p", { class: "cart-line__options", text: view.optionNames.join(", ") })
          : null,
        line.notes ? el("p", { class: "cart-line__notes", text: `Note: ${line.notes}` }) : null,
        problem ? el("p", { class: "field-error", text: problem }) : null,
        el("div", { class: "cart-line__controls" }, minus, quantity, plus, remove),
      ),
    );
  }
  container.append(list);
}
