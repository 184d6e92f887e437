// Filtering the menu page: show only dishes with chosen dietary tags (all of them), and hide
// dishes that contain chosen allergens. The choices are this browser's (kept in localStorage);
// the page shows how many dishes the filter hides, and one tap clears it.

import { el, readJSON } from "./format.js";

const KEY = "gourmet.menuFilter";
const menu = readJSON("menu-data");
const items = menu.categories.flatMap((category) => category.items);
const tags = [...new Set(items.flatMap((item) => item.dietary))].sort();
const allergens = [...new Set(items.flatMap((item) => item.allergens))].sort();

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "{}");
    return { diet: new Set(saved.diet || []), without: new Set(saved.without || []) };
  } catch {
    return { diet: new Set(), without: new Set() };
  }
}

function save(choice) {
  localStorage.setItem(KEY, JSON.stringify({ diet: [...choice.diet], without: [...choice.without] }));
}

function shown(item, choice) {
  return [...choice.diet].every((tag) => item.dietary.includes(tag))
    && !item.allergens.some((allergen) => choice.without.has(allergen));
}

function apply(choice, summary) {
  let hidden = 0;
  for (const item of items) {
    const node = document.getElementById(`item-${item.id}`);
    if (!node) continue;
    node.hidden = !shown(item, choice);
    if (node.hidden) hidden += 1;
  }
  for (const section of document.querySelectorAll(".category")) {
    const empty = [...section.querySelectorAll(".item")].every((node) => node.hidden);
    section.hidden = empty;
    const link = document.querySelector(`.category-nav a[href="#${section.id}"]`);
    if (link) link.parentElement.hidden = empty;
  }
  summary.textContent = hidden
    ? `${hidden} dish${hidden === 1 ? "" : "es"} hidden by your choices.`
    : "";
  summary.parentElement.querySelector("[data-clear-filter]").hidden = hidden === 0;
}

function group(legend, values, chosen, label) {
  const fieldset = el("fieldset", { class: "menu-filter__group" }, el("legend", { text: legend }));
  for (const value of values) {
    const box = el("input", { type: "checkbox", value });
    box.checked = chosen.has(value);
    fieldset.append(el("label", {}, box, ` ${label(value)}`));
  }
  return fieldset;
}

function setUp() {
  const root = document.querySelector("[data-menu-filter]");
  if (!root || (!tags.length && !allergens.length)) return;
  const choice = load();
  const diet = tags.length ? group("Show only", tags, choice.diet, (tag) => tag) : null;
  const without = allergens.length
    ? group("Hide dishes containing", allergens, choice.without, (allergen) => allergen)
    : null;
  const summary = el("p", { class: "hint", role: "status" });
  const clear = el("button", { type: "button", class: "button", text: "Show every dish" });
  clear.dataset.clearFilter = "";
  root.replaceChildren(...[diet, without].filter(Boolean), el("div", { class: "menu-filter__summary" }, summary, clear));
  root.hidden = false;
  root.addEventListener("change", (event) => {
    const box = event.target;
    const set = diet?.contains(box) ? choice.diet : choice.without;
    if (box.checked) set.add(box.value);
    else set.delete(box.value);
    save(choice);
    apply(choice, summary);
  });
  clear.addEventListener("click", () => {
    choice.diet.clear();
    choice.without.clear();
    for (const box of root.querySelectorAll("input")) box.checked = false;
    save(choice);
    apply(choice, summary);
  });
  apply(choice, summary);
}

setUp();
