// The frame around every signed-in page: brand, project, user, log out.

import { logout, me } from "./api";
import { h } from "./dom";

export function brand(): HTMLElement {
  return h("a", { class: "brand", href: "/" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), "replaycheck");
}

/** The top bar; the project and user fill in once /api/me answers. */
export function topBar(...middle: (Node | string)[]): HTMLElement {
  const who = h("div", { class: "who", id: "who" });
  const bar = h("header", { class: "topbar" }, brand(), h("nav", { class: "crumbs" }, ...middle), who);
  void me().then(
    (m) => {
      who.append(
        h("span", { class: "project", title: "Project" }, m.project),
        h("span", { class: "user", id: "user" }, m.user),
        h(
          "button",
          {
            class: "btn ghost",
            id: "logout",
            type: "button",
            onclick: () => void logout().finally(() => location.assign("/login")),
          },
          "Log out",
        ),
      );
    },
    () => undefined,
  );
  return bar;
}
