"""Recorder adapters by name: the built-in ones, plus any a package registers under the
`replaycheck.adapters` entry-point group (name = "module:AdapterClass")."""

from __future__ import annotations

from importlib.metadata import entry_points

from harness.adapters.base import Adapter
from harness.adapters.builtin import BuiltinAdapter
from harness.adapters.rrweb import RrwebAdapter


def _registered() -> dict[str, type[Adapter]]:
    found: dict[str, type[Adapter]] = {"builtin": BuiltinAdapter, "rrweb": RrwebAdapter}
    for entry in entry_points(group="replaycheck.adapters"):
        found.setdefault(entry.name, entry.load())
    return found


ADAPTERS = _registered()


def get(name: str) -> Adapter:
    """The adapter called `name`; KeyError names the known ones."""
    try:
        return ADAPTERS[name]()
    except KeyError:
        raise KeyError(f"unknown recorder {name!r} (known: {', '.join(ADAPTERS)})") from None
