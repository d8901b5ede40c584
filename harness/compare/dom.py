"""DOM fidelity: compare the canonical trees of a live page and its replay.

The trees come from `canonicalDom` (harness/js/src/canonical.ts), run on both documents. A
node is a JSON object with a kind `k`:

    {"k": "doc", "mode": "CSS1Compat", "children": [...]}   a document (the page, or a
                                           same-origin iframe's) and its compatMode
    {"k": "el", "tag": "p", "attrs": {...}, "children": [...]}
    {"k": "text", "text": "..."}
    {"k": "sheet", "rules": [...], "href"?: "..."}   adjacent stylesheets' rules, imports inlined
    {"k": "shadow", "children": [...]}     an open shadow root, first child of its host
    {"k": "blocked", "tag": "div"}         an element the recorder was told not to record
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

# SequenceMatcher aligns child lists up to len(a) * len(b) of this; it is quadratic beyond.
_MATCHER_LIMIT = 250_000
# Larger lists are cut at unique anchors this many times over before pairing by position.
_MAX_DEPTH = 4
# Values longer than this are cut in difference lines.
_SHOWN_CHARS = 80
# Kinds that are steps of a path (`html>body>#shadow>p`); the others are leaves named after it.
_PATH_KINDS = frozenset({"el", "blocked", "doc", "shadow"})
_LEAF_LABELS = {"text": "text", "sheet": "stylesheet"}


@dataclass(frozen=True)
class DomResult:
    """How much of the live DOM the replay reproduced.

    similarity = 2 * matched / (live_nodes + replay_nodes): the share of nodes, counted in both
    trees, that have an equal counterpart (1.0 for two empty trees).
    """

    similarity: float
    live_nodes: int
    replay_nodes: int
    matched: int
    differences: list[str]


class _Node:
    """One canonical node, with what alignment needs precomputed."""

    __slots__ = ("_label", "children", "content", "digest", "key", "kind", "parent", "raw", "size")

    def __init__(self, raw: Mapping[str, Any], parent: _Node | None) -> None:
        kind = raw.get("k")
        if not isinstance(kind, str):
            raise ValueError(f"canonical DOM node without a kind: {_show(raw)}")
        self.raw = raw
        self.kind = kind
        self.key = _align_key(raw, kind)
        self.content = _content(raw, kind)
        self.parent = parent
        self.children: list[_Node] = []
        self._label: str | None = None if parent else ""
        self.digest = 0
        self.size = 1

    def finish(self) -> None:
        """Subtree digest and size; all children must be finished already."""
        children = self.children
        if children:
            digests = tuple([c.digest for c in children])
            self.digest = hash((self.kind, self.key, self.content, digests))
            self.size = 1 + sum([c.size for c in children])
        else:
            self.digest = hash((self.kind, self.key, self.content))

    @property
    def label(self) -> str:
        """`li[3]` for the third <li> among its siblings, a lone one just `li`; computed on
        demand, as only nodes that differ are ever named. The page's document has none."""
        if self._label is None:
            _label_siblings(self.parent.children if self.parent else [])
        return self._label or ""


def compare_dom(
    live: Mapping[str, Any], replay: Mapping[str, Any], *, limit: int = 10
) -> DomResult:
    """Match the trees top-down and list the first `limit` differences in document order.

    Nodes pair up when kind, tag and id agree at aligned positions; a pair counts as matched
    when its own content (attributes, text, stylesheet rules) is equal, and its children are
    compared either way. Children are aligned as sequences, so one inserted or missing node
    leaves its siblings matched. similarity = 2 * matched / (live_nodes + replay_nodes).
    """
    live_root, replay_root = _build(live), _build(replay)
    live_nodes = live_root.size if live_root else 0
    replay_nodes = replay_root.size if replay_root else 0
    walk = _Walk(limit)
    walk.run([live_root] if live_root else [], [replay_root] if replay_root else [])
    total = live_nodes + replay_nodes
    similarity = 1.0 if total == 0 else 2 * walk.matched / total
    return DomResult(similarity, live_nodes, replay_nodes, walk.matched, walk.differences)


def _build(raw: Mapping[str, Any]) -> _Node | None:
    """Index a canonical tree without recursion (DOMs can nest deeper than Python's stack)."""
    if not raw:
        return None
    root = _Node(raw, None)
    order = [root]
    todo = [root]
    while todo:
        node = todo.pop()
        for child_raw in node.raw.get("children", ()):
            child = _Node(child_raw, node)
            node.children.append(child)
            order.append(child)
            todo.append(child)
    for node in reversed(order):  # every child sits after its parent in `order`
        node.finish()
    return root


def _align_key(raw: Mapping[str, Any], kind: str) -> tuple[str | None, ...]:
    if kind == "el":
        attrs = raw.get("attrs", {})
        return ("el", raw.get("tag"), attrs.get("id"))
    if kind == "blocked":
        # Pairs with the recorder's placeholder: same tag, the id usually not kept.
        return ("el", raw.get("tag"), None)
    return (kind,)


def _content(raw: Mapping[str, Any], kind: str) -> Any:
    """What must be equal for a node to count as matched (children aside)."""
    if kind == "el":
        attrs = raw.get("attrs", {})
        return tuple(sorted((name, _attr_value(name, value)) for name, value in attrs.items()))
    if kind == "text":
        return raw.get("text", "")
    if kind == "sheet":
        return (tuple(raw.get("rules", ())), raw.get("href", ""))
    if kind == "doc":
        # The doctype matters only through the mode it puts the document in.
        return raw.get("mode", "")
    return None


def _masked_rendition(live: Any, replay: Any) -> bool:
    """Whether `replay` is `live` with characters starred: a recorder masking on purpose keeps
    lengths and whitespace (builtin and rrweb both), so the node is reproduced, masked."""
    if isinstance(live, str) and isinstance(replay, str):
        return (
            len(live) == len(replay)
            and "*" in replay
            and all(
                r == c or (r == "*" and not c.isspace()) for c, r in zip(live, replay, strict=True)
            )
        )
    if isinstance(live, tuple) and isinstance(replay, tuple) and len(live) == len(replay):
        # attributes (name, value) pairs, or a sheet's (rules, href)
        return all(c == r or _masked_rendition(c, r) for c, r in zip(live, replay, strict=True))
    return False


def _attr_value(name: str, value: str) -> str:
    """Order-free forms of class (a set) and style (sorted declarations)."""
    if name == "class":
        return " ".join(sorted(set(value.split())))
    if name == "style":
        decls = (_declaration(d) for d in _split_outside(value, ";"))
        return "; ".join(sorted(d for d in decls if d))
    return value


def _declaration(text: str) -> str:
    name, _, value = text.partition(":")
    return f"{name.strip()}: {value.strip()}" if name.strip() else ""


def _split_outside(text: str, sep: str) -> list[str]:
    """Split at `sep` outside quotes and parentheses (a `url(data:...;base64,...)` stays whole)."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _label_siblings(nodes: Sequence[_Node]) -> None:
    bases = [_base_label(node) for node in nodes]
    totals: dict[str, int] = {}
    for base in bases:
        totals[base] = totals.get(base, 0) + 1
    seen: dict[str, int] = {}
    for node, base in zip(nodes, bases, strict=True):
        seen[base] = seen.get(base, 0) + 1
        node._label = f"{base}[{seen[base]}]" if totals[base] > 1 else base


def _base_label(node: _Node) -> str:
    if node.kind == "el":
        tag = str(node.raw.get("tag", "?"))
        ident = node.raw.get("attrs", {}).get("id")
        return f"{tag}#{ident}" if ident else tag
    if node.kind == "blocked":
        return str(node.raw.get("tag", "?"))
    if node.kind in ("doc", "shadow"):
        return f"#{'document' if node.kind == 'doc' else 'shadow'}"
    return _LEAF_LABELS.get(node.kind, node.kind)


_Pair = tuple[_Node | None, _Node | None]
_Step = tuple[_Node | None, _Node | None, str]


class _Walk:
    """Depth-first comparison with an explicit stack, collecting matches and differences."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.matched = 0
        self.differences: list[str] = []

    def run(self, live: Sequence[_Node], replay: Sequence[_Node]) -> None:
        stack: list[_Step] = [(a, b, "") for a, b in reversed(_align(live, replay))]
        while stack:
            a, b, parent = stack.pop()
            if a is None or b is None:
                node = a or b
                assert node is not None
                side = "missing in replay" if a else "extra in replay"
                self._report(node, parent, side)
                continue
            if a.digest == b.digest:  # identical subtrees
                self.matched += a.size
                continue
            if a.kind != b.kind:
                self._compare_blocked(a, b, parent)
                continue
            if a.content == b.content or _masked_rendition(a.content, b.content):
                self.matched += 1
            else:
                self._content_differences(a, b, parent)
            path = _join(parent, a.label) if a.kind in _PATH_KINDS else parent
            pairs = _align(a.children, b.children)
            stack.extend((ca, cb, path) for ca, cb in reversed(pairs))

    def _compare_blocked(self, a: _Node, b: _Node, parent: str) -> None:
        """A blocked element against the other side's element of the same tag."""
        element = b if a.kind == "blocked" else a
        if not element.children:  # the recorder's placeholder: attributes only
            self.matched += 1
            return
        if a.kind == "blocked":
            self._report(a, parent, "blocked in live, recorded with content in replay")
        else:
            self._report(a, parent, "blocked in replay, has content in live")

    def _content_differences(self, a: _Node, b: _Node, parent: str) -> None:
        if a.kind == "el":
            live_attrs, replay_attrs = dict(a.content), dict(b.content)
            for name in sorted(live_attrs.keys() | replay_attrs.keys()):
                before, after = live_attrs.get(name), replay_attrs.get(name)
                if before != after:
                    shown = f"{_show_attr(name, before)} != {_show_attr(name, after)}"
                    self._report(a, parent, f"attribute {name} {shown}")
        elif a.kind == "sheet":
            self._sheet_differences(a, b, parent)
        elif a.kind == "doc":
            self._report(a, parent, f"mode {_show(a.content)} != {_show(b.content)}")
        else:
            self._report(a, parent, f"{_show(a.content)} != {_show(b.content)}")

    def _sheet_differences(self, a: _Node, b: _Node, parent: str) -> None:
        live_rules, live_href = a.content
        replay_rules, replay_href = b.content
        if live_href != replay_href:
            self._report(a, parent, f"href {_show(live_href)} != {_show(replay_href)}")
        live_set, replay_set = set(live_rules), set(replay_rules)
        for rule in live_rules:
            if rule not in replay_set:
                self._report(a, parent, f"rule {_show(rule)} missing in replay")
        for rule in replay_rules:
            if rule not in live_set:
                self._report(a, parent, f"rule {_show(rule)} extra in replay")
        if live_set == replay_set and live_rules != replay_rules:
            self._report(a, parent, "rules in another order")

    def _report(self, node: _Node, parent: str, what: str) -> None:
        if len(self.differences) >= self.limit:
            return
        if node.kind in _PATH_KINDS:
            self.differences.append(f"{_join(parent, node.label) or 'document'}: {what}")
        else:
            self.differences.append(f"{parent or 'document'}: {node.label} {what}")


def _align(a: Sequence[_Node], b: Sequence[_Node]) -> list[_Pair]:
    """Pair two child lists: identical subtrees first, then look-alikes (same kind, tag, id)."""
    pairs: list[_Pair] = []
    for same, part_a, part_b in _runs(a, b, [n.digest for n in a], [n.digest for n in b]):
        if same:
            pairs.extend(zip(part_a, part_b, strict=True))
            continue
        keys_a, keys_b = [n.key for n in part_a], [n.key for n in part_b]
        for alike, rest_a, rest_b in _runs(part_a, part_b, keys_a, keys_b):
            if alike:
                pairs.extend(zip(rest_a, rest_b, strict=True))
            else:
                pairs.extend((node, None) for node in rest_a)
                pairs.extend((None, node) for node in rest_b)
    return pairs


_Run = tuple[bool, Sequence[_Node], Sequence[_Node]]


def _runs(
    a: Sequence[_Node],
    b: Sequence[_Node],
    keys_a: Sequence[Hashable],
    keys_b: Sequence[Hashable],
    depth: int = 0,
) -> list[_Run]:
    """Stretches of a and b that are equal by key, and the unequal stretches between them.

    Common ends are trimmed first (linear: the usual single insertion or change). A small
    middle goes to SequenceMatcher; a large one is cut at keys unique to both sides, kept in
    order (patience diff), and the pieces aligned again. Without such anchors: by position.
    """
    start = 0
    while start < len(a) and start < len(b) and keys_a[start] == keys_b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and keys_a[end_a - 1] == keys_b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    runs: list[_Run] = [(True, a[:start], b[:start])]
    mid_a, mid_b = a[start:end_a], b[start:end_b]
    mid_keys_a, mid_keys_b = keys_a[start:end_a], keys_b[start:end_b]
    if not mid_a or not mid_b:
        runs.append((False, mid_a, mid_b))
    elif len(mid_a) * len(mid_b) <= _MATCHER_LIMIT:
        matcher = SequenceMatcher(None, mid_keys_a, mid_keys_b, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            runs.append((op == "equal", mid_a[i1:i2], mid_b[j1:j2]))
    elif anchors := (_anchors(mid_keys_a, mid_keys_b) if depth < _MAX_DEPTH else []):
        last_i = last_j = 0
        for i, j in [*anchors, (len(mid_a), len(mid_b))]:
            gap_keys = (mid_keys_a[last_i:i], mid_keys_b[last_j:j])
            runs.extend(_runs(mid_a[last_i:i], mid_b[last_j:j], *gap_keys, depth + 1))
            runs.append((True, mid_a[i : i + 1], mid_b[j : j + 1]))
            last_i, last_j = i + 1, j + 1
    else:
        for i in range(max(len(mid_a), len(mid_b))):
            left, right = mid_a[i : i + 1], mid_b[i : i + 1]
            runs.append((bool(left and right) and mid_keys_a[i] == mid_keys_b[i], left, right))
    runs.append((True, a[end_a:], b[end_b:]))
    return runs


def _anchors(keys_a: Sequence[Hashable], keys_b: Sequence[Hashable]) -> list[tuple[int, int]]:
    """Positions (i, j) of keys occurring once in each list, longest in-order chain of them."""
    counts_a, counts_b = Counter(keys_a), Counter(keys_b)
    where_b = {key: j for j, key in enumerate(keys_b) if counts_b[key] == 1}
    pairs = [
        (i, where_b[key]) for i, key in enumerate(keys_a) if counts_a[key] == 1 and key in where_b
    ]
    # Longest increasing subsequence of j (patience sorting), then walk back the chain.
    tails: list[int] = []  # tails[n]: the pair ending the best chain of length n + 1 so far
    tail_js: list[int] = []  # its j, for bisect
    before: list[int] = []  # the pair preceding each pair in its chain
    for index, (_, j) in enumerate(pairs):
        size = bisect_left(tail_js, j)
        before.append(tails[size - 1] if size else -1)
        if size == len(tails):
            tails.append(index)
            tail_js.append(j)
        else:
            tails[size] = index
            tail_js[size] = j
    chain: list[tuple[int, int]] = []
    index = tails[-1] if tails else -1
    while index >= 0:
        chain.append(pairs[index])
        index = before[index]
    return chain[::-1]


def _join(parent: str, label: str) -> str:
    return f"{parent}>{label}" if parent and label else parent or label


def _show_attr(name: str, value: str | None) -> str:
    if value is None:
        return "(absent)"
    if name == "class":
        return "{" + ",".join(repr(c) for c in value.split()) + "}"
    return _show(value)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."
