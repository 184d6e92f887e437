// Staff accounts, for admins: list them, add one, change a role, remove one (/api/admin/accounts).
"use strict";

const API = "/api/admin/accounts";
const ROLES = ["staff", "manager", "admin"];

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Requested-With": "gourmet" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data?.detail || `That did not work (HTTP ${response.status}).`);
  return data;
}

function say(text, failed = false) {
  const said = document.getElementById("said");
  said.textContent = text;
  said.className = failed ? "error" : "";
}

function row(account) {
  const tr = document.createElement("tr");
  const email = document.createElement("td");
  email.textContent = account.email;
  const name = document.createElement("td");
  name.textContent = account.name || "—";
  const roleCell = document.createElement("td");
  const select = document.createElement("select");
  select.setAttribute("aria-label", `Role of ${account.email}`);
  for (const role of ROLES) select.append(new Option(role, role, false, role === account.role));
  select.addEventListener("change", async () => {
    try {
      await call("PATCH", `${API}/${account.id}`, { role: select.value });
      say(`${account.email} is now ${select.value}.`);
    } catch (error) {
      say(error.message, true);
    }
    await load();
  });
  roleCell.append(select);
  const removeCell = document.createElement("td");
  const remove = document.createElement("button");
  remove.type = "button";
  remove.textContent = `Remove ${account.email}`;
  remove.addEventListener("click", async () => {
    try {
      await call("DELETE", `${API}/${account.id}`);
      say(`${account.email} was removed; their sessions ended.`);
    } catch (error) {
      say(error.message, true);
    }
    await load();
  });
  removeCell.append(remove);
  tr.append(email, name, roleCell, removeCell);
  return tr;
}

async function load() {
  try {
    const accounts = await call("GET", API);
    document.querySelector("#accounts tbody").replaceChildren(...accounts.map(row));
  } catch (error) {
    say(error.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("add-account").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      email: document.getElementById("new-email").value.trim(),
      name: document.getElementById("new-name").value.trim(),
      password: document.getElementById("new-password").value,
      role: document.getElementById("new-role").value,
    };
    try {
      await call("POST", API, body);
      say(`${body.email} can now sign in as ${body.role}.`);
      event.target.reset();
    } catch (error) {
      say(error.message, true);
    }
    await load();
  });
  load();
});
