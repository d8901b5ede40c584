"""DOM fidelity: the canonicaliser in a real browser, the tree comparison, rrweb end to end."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from harness.compare.dom import compare_dom
from harness.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
PAGES = Path(__file__).parent / "fixtures" / "dom"
RRWEB = ROOT / "node_modules" / "@rrweb"
MASK = "[masked]"  # canonical.ts MASK_TOKEN

Tree = dict[str, Any]


# --- hand-written canonical trees -------------------------------------------------------------


def el(tag: str, *children: Tree, **attrs: str) -> Tree:
    return {"k": "el", "tag": tag, "attrs": attrs, "children": list(children)}


def text(value: str) -> Tree:
    return {"k": "text", "text": value}


def sheet(*rules: str) -> Tree:
    return {"k": "sheet", "rules": list(rules)}


def page_tree(*body: Tree, head: tuple[Tree, ...] = ()) -> Tree:
    html = el("html", el("head", *head), el("body", *body))
    return {"k": "doc", "mode": "CSS1Compat", "children": [html]}


def article() -> Tree:
    return page_tree(
        el(
            "main",
            el("h1", text("Title")),
            el("p", text("First")),
            el("p", text("Hello"), el("b", text("bold"))),
            id="content",
        ),
        head=(sheet("p { color: red; }"), sheet(".b { margin: 0px; }")),
    )


def body_of(tree: Tree) -> Tree:
    body: Tree = tree["children"][0]["children"][1]
    return body


def test_identical_trees_match_fully() -> None:
    result = compare_dom(article(), article())
    assert result.similarity == 1.0
    assert result.live_nodes == result.replay_nodes == result.matched == 15
    assert result.differences == []


def test_empty_trees_are_identical() -> None:
    assert compare_dom({}, {}).similarity == 1.0
    empty = {"k": "doc", "children": []}
    assert compare_dom(empty, empty).similarity == 1.0
    assert compare_dom({}, article()).similarity == 0.0


def test_changed_text_costs_one_node_on_each_side() -> None:
    replay = article()
    body_of(replay)["children"][0]["children"][2]["children"][0]["text"] = "Helo"
    result = compare_dom(article(), replay)
    assert result.matched == 14
    assert result.similarity == pytest.approx(2 * 14 / 30)
    assert result.differences == ["html>body>main#content>p[2]: text 'Hello' != 'Helo'"]


def test_text_attributes_and_rules_masked_in_place_count_as_reproduced() -> None:
    live = page_tree(
        el("p", text("Card 4111 1111 1111 1111"), title="call 555-123-4567"),
        head=(sheet('#c::after { content: "078-05-1120"; }'),),
    )
    masked = page_tree(
        el("p", text("Card **** **** **** ****"), title="call ************"),
        head=(sheet('#c::after { content: "***********"; }'),),
    )
    assert compare_dom(live, masked).similarity == 1.0
    # Not a masked rendition: another length, a star where there was a space, other text.
    for wrong in ("Card ****", "Card **** **** **** *****", "Card *********************"):
        result = compare_dom(page_tree(el("p", text("Card 4111 1111 1111 1111"))),
                             page_tree(el("p", text(wrong))))  # fmt: skip
        assert result.similarity < 1.0, wrong
    other = compare_dom(page_tree(el("p", text("abc*"))), page_tree(el("p", text("abd*"))))
    assert other.similarity < 1.0


def test_missing_child_in_long_list_leaves_the_rest_matched() -> None:
    items = [el("li", text(f"item {i}")) for i in range(300)]
    live = page_tree(el("ul", *items))
    replay = copy.deepcopy(live)
    del body_of(replay)["children"][0]["children"][49]
    result = compare_dom(live, replay)
    assert result.matched == result.replay_nodes == result.live_nodes - 2
    assert result.differences == ["html>body>ul>li[50]: missing in replay"]


def test_extra_node_is_named_by_its_replay_position() -> None:
    live = page_tree(el("ul", el("li", text("a")), el("li", text("b"))))
    replay = page_tree(el("ul", el("li", text("a")), el("li", text("b")), el("li", text("c"))))
    result = compare_dom(live, replay)
    assert result.differences == ["html>body>ul>li[3]: extra in replay"]
    assert result.matched == result.live_nodes


def test_attribute_class_and_style_order_do_not_matter() -> None:
    live = page_tree(el("div", title="t", style="color: red; margin: 0px", **{"class": "b a"}))
    replay = page_tree(el("div", **{"class": "a b a"}, style="margin:0px;color: red", title="t"))
    assert compare_dom(live, replay).similarity == 1.0


def test_attribute_difference_unmatches_the_node_but_not_its_children() -> None:
    live = page_tree(el("div", el("p", text("x")), id="app", **{"class": "a b"}))
    replay = page_tree(el("div", el("p", text("x")), id="app", **{"class": "a"}))
    result = compare_dom(live, replay)
    assert result.matched == result.live_nodes - 1
    assert result.differences == ["html>body>div#app: attribute class {'a','b'} != {'a'}"]


def test_missing_stylesheet_and_rule_are_reported() -> None:
    replay = article()
    del replay["children"][0]["children"][0]["children"][0]
    assert compare_dom(article(), replay).differences == [
        "html>head: stylesheet[1] missing in replay"
    ]
    replay = article()
    replay["children"][0]["children"][0]["children"][1]["rules"] = [".c { padding: 1px; }"]
    assert compare_dom(article(), replay).differences == [
        "html>head: stylesheet[2] rule '.b { margin: 0px; }' missing in replay",
        "html>head: stylesheet[2] rule '.c { padding: 1px; }' extra in replay",
    ]


def test_blocked_element_matches_the_recorders_placeholder_only() -> None:
    live = page_tree({"k": "blocked", "tag": "div"})
    placeholder = page_tree(el("div", style="width: 100px; height: 20px", **{"class": "ad"}))
    leaked = page_tree(el("div", text("advert"), **{"class": "ad"}))
    assert compare_dom(live, placeholder).similarity == 1.0
    result = compare_dom(live, leaked)
    assert result.differences == ["html>body>div: blocked in live, recorded with content in replay"]


def test_difference_list_is_limited() -> None:
    live = page_tree(*(el("p", text(f"live {i}")) for i in range(50)))
    replay = page_tree(*(el("p", text(f"replay {i}")) for i in range(50)))
    result = compare_dom(live, replay, limit=3)
    assert result.differences == [
        f"html>body>p[{i}]: text 'live {i - 1}' != 'replay {i - 1}'" for i in (1, 2, 3)
    ]
    assert result.matched == result.live_nodes - 50


def test_malformed_node_is_rejected() -> None:
    with pytest.raises(ValueError, match="without a kind"):
        compare_dom({"k": "doc", "children": [{"tag": "p"}]}, article())


def test_deep_and_large_trees() -> None:
    def nested(depth: int) -> Tree:
        node = text("bottom")
        for _ in range(depth):
            node = el("div", node)
        return page_tree(node)

    assert compare_dom(nested(5000), nested(5000)).similarity == 1.0

    # 30,000 nodes with a change every 7th row and one row gone: aligned, not positional.
    rows = [el("li", text(f"row {i}"), **{"class": "row"}) for i in range(15_000)]
    live = page_tree(el("ul", *rows))
    replay = copy.deepcopy(live)
    replay_rows = body_of(replay)["children"][0]["children"]
    for row in replay_rows[::7]:
        row["children"][0]["text"] = "changed"
    del replay_rows[5000]
    result = compare_dom(live, replay)
    assert result.live_nodes == 30_005
    assert result.matched == result.live_nodes - 2 - len(range(0, 15_000, 7))
    assert result.differences[0] == "html>body>ul>li[1]: text 'row 0' != 'changed'"


# --- the canonicaliser in Chromium --------------------------------------------------------------


@pytest.fixture(scope="module")
def site(worker: Worker) -> str:
    """The fixture pages over HTTP: linked sheets, iframes and rrweb need a real origin."""
    return worker.server.mount(PAGES)


@pytest.fixture(scope="module")
def canon_js(tmp_path_factory: pytest.TempPathFactory) -> str:
    """canonical.ts alone, bundled the way build.mjs bundles the harness."""
    out = tmp_path_factory.mktemp("canon") / "canon.js"
    subprocess.run(
        [
            str(ROOT / "node_modules" / ".bin" / "esbuild"),
            str(ROOT / "harness" / "js" / "src" / "canonical.ts"),
            "--bundle",
            "--format=iife",
            "--global-name=__rcCanon",
            f"--outfile={out}",
            "--log-level=warning",
        ],
        check=True,
    )
    return out.read_text() + "\n;globalThis.__rcCanon = __rcCanon; void 0;"


@pytest.fixture
def browser(worker: Worker) -> Browser:
    return worker.browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def canonical(
    page: Page, canon_js: str, options: Mapping[str, Any] | None = None, target: str = "document"
) -> Tree:
    opts = {"mask": [], "block": [], "maskAllInputs": False, "maskAllText": False}
    opts.update(options or {})
    if not page.evaluate("typeof __rcCanon !== 'undefined'"):
        page.evaluate(canon_js)
    # As a JSON string: Playwright's own serialisation of a big tree is ten times slower.
    tree: Tree = json.loads(
        page.evaluate(f"(opts) => JSON.stringify(__rcCanon.canonicalDom({target}, opts))", opts)
    )
    return tree


def find(tree: Tree, tag: str, **attrs: str) -> Tree:
    """First element (document order) with this tag and these attribute values."""
    todo = [tree]
    while todo:
        node = todo.pop()
        node_attrs = node.get("attrs", {})
        if node.get("tag") == tag and all(node_attrs.get(k) == v for k, v in attrs.items()):
            return node
        todo.extend(reversed(node.get("children", [])))
    raise AssertionError(f"no <{tag}> with {attrs}")


def texts(tree: Tree) -> list[str]:
    found: list[str] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if node["k"] == "text":
            found.append(node["text"])
        todo.extend(reversed(node.get("children", [])))
    return found


FORM = """<!DOCTYPE html><html><body>
<input id="typed" value="attribute"><input id="scripted" value="attribute">
<input id="pw" type="password" value="hunter2"><input id="agree" type="checkbox" checked>
<select id="country"><option value="fr" selected>France</option><option value="de">Germany</option>
</select><textarea id="notes">default text</textarea>
<p class="pii">Alice Example</p>
<script>document.getElementById('scripted').value = 'set by script';</script>
</body></html>"""


def test_form_state_is_read_from_properties(page: Page, canon_js: str) -> None:
    page.set_content(FORM)
    page.fill("#typed", "typed by user")
    page.uncheck("#agree")
    page.select_option("#country", "de")
    page.fill("#notes", "new\n  notes")
    tree = canonical(page, canon_js)
    assert find(tree, "input", id="typed")["attrs"]["value"] == "typed by user"
    assert find(tree, "input", id="scripted")["attrs"]["value"] == "set by script"
    assert "checked" not in find(tree, "input", id="agree")["attrs"]
    assert find(tree, "select")["attrs"]["value"] == "de"
    assert "selected" not in find(tree, "option", value="fr")["attrs"]
    assert find(tree, "option", value="de")["attrs"]["selected"] == ""
    notes = find(tree, "textarea")
    assert notes["attrs"]["value"] == "new\n  notes"
    assert notes["children"] == []
    assert find(tree, "input", id="pw")["attrs"]["value"] == MASK  # passwords always


def test_attributes_sorted_classes_as_set_style_as_declarations(page: Page, canon_js: str) -> None:
    page.set_content(
        '<p id="a" class="b a  b" title="t" style="margin:0;color:red" data-z="1"> x </p>'
        '<p data-z="1" style="color: red; margin: 0px" title="t" class="a b" id="b">x</p>'
        '<div class="only-space"> <script>1</script><!-- c --> </div>'
    )
    tree = canonical(page, canon_js)
    first, second = find(tree, "p", id="a"), find(tree, "p", id="b")
    assert first["attrs"]["class"] == "a b"
    assert list(first["attrs"]) == sorted(first["attrs"])
    assert {**first, "attrs": {**first["attrs"], "id": "b"}} == second
    assert find(tree, "div")["children"] == []  # whitespace, script and comment are gone


def test_whitespace_collapses_except_in_preformatted_text(page: Page, canon_js: str) -> None:
    page.set_content(
        "<!DOCTYPE html><p>  a \n\t b&nbsp; <i> c </i></p><pre> x  <b> y  </b>\n</pre>"
    )
    assert body_of(canonical(page, canon_js))["children"] == [
        el("p", text("a b\u00a0"), el("i", text("c"))),
        el("pre", text(" x  "), el("b", text(" y  ")), text("\n")),
    ]


def test_insert_rule_and_adopted_sheets_count(page: Page, canon_js: str) -> None:
    page.set_content("<style>p { color: red }</style><p>x</p>")
    page.evaluate(
        """() => {
            document.querySelector('style').sheet.insertRule('.late { font-weight: bold }', 1);
            const adopted = new CSSStyleSheet();
            adopted.replaceSync('.adopted { color: purple }');
            document.adoptedStyleSheets = [adopted];
        }"""
    )
    tree = canonical(page, canon_js)
    head = find(tree, "head")
    assert head["children"] == [sheet("p { color: red; }", ".late { font-weight: bold; }")]
    assert tree["children"][-1] == sheet(".adopted { color: purple; }")


def test_link_and_inline_style_with_the_same_rules_compare_equal(
    page: Page, canon_js: str, site: str
) -> None:
    page.goto(site + "link.html")
    linked = canonical(page, canon_js)
    page.goto(site + "style.html")
    inline = canonical(page, canon_js)
    assert compare_dom(linked, inline).similarity == 1.0
    rule = find(inline, "head")["children"][0]["rules"][0]
    assert rule.startswith(".box { ") and "color: navy;" in rule
    assert f'background-image: url("{site}img/dot.svg");' in rule


def test_a_rules_declarations_compare_as_a_set_of_longhands(page: Page, canon_js: str) -> None:
    page.set_content(
        "<style>.a { color: blue; margin: 0 } .b { padding: var(--p); color: red }</style>"
    )
    page.evaluate(
        "document.styleSheets[0].cssRules[0].style.setProperty('color', 'red', 'important')"
    )
    live = canonical(page, canon_js)
    # Its text replayed: Chromium parses !important declarations last.
    texts = page.evaluate("[...document.styleSheets[0].cssRules].map(r => r.cssText).join(' ')")
    page.set_content(f"<style>{texts}</style>")
    result = compare_dom(live, canonical(page, canon_js))
    assert result.similarity == 1.0, result.differences
    [rule, substituted] = find(live, "head")["children"][0]["rules"]
    assert rule == (
        ".a { color: red !important; margin-bottom: 0px; margin-left: 0px; margin-right: 0px;"
        " margin-top: 0px; }"
    )
    # A shorthand with var() stands for its longhands, which have no value yet.
    assert substituted == ".b { color: red; padding: var(--p); }"
    page.set_content(f"<style>{texts.replace('--p', '--q')}</style>")
    differences = compare_dom(live, canonical(page, canon_js)).differences
    assert any("padding: var(--p)" in d for d in differences), differences


def test_shadow_roots_and_same_origin_iframes_are_included(
    page: Page, canon_js: str, site: str
) -> None:
    page.goto(site + "rich.html")
    tree = canonical(page, canon_js)
    shadow = find(tree, "div", id="host")["children"][0]
    assert shadow["k"] == "shadow"
    assert shadow["children"][0] == sheet("b { color: teal; }")
    assert texts(shadow) == ["shadow text"]
    frame = find(tree, "iframe", id="frame")
    assert "src" not in frame["attrs"]  # its document is compared instead
    assert frame["children"][0]["k"] == "doc"
    assert texts(frame) == ["Child document", "back"]
    assert find(frame, "a")["attrs"]["href"] == site + "rich.html"


def test_masking_hides_values_but_only_when_asked(browser: Browser, canon_js: str) -> None:
    masked = {"mask": [".pii"], "maskAllInputs": True}
    trees: dict[str, list[Tree]] = {"masked": [], "plain": []}
    for name, secret in (("alice", "Alice Example"), ("bob", "Bob Other")):
        context = browser.new_context()
        page = context.new_page()
        page.set_content(FORM.replace("Alice Example", secret))
        page.fill("#typed", name)
        page.select_option("#country", "de" if name == "bob" else "fr")
        trees["masked"].append(canonical(page, canon_js, masked))
        trees["plain"].append(canonical(page, canon_js))
        context.close()
    assert compare_dom(*trees["masked"]).similarity == 1.0
    assert texts(trees["masked"][0])[0] == MASK
    plain = compare_dom(*trees["plain"], limit=20)
    assert plain.similarity < 1.0
    assert "html>body>input#typed: attribute value 'alice' != 'bob'" in plain.differences
    assert "html>body>p: text 'Alice Example' != 'Bob Other'" in plain.differences


def test_blocked_elements_become_placeholders(page: Page, canon_js: str) -> None:
    page.set_content('<!DOCTYPE html><div class="ad" title="t"><p>ad</p></div><p>kept</p>')
    tree = canonical(page, canon_js, {"block": [".ad"]})
    assert body_of(tree)["children"] == [{"k": "blocked", "tag": "div"}, el("p", text("kept"))]


def test_a_blocked_link_matches_its_attribute_less_placeholder(page: Page, canon_js: str) -> None:
    # Blocked by an attribute selector: the placeholder has none of the attributes it matched on,
    # only the recorded size (builtin and rrweb both replay it so).
    block = {"block": ['link[rel="icon"]']}
    page.set_content('<!DOCTYPE html><head><link rel="icon" href="f.ico"></head><p>kept</p>')
    live = canonical(page, canon_js, block)
    page.set_content(
        '<!DOCTYPE html><head><link style="width: 0px; height: 0px"><link></head><p>kept</p>'
    )
    replay = canonical(page, canon_js, block)
    result = compare_dom(live, replay)
    assert result.similarity == 1.0, result.differences
    # A bare <link> (rrweb's replay of a script preload) is still nothing.
    [head, _] = replay["children"][0]["children"]
    assert [c.get("tag") for c in head["children"]] == ["link"]


def test_a_frame_without_readable_content_is_compared_as_the_element(
    page: Page, canon_js: str
) -> None:
    # Sandboxed without allow-same-origin: no recorder reads it; an empty frame replays it.
    page.set_content(
        '<!DOCTYPE html><iframe sandbox="allow-scripts" srcdoc="<p>inside</p>"'
        ' style="width: 300px"></iframe>'
    )
    page.wait_for_timeout(100)
    live = canonical(page, canon_js)
    page.set_content('<!DOCTYPE html><iframe style="width: 300px"></iframe>')
    replay = canonical(page, canon_js)
    assert find(live, "iframe")["children"] == [] == find(replay, "iframe")["children"]
    result = compare_dom(live, replay)
    assert result.differences == ["html>body>iframe: attribute sandbox 'allow-scripts' != (absent)"]
    # A frame with content the replay lost is still a difference.
    page.set_content('<!DOCTYPE html><iframe srcdoc="<p>inside</p>"></iframe>')
    page.wait_for_timeout(100)
    assert find(canonical(page, canon_js), "iframe")["children"] != []


# --- rrweb end to end ---------------------------------------------------------------------------

RECORD = """
if (window === window.top) {  // rrweb records child frames itself; don't pay for it twice
  window.__events = [];
  rrwebRecord.record(Object.assign({emit(event) { window.__events.push(event); }}, %s));
}
"""
REPLAY = """([events, end]) => {
  window.__replayer = new rrwebReplay.Replayer(events, {root: document.body, mouseTail: false});
  window.__replayer.pause(end);
}"""
REPLAY_DOC = "window.__replayer.iframe.contentDocument"


@pytest.mark.parametrize(
    ("record_options", "canon_options"),
    [
        ("{}", {}),
        (
            '{"maskAllInputs": true, "maskTextSelector": ".lead", "blockSelector": "table"}',
            {"mask": [".lead"], "block": ["table"], "maskAllInputs": True},
        ),
    ],
    ids=["plain", "masked"],
)
def test_rrweb_replay_is_faithful_and_a_deletion_shows(
    browser: Browser,
    canon_js: str,
    site: str,
    record_options: str,
    canon_options: dict[str, Any],
) -> None:
    context = browser.new_context()
    live_page = context.new_page()
    live_page.add_init_script(
        (RRWEB / "record" / "dist" / "record.umd.min.cjs").read_text() + RECORD % record_options
    )
    live_page.goto(site + "rich.html")
    live_page.wait_for_function("document.getElementById('status').textContent === 'ready'")
    live_page.fill("#name", "Jane Doe")
    live_page.fill("#pw", "hunter2")
    live_page.check("#agree")
    live_page.select_option("#country", "de")
    live_page.fill("#notes", "typed notes")
    live_page.wait_for_timeout(100)  # let rrweb's mutation and input observers flush
    live = canonical(live_page, canon_js, canon_options)
    events: list[dict[str, Any]] = live_page.evaluate("window.__events")
    context.close()

    context = browser.new_context()
    replay_page = context.new_page()
    replay_page.set_content("<!DOCTYPE html><html><head></head><body></body></html>")
    replay_page.add_style_tag(content=(RRWEB / "replay" / "dist" / "style.css").read_text())
    replay_page.evaluate((RRWEB / "replay" / "dist" / "replay.umd.min.cjs").read_text())
    # rrweb applies events strictly before the offset: +1 ms includes the last one.
    end = events[-1]["timestamp"] - events[0]["timestamp"] + 1
    replay_page.evaluate(REPLAY, [events, end])
    page_url = next(e["data"]["href"] for e in reversed(events) if e["type"] == 4)  # Meta
    options = {**canon_options, "url": page_url}
    replay = canonical(replay_page, canon_js, options, REPLAY_DOC)

    faithful = compare_dom(live, replay)
    assert faithful.similarity >= 0.99, faithful.differences
    assert faithful.live_nodes > 80

    replay_page.evaluate(f"{REPLAY_DOC}.querySelector('#list li:nth-child(2)').remove()")
    damaged = compare_dom(live, canonical(replay_page, canon_js, options, REPLAY_DOC))
    context.close()
    assert damaged.similarity < faithful.similarity
    assert "html>body>main#content>ul#list>li[2]: missing in replay" in damaged.differences


# --- faithful replays that differ in form only (tests/fixtures/verdicts) ------------------------

VERDICTS = Path(__file__).parent / "fixtures" / "verdicts"
QUIRKS_BODY = "<html><head></head><body><table><tr><td>cell</td></tr></table></body></html>"
# A doctype that keeps quirks mode (rrweb's replay writes this one for a quirks page).
QUIRKS_DOCTYPE = '<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "">'


@pytest.fixture(scope="module")
def verdicts_site(worker: Worker) -> str:
    return worker.server.mount(VERDICTS)


def test_document_mode_not_the_doctype_is_compared(browser: Browser, canon_js: str) -> None:
    def tree(html: str) -> Tree:
        context = browser.new_context()
        page = context.new_page()
        page.set_content(html)
        found = canonical(page, canon_js)
        context.close()
        return found

    live = tree(QUIRKS_BODY)  # no doctype: quirks mode
    same_mode = compare_dom(live, tree(QUIRKS_DOCTYPE + QUIRKS_BODY))
    assert same_mode.similarity == 1.0, same_mode.differences
    # The same doctype name ("html") in standards mode: a replay drawn another way.
    standards = compare_dom(
        tree(QUIRKS_DOCTYPE + QUIRKS_BODY), tree("<!DOCTYPE html>" + QUIRKS_BODY)
    )
    assert standards.similarity < 1.0
    assert standards.differences == ["document: mode 'BackCompat' != 'CSS1Compat'"]
    assert live["mode"] == "BackCompat"


def test_imported_rules_compare_equal_to_the_same_rules_inlined(
    page: Page, canon_js: str, verdicts_site: str
) -> None:
    page.goto(verdicts_site + "import.html")
    live = canonical(page, canon_js)
    page.goto(verdicts_site + "inlined.html")
    replay = canonical(page, canon_js)
    result = compare_dom(live, replay)
    assert result.similarity == 1.0, result.differences
    # Flattened in cascade order: the nested import's rule first.
    (head_sheet,) = [n for n in find(live, "head")["children"] if n["k"] == "sheet"]
    rules = head_sheet["rules"]
    sides = ("bottom", "left", "right", "top")
    nested = f".nested {{ {' '.join(f'padding-{side}: 3px;' for side in sides)} }}"
    margin = f".b {{ {' '.join(f'margin-{side}: 2px;' for side in sides)} }}"
    assert rules[:3] == [nested, ".a { color: navy; }", margin]

    # A replay that misses one imported rule, or applies them in another order, is not equal.
    page.evaluate("document.styleSheets[0].deleteRule(0)")
    missing = compare_dom(live, canonical(page, canon_js))
    [difference] = missing.differences  # the rule's text shortened
    assert difference.startswith("html>head: stylesheet rule '.nested { padding-bottom: 3px;")
    assert difference.endswith("missing in replay")
    page.evaluate("document.styleSheets[1].insertRule('.nested { padding: 3px; }', 2)")
    reordered = compare_dom(live, canonical(page, canon_js))
    assert reordered.differences == ["html>head: stylesheet rules in another order"]


def test_ignored_fields_state_is_not_expected_in_the_replay(
    browser: Browser, canon_js: str
) -> None:
    form = (
        "<!DOCTYPE html><form class='no-track'><input id='q'><input id='c' type='checkbox'>"
        "<select id='s'><option>a</option><option>b</option></select></form><input id='kept'>"
    )
    trees = []
    for typed in (True, False):  # the live page, and a replay without the ignored input events
        context = browser.new_context()
        page = context.new_page()
        page.set_content(form)
        page.fill("#kept", "recorded")
        if typed:
            page.fill("#q", "not recorded")
            page.check("#c")
            page.select_option("#s", "b")
        trees.append(canonical(page, canon_js, {"ignore": [".no-track"]}))
        context.close()
    assert compare_dom(*trees).similarity == 1.0
    assert find(trees[0], "input", id="kept")["attrs"]["value"] == "recorded"


def test_rrweb_inlines_imports_and_drops_their_conditions(
    browser: Browser, canon_js: str, verdicts_site: str
) -> None:
    context = browser.new_context()
    live_page = context.new_page()
    live_page.add_init_script(
        (RRWEB / "record" / "dist" / "record.umd.min.cjs").read_text() + RECORD % "{}"
    )
    live_page.goto(verdicts_site + "import.html")
    live = canonical(live_page, canon_js)
    events: list[dict[str, Any]] = live_page.evaluate("window.__events")
    replay_page = context.new_page()
    replay_page.set_content("<!DOCTYPE html><html><head></head><body></body></html>")
    replay_page.evaluate((RRWEB / "replay" / "dist" / "replay.umd.min.cjs").read_text())
    replay_page.evaluate(REPLAY, [events, events[-1]["timestamp"] - events[0]["timestamp"] + 1])
    replay = canonical(replay_page, canon_js, {"url": verdicts_site + "import.html"}, REPLAY_DOC)
    context.close()
    # Its inlined rules match the imported ones; the print-only, layered and @supports imports
    # lost their conditions (a print rule that hides .p applies on screen): that is reported.
    assert compare_dom(live, replay).differences == [
        "html>head: stylesheet rule '@media print { .p { display: none; } }' missing in replay",
        "html>head: stylesheet rule '@layer base { .l { color: green; } }' missing in replay",
        "html>head: stylesheet rule '@media screen { @supports (display: grid) { .g { display:"
        " grid; } } }' missing in replay",
        "html>head: stylesheet rule '.p { display: none; }' extra in replay",
        "html>head: stylesheet rule '.l { color: green; }' extra in replay",
        "html>head: stylesheet rule '.g { display: grid; }' extra in replay",
    ]


def test_urls_and_handlers_are_read_as_browsers_read_them(page: Page, canon_js: str) -> None:
    # A no-break space or a BOM before javascript: makes a relative URL (the URL parser strips
    # only C0 controls and spaces); a tab inside the scheme is stripped; handlers in any case.
    page.set_content(
        "<a id=nbsp href='\u00a0javascript:x'>a</a><a id=tab href='java\tscript:x'>b</a>"
        "<p id=p ONCLICK='x' onMouseOver='y'>c</p>"
    )
    tree = canonical(page, canon_js, {"url": "http://site.test/dir/page.html"})
    assert find(tree, "a", id="nbsp")["attrs"]["href"] == "http://site.test/dir/%C2%A0javascript:x"
    assert find(tree, "a", id="tab")["attrs"]["href"] == "javascript:"
    assert find(tree, "p", id="p")["attrs"] == {"id": "p"}
