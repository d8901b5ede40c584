// The login page: name and password, then back where the viewer was sent from.

import { ApiError, login, safeNext } from "./api";
import { brand } from "./shell";
import { h } from "./dom";

export function loginPage(root: HTMLElement): void {
  document.title = "Log in · replaycheck";
  const error = h("p", { class: "form-error", id: "login-error", role: "alert", hidden: true });
  const name = h("input", { name: "name", id: "login-name", autocomplete: "username", required: true });
  const password = h("input", { name: "password", id: "login-password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { class: "btn primary wide", type: "submit", id: "login-submit" }, "Log in");
  const form = h(
    "form",
    { id: "login", class: "login-card", novalidate: true },
    h("div", { class: "login-brand" }, brand()),
    h("h1", {}, "Log in"),
    h("p", { class: "muted" }, "Watch and search the sessions recorded on your site."),
    h("label", { for: "login-name" }, "Name"),
    name,
    h("label", { for: "login-password" }, "Password"),
    password,
    error,
    submit,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!name.value || !password.value) {
      show(error, "Enter your name and password.");
      return;
    }
    submit.disabled = true;
    error.hidden = true;
    login(name.value, password.value).then(
      () => location.assign(safeNext(new URLSearchParams(location.search).get("next"))),
      (err: unknown) => {
        submit.disabled = false;
        show(error, err instanceof ApiError && err.status === 401 ? "Wrong name or password." : `Could not log in: ${String(err instanceof Error ? err.message : err)}`);
        password.select();
      },
    );
  });
  root.replaceChildren(h("main", { class: "login-page" }, form));
  name.focus();
}

function show(el: HTMLElement, text: string): void {
  el.textContent = text;
  el.hidden = false;
}
