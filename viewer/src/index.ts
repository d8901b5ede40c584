// The viewer of `replaycheck serve` (docs/serve.md): one bundle for every page, routed on the
// path. The server answers /login, / and /sessions/ID with the same HTML shell.

import { listPage } from "./list";
import { loginPage } from "./login";
import { playerPage } from "./player";
import { h } from "./dom";

function route(): void {
  const root = document.getElementById("app") ?? document.body.appendChild(h("div", { id: "app" }));
  const path = location.pathname;
  if (path === "/login") return loginPage(root);
  const session = /^\/sessions\/([^/]+)\/?$/.exec(path);
  if (session) {
    let id: string;
    try {
      id = decodeURIComponent(session[1]!);
    } catch {
      id = session[1]!;
    }
    void playerPage(root, id);
    return;
  }
  if (path === "/" || path === "") return listPage(root);
  document.title = "Not found · replaycheck";
  root.replaceChildren(h("main", { class: "notice-page" }, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/" }, "Go to the sessions"))));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", route);
else route();
