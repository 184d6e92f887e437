// The phone order page: staff pick the caller's items (with their options) into the order,
// which the checkout form beside it then places through POST /api/staff/orders.

import { addLine, indexMenu } from "./cart.js";
import { el, readJSON } from "./format.js";

const index = indexMenu(readJSON("menu-data"));
const select = document.getElementById("phone-item");
const optionsBox = document.querySelector("[data-phone-options]");
const errorBox = document.querySelector("[data-phone-error]");

function groupField(group) {
  const single = group.max_choices === 1;
  const box = el("fieldset", { class: "field" });
  const limits =
    group.min_choices === group.max_choices
      ? `choose ${group.min_choices}`
      : `choose ${group.min_choices} to ${group.max_choices}`;
  box.append(el("legend", { text: `${group.name} (${limits})` }));
  for (const option of group.options.filter((o) => o.available)) {
    const input = el("input", {
      type: single ? "radio" : "checkbox",
      name: `group-${group.id}`,
      value: String(option.id),
    });
    const extra = option.price_delta_cents ? ` (+$${(option.price_delta_cents / 100).toFixed(2)})` : "";
    const label = el("label", { class: "choice" });
    label.append(input, ` ${option.name}${extra}`);
    box.append(label);
  }
  return box;
}

function showOptions() {
  const entry = index.get(Number(select.value));
  optionsBox.replaceChildren(...(entry ? entry.item.modifier_groups.map(groupField) : []));
  errorBox.textContent = "";
}

function add() {
  const entry = index.get(Number(select.value));
  if (!entry) return;
  const optionIds = [];
  for (const group of entry.item.modifier_groups) {
    const chosen = [...optionsBox.querySelectorAll(`input[name="group-${group.id}"]:checked`)];
    if (chosen.length < group.min_choices || chosen.length > group.max_choices) {
      errorBox.textContent = `${group.name}: choose ${group.min_choices === group.max_choices ? group.min_choices : `${group.min_choices} to ${group.max_choices}`}.`;
      return;
    }
    optionIds.push(...chosen.map((input) => Number(input.value)));
  }
  const options = optionIds.map((id) => entry.options.get(id));
  const quantity = Math.max(1, Math.min(50, Number(document.getElementById("phone-quantity").value) || 1));
  addLine({
    itemId: entry.item.id,
    optionIds,
    notes: document.getElementById("phone-notes").value,
    quantity,
    name: entry.item.name,
    unitCents: entry.item.price_cents + options.reduce((sum, o) => sum + o.price_delta_cents, 0),
    optionNames: options.map((o) => o.name),
  });
  document.getElementById("phone-quantity").value = "1";
  document.getElementById("phone-notes").value = "";
  showOptions();
}

select.addEventListener("change", showOptions);
document.querySelector("[data-phone-add]").addEventListener("click", add);
showOptions();
