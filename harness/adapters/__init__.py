"""Recorder adapters by name."""

from __future__ import annotations

from harness.adapters.base import Adapter
from harness.adapters.rrweb import RrwebAdapter

ADAPTERS: dict[str, type[Adapter]] = {"rrweb": RrwebAdapter}


def get(name: str) -> Adapter:
    """The adapter called `name`; KeyError names the known ones."""
    try:
        return ADAPTERS[name]()
    except KeyError:
        raise KeyError(f"unknown recorder {name!r} (known: {', '.join(ADAPTERS)})") from None
