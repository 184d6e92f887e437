// The manager's console: the menu (inline prices, the 86 switch, stock), the pause switch, opening
// hours, slot capacity, settings and delivery zones, all through /api/manage. Text is only ever set
// with textContent, and there is no inline code: the page runs under a strict CSP.
"use strict";

const API = "/api/manage";
const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const items = new Map(); // item id -> { item, row, price, stock, status, toggle }
let restaurant = null;
let statusTimer = null;

class Problem extends Error {
  constructor(status, body) {
    super(body.detail || `That did not work (HTTP ${status}); please try again.`);
    this.status = status;
    this.field = body.field || null;
  }
}

function $(id) { return document.getElementById(id); }

async function api(method, path, body) {
  let response;
  try {
    response = await fetch(API + path, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-Requested-With": "gourmet",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Problem(0, { detail: "Gourmet cannot be reached; check the connection and retry." });
  }
  if (response.status === 401) {
    window.location.assign("/ops/login?next=/manage");
    throw new Problem(401, { detail: "Your session has ended; please sign in again." });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Problem(response.status, data);
  return data;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function button(text, className) {
  const node = el("button", text, className);
  node.type = "button";
  return node;
}

function labelled(input, label) {
  input.setAttribute("aria-label", label);
  return input;
}

function say(message, kind = "ok") {
  const status = $("status");
  status.textContent = message;
  status.className = `status ${kind}`;
  clearTimeout(statusTimer);
  if (kind === "ok") statusTimer = setTimeout(() => { status.textContent = ""; status.className = "status"; }, 6000);
}

function fail(error, input) {
  say(error.message, "error");
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

function valid(...inputs) {
  for (const input of inputs) input.removeAttribute("aria-invalid");
}

// -- values ---------------------------------------------------------------------------------

function parseMoney(text) {
  const match = /^\s*\$?\s*(\d{1,7})(?:[.,](\d{0,2}))?\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
}

function money(cents) { return (cents / 100).toFixed(2); }

function clock(minute) {
  const m = minute % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

function parseClock(text, closing) {
  const match = /^(\d{2}):(\d{2})/.exec(text);
  if (!match) return null;
  const minute = Number(match[1]) * 60 + Number(match[2]);
  return closing && minute === 0 ? 1440 : minute; // closing at 00:00 is midnight
}

function parseCount(text) {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : null;
}

// -- the menu -------------------------------------------------------------------------------

function itemStatus(item) {
  if (!item.available && item.back_at) return `86'd until ${new Date(item.back_at).toLocaleString()}`;
  if (!item.available) return "86'd: off the menu";
  if (item.stock === 0) return "Sold out";
  if (item.stock !== null) return `On the menu, ${item.stock} left`;
  return "On the menu";
}

function itemRow(item) {
  const row = el("tr");
  row.dataset.itemId = item.id;
  const name = el("th", item.name);
  name.scope = "row";
  const edit = button("Edit", "secondary edit");
  edit.append(el("span", ` ${item.name}`, "visually-hidden"));
  edit.addEventListener("click", () => openEditor(item.id));
  name.append(" ", edit);

  const price = labelled(el("input", undefined, "money"), `Price of ${item.name} in dollars`);
  price.inputMode = "decimal";
  price.addEventListener("change", () => savePrice(item.id));

  const stock = labelled(el("input", undefined, "count"), `Portions left of ${item.name}, empty when not counted`);
  stock.type = "number";
  stock.min = "0";
  stock.step = "1";
  stock.addEventListener("change", () => saveStock(item.id));

  const status = el("span", undefined, "item-status");
  const toggle = button("86", "toggle");
  toggle.append(el("span", ` ${item.name}`, "visually-hidden"));
  toggle.addEventListener("click", () => toggle86(item.id));
  const snooze = button("Till tomorrow", "snooze");
  snooze.append(el("span", ` (snooze ${item.name})`, "visually-hidden"));
  snooze.addEventListener("click", () => snoozeUntilTomorrow(item.id));

  const cells = [name, price, stock, status, toggle].map((child, index) => {
    if (index === 0) return child;
    const cell = el("td");
    cell.append(child);
    if (child === toggle) cell.append(" ", snooze);
    return cell;
  });
  row.append(...cells);
  items.set(item.id, { item, row, price, stock, status, toggle });
  showItem(item);
  return row;
}

function showItem(item) {
  const entry = items.get(item.id);
  entry.item = item;
  if (document.activeElement !== entry.price) entry.price.value = money(item.price_cents);
  if (document.activeElement !== entry.stock) entry.stock.value = item.stock === null ? "" : String(item.stock);
  entry.status.textContent = itemStatus(item);
  entry.toggle.setAttribute("aria-pressed", String(!item.available));
  entry.row.classList.toggle("off", !item.orderable);
}

function renderMenu(menu) {
  const container = $("menu");
  container.replaceChildren();
  items.clear();
  const select = $("new-item-category");
  const chosen = select.value;
  select.replaceChildren();
  for (const category of menu.categories) {
    const option = el("option", category.name);
    option.value = String(category.id);
    select.append(option);

    const section = el("section", undefined, "category");
    const heading = el("h3", category.name);
    heading.id = `category-${category.id}`;
    section.append(heading);
    if (category.items.length === 0) {
      const remove = button("Remove this empty category", "secondary");
      remove.addEventListener("click", () => removeCategory(category));
      section.append(el("p", "No items yet.", "hint"), remove);
    } else {
      const table = el("table", undefined, "grid menu-table");
      table.setAttribute("aria-labelledby", heading.id);
      const head = el("tr");
      for (const title of ["Item", "Price ($)", "Stock", "Status", "86"]) {
        const th = el("th", title);
        th.scope = "col";
        head.append(th);
      }
      const thead = el("thead");
      thead.append(head);
      const tbody = el("tbody");
      for (const item of category.items) tbody.append(itemRow(item));
      table.append(thead, tbody);
      section.append(table);
    }
    container.append(section);
  }
  if (chosen) select.value = chosen;
}

// -- the item editor: name, description, allergens, dietary tags -------------------------------

let editing = null;

function openEditor(id) {
  const { item } = items.get(id);
  editing = id;
  $("edit-name").value = item.name;
  $("edit-description").value = item.description;
  $("edit-allergens").value = item.allergens.join(", ");
  $("edit-dietary").value = item.dietary.join(", ");
  $("edit-options").value = optionsText(item.modifier_groups);
  $("edit-daily").value = item.daily_stock === null ? "" : String(item.daily_stock);
  $("edit-prep").value = item.prep_minutes === null ? "" : String(item.prep_minutes);
  $("item-editor").showModal();
}

// Options as text: "Size (choose 1 to 1)" then "  Large +3.00" lines; ids kept by name.
function optionsText(groups) {
  return groups.map((group) => [
    `${group.name} (choose ${group.min_choices} to ${group.max_choices})`,
    ...group.options.map((option) =>
      `  ${option.available ? "" : "(off) "}${option.name} ${option.price_delta_cents < 0 ? "-" : "+"}${money(Math.abs(option.price_delta_cents))}`),
  ].join("\n")).join("\n");
}

function parseOptions(text, existing) {
  const groups = [];
  for (const [index, raw] of text.split("\n").entries()) {
    if (!raw.trim()) continue;
    const where = `Line ${index + 1} of the options`;
    if (!/^\s/.test(raw)) {
      const head = /^(.+?)\s*\(choose (\d+) to (\d+)\)\s*$/.exec(raw);
      if (!head) throw new Error(`${where}: write a group like "Size (choose 1 to 1)".`);
      const old = existing.find((group) => group.name === head[1]);
      groups.push({
        name: head[1], min_choices: Number(head[2]), max_choices: Number(head[3]), options: [],
        ...(old ? { id: old.id } : {}),
      });
      continue;
    }
    const group = groups[groups.length - 1];
    if (!group) throw new Error(`${where}: an option comes under a group.`);
    const line = /^\s+(\(off\)\s*)?(.+?)(?:\s+([+-])\s*(\d+(?:[.,]\d{1,2})?))?\s*$/.exec(raw);
    if (!line) throw new Error(`${where}: write an option like "  Large +3.00".`);
    const cents = line[4] === undefined ? 0 : parseMoney(line[4]);
    const oldGroup = existing.find((g) => g.id === group.id);
    const old = oldGroup?.options.find((option) => option.name === line[2]);
    group.options.push({
      name: line[2],
      price_delta_cents: line[3] === "-" ? -cents : cents,
      available: !line[1],
      ...(old ? { id: old.id } : {}),
    });
  }
  return groups;
}

function tagList(text) {
  return text.split(",").map((tag) => tag.trim()).filter(Boolean);
}

async function saveEditor(event) {
  event.preventDefault();
  const fields = {
    name: $("edit-name"), description: $("edit-description"),
    allergens: $("edit-allergens"), dietary: $("edit-dietary"), daily_stock: $("edit-daily"),
    prep_minutes: $("edit-prep"),
  };
  const dailyText = fields.daily_stock.value.trim();
  const daily = dailyText === "" ? null : parseCount(dailyText);
  if (dailyText !== "" && daily === null) {
    return fail(new Error("Portions each day is a whole number, or empty."), fields.daily_stock);
  }
  const prepText = fields.prep_minutes.value.trim();
  const prep = prepText === "" ? null : parseCount(prepText);
  if (prepText !== "" && !(prep >= 1 && prep <= 240)) {
    return fail(new Error("Prep time is 1 to 240 minutes, or empty."), fields.prep_minutes);
  }
  valid(...Object.values(fields), $("edit-options"));
  const before = items.get(editing).item;
  let groups;
  try {
    groups = parseOptions($("edit-options").value, before.modifier_groups);
  } catch (error) {
    return fail(error, $("edit-options"));
  }
  try {
    if (optionsText(before.modifier_groups) !== $("edit-options").value.trim()) {
      await api("PUT", `/items/${editing}/modifiers`, { groups });
    }
    const item = await api("PATCH", `/items/${editing}`, {
      name: fields.name.value,
      description: fields.description.value,
      allergens: tagList(fields.allergens.value),
      dietary: tagList(fields.dietary.value),
      daily_stock: daily,
      prep_minutes: prep,
    });
    $("item-editor").close();
    await reloadMenu();
    say(`${item.name} saved: customers see it as soon as the menu reloads.`);
  } catch (error) {
    fail(error, fields[(error.field || "").replace(/\[\d+\]$/, "")]);
  }
}

async function reloadMenu() {
  renderMenu(await api("GET", "/menu"));
}

async function savePrice(id) {
  const entry = items.get(id);
  const cents = parseMoney(entry.price.value);
  if (cents === null) return fail(new Error(`Enter the price of ${entry.item.name} like 12.50.`), entry.price);
  valid(entry.price);
  if (cents === entry.item.price_cents) return;
  try {
    const item = await api("PATCH", `/items/${id}`, { price_cents: cents });
    showItem(item);
    say(`${item.name} now costs $${money(item.price_cents)}.`);
  } catch (error) {
    fail(error, entry.price);
  }
}

async function saveStock(id) {
  const entry = items.get(id);
  const text = entry.stock.value.trim();
  const stock = text === "" ? null : parseCount(text);
  if (text !== "" && stock === null) return fail(new Error("Stock is a whole number of portions, or empty."), entry.stock);
  valid(entry.stock);
  try {
    const item = await api("POST", `/items/${id}/stock`, { stock });
    showItem(item);
    say(item.stock === null ? `${item.name}: stock not counted.` : `${item.name}: ${item.stock} left.`);
  } catch (error) {
    fail(error, entry.stock);
  }
}

async function toggle86(id) {
  const entry = items.get(id);
  if (entry.toggle.dataset.busy) return;
  entry.toggle.dataset.busy = "1";
  try {
    const item = await api("POST", `/items/${id}/availability`, { available: !entry.item.available });
    showItem(item);
    say(item.available ? `${item.name} is back on the menu.` : `${item.name} is 86'd: customers cannot order it.`);
  } catch (error) {
    fail(error);
  } finally {
    delete entry.toggle.dataset.busy;
  }
}

// Snooze: off until tomorrow's first minute, then back by itself (the server brings it back).
async function snoozeUntilTomorrow(id) {
  const entry = items.get(id);
  const tomorrow = new Date();
  tomorrow.setHours(24, 0, 0, 0);
  try {
    const item = await api("POST", `/items/${id}/availability`, { available: false, until: tomorrow.toISOString() });
    showItem(item);
    say(`${item.name} is 86'd until ${tomorrow.toLocaleString()}, then back by itself.`);
  } catch (error) {
    fail(error);
  }
  return entry;
}

async function removeCategory(category) {
  try {
    await api("DELETE", `/categories/${category.id}`);
    await reloadMenu();
    say(`Category ${category.name} removed.`);
  } catch (error) {
    fail(error);
  }
}

async function addItem(event) {
  event.preventDefault();
  const fields = {
    category_id: $("new-item-category"),
    name: $("new-item-name"),
    price_cents: $("new-item-price"),
    description: $("new-item-description"),
  };
  const cents = parseMoney(fields.price_cents.value);
  if (cents === null) return fail(new Error("Enter the price like 12.50."), fields.price_cents);
  valid(...Object.values(fields));
  try {
    const item = await api("POST", "/items", {
      category_id: Number(fields.category_id.value),
      name: fields.name.value,
      price_cents: cents,
      description: fields.description.value,
    });
    await reloadMenu();
    for (const key of ["name", "price_cents", "description"]) fields[key].value = "";
    say(`${item.name} added to the menu.`);
  } catch (error) {
    fail(error, fields[error.field]);
  }
}

async function addCategory(event) {
  event.preventDefault();
  const name = $("new-category-name");
  valid(name);
  try {
    const position = $("new-item-category").options.length;
    const category = await api("POST", "/categories", { name: name.value, position });
    await reloadMenu();
    name.value = "";
    say(`Category ${category.name} added; add items to it above.`);
  } catch (error) {
    fail(error, name);
  }
}

// -- the pause switch -----------------------------------------------------------------------

function renderPause() {
  const paused = restaurant.ordering_paused;
  const state = $("pause-state");
  state.textContent = paused
    ? "Paused: customers cannot place orders online."
    : "Open: customers can order online.";
  state.className = paused ? "pause-state paused" : "pause-state open";
  $("pause-toggle").textContent = paused ? "Resume online ordering" : "Pause online ordering";
  $("pause-toggle").className = paused ? "" : "danger";
  $("pause-save-message").hidden = !paused;
  const message = $("pause-message");
  if (document.activeElement !== message) message.value = restaurant.pause_message;
}

async function setPause(paused) {
  const message = $("pause-message");
  valid(message);
  try {
    restaurant = await api("POST", "/pause", { paused, message: message.value });
    renderPause();
    say(paused ? "Online ordering is paused." : "Online ordering is open again.");
  } catch (error) {
    fail(error, error.field === "message" ? message : undefined);
  }
}

// -- opening hours --------------------------------------------------------------------------

const FULFILMENTS = [["both", "Pickup and delivery"], ["pickup", "Pickup"], ["delivery", "Delivery"]];

function periodRow(period) {
  const row = el("tr");
  const day = el("select");
  WEEKDAYS.forEach((name, index) => {
    const option = el("option", name);
    option.value = String(index);
    day.append(option);
  });
  day.value = String(period.weekday);
  const kind = el("select");
  for (const [value, text] of FULFILMENTS) {
    const option = el("option", text);
    option.value = value;
    kind.append(option);
  }
  kind.value = period.fulfilment || "both";
  const opens = el("input");
  opens.type = "time";
  opens.required = true;
  opens.value = clock(period.opens_minute);
  const closes = el("input");
  closes.type = "time";
  closes.required = true;
  closes.value = clock(period.closes_minute);
  const remove = button("Remove", "secondary");
  remove.addEventListener("click", () => {
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    labelPeriods();
    (next ? next.querySelector("select") : $("add-period")).focus();
  });
  for (const control of [day, kind, opens, closes, remove]) {
    const cell = el("td");
    cell.append(control);
    row.append(cell);
  }
  return row;
}

function labelPeriods() {
  [...$("hours-rows").rows].forEach((row, index) => {
    const [day, kind, opens, closes, remove] = row.querySelectorAll("select, input, button");
    labelled(day, `Day of period ${index + 1}`);
    labelled(kind, `For, period ${index + 1}`);
    labelled(opens, `Opens, period ${index + 1}`);
    labelled(closes, `Closes, period ${index + 1}`);
    labelled(remove, `Remove period ${index + 1}`);
  });
}

function renderHours() {
  const rows = $("hours-rows");
  rows.replaceChildren(...restaurant.hours.map(periodRow));
  labelPeriods();
}

// -- holidays and special days -------------------------------------------------------------

function specialDayRow(special) {
  const row = el("tr");
  const day = el("input");
  day.type = "date";
  day.required = true;
  day.value = special.day;
  const closed = el("input");
  closed.type = "checkbox";
  closed.checked = special.closed;
  const opens = el("input");
  opens.type = "time";
  opens.value = special.opens_minute == null ? "" : clock(special.opens_minute);
  const closes = el("input");
  closes.type = "time";
  closes.value = special.closes_minute == null ? "" : clock(special.closes_minute);
  const message = el("input");
  message.maxLength = 200;
  message.value = special.message || "";
  const sync = () => { opens.disabled = closes.disabled = closed.checked; };
  closed.addEventListener("change", sync);
  sync();
  const remove = button("Remove", "secondary");
  remove.addEventListener("click", () => {
    row.remove();
    labelSpecialDays();
    $("add-special-day").focus();
  });
  for (const control of [day, closed, opens, closes, message, remove]) {
    const cell = el("td");
    cell.append(control);
    row.append(cell);
  }
  return row;
}

function labelSpecialDays() {
  [...$("special-days-rows").rows].forEach((row, index) => {
    const [day, closed, opens, closes, message, remove] = row.querySelectorAll("input, button");
    labelled(day, `Date of special day ${index + 1}`);
    labelled(closed, `Closed all day, special day ${index + 1}`);
    labelled(opens, `Opens, special day ${index + 1}`);
    labelled(closes, `Closes, special day ${index + 1}`);
    labelled(message, `Message, special day ${index + 1}`);
    labelled(remove, `Remove special day ${index + 1}`);
  });
}

function renderSpecialDays() {
  $("special-days-rows").replaceChildren(...restaurant.special_days.map(specialDayRow));
  labelSpecialDays();
}

async function saveSpecialDays(event) {
  event.preventDefault();
  const rows = [...$("special-days-rows").rows];
  const days = [];
  for (const row of rows) {
    const [day, closed, opens, closes, message] = row.querySelectorAll("input");
    valid(day, opens, closes);
    if (!day.value) return fail(new Error("Enter the date."), day);
    const special = { day: day.value, closed: closed.checked, message: message.value.trim() };
    if (!closed.checked) {
      special.opens_minute = parseClock(opens.value, false);
      special.closes_minute = parseClock(closes.value, true);
      if (special.opens_minute === null) return fail(new Error("Enter an opening time, or tick Closed."), opens);
      if (special.closes_minute === null) return fail(new Error("Enter a closing time."), closes);
    }
    days.push(special);
  }
  try {
    restaurant = await api("PUT", "/special-days", { days });
    renderSpecialDays();
    say(days.length ? "Special days saved." : "Special days saved: none.");
  } catch (error) {
    const match = /^days\[(\d+)\](?:\.(\w+))?/.exec(error.field || "");
    let input;
    if (match && rows[Number(match[1])]) {
      const [day, , opens, closes] = rows[Number(match[1])].querySelectorAll("input");
      input = { opens_minute: opens, closes_minute: closes }[match[2]] || day;
    }
    fail(error, input);
  }
}

async function saveHours(event) {
  event.preventDefault();
  const rows = [...$("hours-rows").rows];
  const periods = [];
  for (const row of rows) {
    const [day, kind, opens, closes] = row.querySelectorAll("select, input");
    valid(day, opens, closes);
    const period = {
      weekday: Number(day.value),
      opens_minute: parseClock(opens.value, false),
      closes_minute: parseClock(closes.value, true),
      fulfilment: kind.value,
    };
    if (period.opens_minute === null) return fail(new Error("Enter an opening time."), opens);
    if (period.closes_minute === null) return fail(new Error("Enter a closing time."), closes);
    periods.push(period);
  }
  try {
    restaurant = await api("PUT", "/hours", { periods });
    renderHours();
    say(periods.length ? "Opening hours saved." : "Opening hours saved: closed every day.");
  } catch (error) {
    const match = /^periods\[(\d+)\](?:\.(\w+))?/.exec(error.field || "");
    let input;
    if (match && rows[Number(match[1])]) {
      const [day, , opens, closes] = rows[Number(match[1])].querySelectorAll("select, input");
      input = { weekday: day, closes_minute: closes }[match[2]] || opens;
    }
    fail(error, input);
  }
}

// -- slots, settings ------------------------------------------------------------------------

function renderDetails() {
  $("detail-name").value = restaurant.name;
  $("detail-address").value = restaurant.address;
  $("detail-phone").value = restaurant.phone;
}

async function saveDetails(event) {
  event.preventDefault();
  const inputs = { name: $("detail-name"), address: $("detail-address"), phone: $("detail-phone") };
  valid(...Object.values(inputs));
  try {
    restaurant = await api("PUT", "/details", {
      name: inputs.name.value, address: inputs.address.value, phone: inputs.phone.value,
    });
    renderDetails();
    say("Restaurant details saved.");
  } catch (error) {
    fail(error, inputs[error.field]);
  }
}

function renderSlots() {
  renderDetails();
  $("capacity-pickup").value = String(restaurant.capacity.pickup);
  $("capacity-delivery").value = String(restaurant.capacity.delivery);
  $("setting-tax").value = (restaurant.tax_rate_bp / 100).toFixed(2);
  $("setting-slot").value = String(restaurant.slot_minutes);
  $("setting-lead").value = String(restaurant.lead_minutes);
  $("setting-unit").value = restaurant.capacity_unit;
  $("setting-at-once").value = restaurant.orders_at_once === null ? "" : String(restaurant.orders_at_once);
}

async function saveCapacity(event) {
  event.preventDefault();
  for (const fulfilment of ["pickup", "delivery"]) {
    const input = $(`capacity-${fulfilment}`);
    const value = parseCount(input.value);
    if (value === null) return fail(new Error("Capacity is a whole number of orders."), input);
    valid(input);
    if (value === restaurant.capacity[fulfilment]) continue;
    try {
      restaurant = await api("PUT", `/capacity/${fulfilment}`, { max_orders: value });
    } catch (error) {
      return fail(error, input);
    }
  }
  renderSlots();
  say("Slot capacity saved.");
}

async function saveSettings(event) {
  event.preventDefault();
  const tax = $("setting-tax");
  const slot = $("setting-slot");
  const lead = $("setting-lead");
  const atOnce = $("setting-at-once");
  const match = /^\s*(\d{1,2})(?:[.,](\d{0,2}))?\s*%?\s*$/.exec(tax.value);
  if (!match) return fail(new Error("Enter the tax rate in percent, with at most two decimals (like 8.88)."), tax);
  const atOnceText = atOnce.value.trim();
  const ordersAtOnce = atOnceText === "" ? null : parseCount(atOnceText);
  if (atOnceText !== "" && !(ordersAtOnce >= 1 && ordersAtOnce <= 100)) {
    return fail(new Error("Orders made at once is 1 to 100, or empty."), atOnce);
  }
  valid(tax, slot, lead, atOnce);
  try {
    restaurant = await api("PUT", "/settings", {
      tax_rate_bp: Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0")),
      slot_minutes: Number(slot.value),
      lead_minutes: Number(lead.value),
      capacity_unit: $("setting-unit").value,
      orders_at_once: ordersAtOnce,
    });
    renderSlots();
    say("Settings saved.");
  } catch (error) {
    fail(
      error,
      { tax_rate_bp: tax, slot_minutes: slot, lead_minutes: lead, orders_at_once: atOnce }[
        error.field
      ],
    );
  }
}

// -- delivery zones -------------------------------------------------------------------------

function zoneBody(name, prefixes, fee, minimum) {
  const body = {
    name: name.value,
    postcode_prefixes: prefixes.value.split(",").map((p) => p.trim()).filter(Boolean),
  };
  const feeCents = parseMoney(fee.value);
  if (feeCents === null) throw Object.assign(new Error("Enter the fee like 2.99."), { input: fee });
  const minimumCents = minimum.value.trim() === "" ? 0 : parseMoney(minimum.value);
  if (minimumCents === null) throw Object.assign(new Error("Enter the minimum like 15.00."), { input: minimum });
  return { ...body, fee_cents: feeCents, min_order_cents: minimumCents };
}

function zoneField(error, inputs) {
  const key = (error.field || "").replace(/\[\d+\]$/, "");
  return { name: inputs[0], postcode_prefixes: inputs[1], fee_cents: inputs[2], min_order_cents: inputs[3] }[key];
}

function zoneRow(zone) {
  const row = el("tr");
  const name = labelled(el("input"), `Name of zone ${zone.name}`);
  name.value = zone.name;
  const prefixes = labelled(el("input"), `Postcode prefixes of ${zone.name}`);
  prefixes.value = zone.postcode_prefixes.join(", ");
  const fee = labelled(el("input", undefined, "money"), `Delivery fee of ${zone.name} in dollars`);
  fee.value = money(zone.fee_cents);
  const minimum = labelled(el("input", undefined, "money"), `Minimum order for ${zone.name} in dollars`);
  minimum.value = money(zone.min_order_cents);
  for (const input of [fee, minimum]) input.inputMode = "decimal";
  const inputs = [name, prefixes, fee, minimum];

  const save = labelled(button("Save"), `Save zone ${zone.name}`);
  save.addEventListener("click", async () => {
    valid(...inputs);
    try {
      await api("PATCH", `/zones/${zone.id}`, zoneBody(...inputs));
      await reloadRestaurant();
      say(`Zone ${name.value.trim()} saved.`);
    } catch (error) {
      fail(error, error.input || zoneField(error, inputs));
    }
  });
  const remove = labelled(button("Remove", "secondary"), `Remove zone ${zone.name}`);
  remove.addEventListener("click", async () => {
    if (!remove.dataset.armed) { // a second press confirms: no dialog, nothing removed by a slip
      remove.dataset.armed = "1";
      remove.textContent = "Press again to remove";
      say(`Press Remove again to remove zone ${zone.name}.`);
      setTimeout(() => { delete remove.dataset.armed; remove.textContent = "Remove"; }, 5000);
      return;
    }
    try {
      await api("DELETE", `/zones/${zone.id}`);
      await reloadRestaurant();
      $("add-zone-form").querySelector("input").focus();
      say(`Zone ${zone.name} removed.`);
    } catch (error) {
      fail(error);
    }
  });
  for (const control of [...inputs, [save, remove]]) {
    const cell = el("td");
    cell.append(...[control].flat());
    row.append(cell);
  }
  return row;
}

function renderZones() {
  $("zone-rows").replaceChildren(...restaurant.zones.map(zoneRow));
}

async function addZone(event) {
  event.preventDefault();
  const inputs = ["name", "prefixes", "fee", "minimum"].map((key) => $(`new-zone-${key}`));
  valid(...inputs);
  try {
    const zone = await api("POST", "/zones", zoneBody(...inputs));
    await reloadRestaurant();
    for (const input of inputs) input.value = "";
    say(`Zone ${zone.name} added.`);
  } catch (error) {
    fail(error, error.input || zoneField(error, inputs));
  }
}

// -- start ----------------------------------------------------------------------------------

function renderRestaurant() {
  renderPause();
  renderHours();
  renderSpecialDays();
  renderSlots();
  renderZones();
}

async function reloadRestaurant() {
  restaurant = await api("GET", "/restaurant");
  renderRestaurant();
}

async function start() {
  const main = $("main");
  try {
    const [menu, rules] = await Promise.all([api("GET", "/menu"), api("GET", "/restaurant")]);
    restaurant = rules;
    renderMenu(menu);
    renderRestaurant();
  } catch (error) {
    $("loading").textContent = `${error.message} Reload the page to try again.`;
    return;
  }
  $("loading").hidden = true;
  for (const section of main.querySelectorAll("section.panel")) section.hidden = false;
  main.setAttribute("aria-busy", "false");
}

$("pause-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setPause(!restaurant.ordering_paused);
});
$("pause-save-message").addEventListener("click", () => setPause(true));
$("add-item-form").addEventListener("submit", addItem);
$("add-category-form").addEventListener("submit", addCategory);
$("hours-form").addEventListener("submit", saveHours);
$("add-period").addEventListener("click", () => {
  const rows = $("hours-rows");
  rows.append(periodRow({ weekday: 0, opens_minute: 660, closes_minute: 1380 }));
  labelPeriods();
  rows.lastElementChild.querySelector("select").focus();
});
$("special-days-form").addEventListener("submit", saveSpecialDays);
$("add-special-day").addEventListener("click", () => {
  const rows = $("special-days-rows");
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  rows.append(specialDayRow({ day: tomorrow, closed: true, message: "" }));
  labelSpecialDays();
  rows.lastElementChild.querySelector("input").focus();
});
$("capacity-form").addEventListener("submit", saveCapacity);
$("settings-form").addEventListener("submit", saveSettings);
$("details-form").addEventListener("submit", saveDetails);
$("item-editor-form").addEventListener("submit", saveEditor);
$("edit-cancel").addEventListener("click", () => $("item-editor").close());
$("add-zone-form").addEventListener("submit", addZone);
start();
