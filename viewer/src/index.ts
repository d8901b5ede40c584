// The viewer of `replaycheck serve` (docs/serve.md): one bundle for every page, routed on the
// path. The server answers /login, /, /sessions/ID, /errors, /errors/FP, /frustration,
// /funnels and /segments with the same HTML shell.

import { errorsPage, issuePage } from "./errors";
import { frustrationPage } from "./frustration";
import { funnelsPage } from "./funnels";
import { listPage } from "./list";
import { segmentsPage } from "./segments_page";
import { loginPage } from "./login";
import { playerPage } from "./player";
import { h } from "./dom";

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function route(): void {
  const root = document.getElementById("app") ?? document.body.appendChild(h("div", { id: "app" }));
  const path = location.pathname;
  if (path === "/login") return loginPage(root);
  const session = /^\/sessions\/([^/]+)\/?$/.exec(path);
  if (session) {
    void playerPage(root, decoded(session[1]!));
    return;
  }
  if (path === "/" || path === "") return listPage(root);
  if (path === "/errors" || path === "/errors/") return errorsPage(root);
  const issue = /^\/errors\/([^/]+)\/?$/.exec(path);
  if (issue) return issuePage(root, decoded(issue[1]!));
  if (path === "/frustration") return frustrationPage(root);
  if (path === "/funnels") return funnelsPage(root);
  if (path === "/segments") return segmentsPage(root);
  document.title = "Not found · replaycheck";
  root.replaceChildren(h("main", { class: "notice-page" }, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/" }, "Go to the sessions"))));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", route);
else route();
