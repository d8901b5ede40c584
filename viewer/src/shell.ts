// The frame around every signed-in page: brand, project, user, log out.

import { logout, me } from "./api";
import { h } from "./dom";

export function brand(): HTMLElement {
  return h("a", { class: "brand", href: "/" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), "replaycheck");
}

/** The viewer's sections: every signed-in page links to each. */
const SECTIONS: { href: string; label: string; id: string; here: (path: string) => boolean }[] = [
  { href: "/", label: "Sessions", id: "nav-sessions", here: (p) => p === "/" || p.startsWith("/sessions/") || p === "/segments" },
  { href: "/errors", label: "Errors", id: "nav-errors", here: (p) => p === "/errors" || p.startsWith("/errors/") },
  { href: "/frustration", label: "Frustration", id: "nav-frustration", here: (p) => p === "/frustration" },
  { href: "/funnels", label: "Funnels", id: "nav-funnels", here: (p) => p === "/funnels" },
];

export function mainNav(): HTMLElement {
  const path = location.pathname;
  return h(
    "nav",
    { class: "mainnav", id: "mainnav", "aria-label": "Sections" },
    ...SECTIONS.map((s) => h("a", { href: s.href, id: s.id, class: "nav-link", "aria-current": s.here(path) ? "page" : null }, s.label)),
  );
}

/** The top bar; the project and user fill in once /api/me answers. */
export function topBar(...middle: (Node | string)[]): HTMLElement {
  const who = h("div", { class: "who", id: "who" });
  const bar = h("header", { class: "topbar" }, brand(), mainNav(), h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, ...middle), who);
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
