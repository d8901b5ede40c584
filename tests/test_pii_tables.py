"""recorder/src/record/tables.ts is the output of recorder/tools/pii_tables.py for the installed
phonenumbers and python-stdnum: a metadata update or an edit by hand cannot go unnoticed."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from stdnum import iban

TOOL = Path(__file__).resolve().parent.parent / "recorder" / "tools" / "pii_tables.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pii_tables", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_tables_are_the_generators_output() -> None:
    tool = _tool()
    assert tool.OUT.read_text() == tool.generate(), "run: .venv/bin/python " + str(TOOL)


def test_iban_lengths_are_stdnums() -> None:
    # A known IBAN of each length class passes stdnum, so the lengths read from iban.dat hold.
    lengths = _tool().iban_lengths()
    assert lengths["DE"] == 22 and lengths["NO"] == 15 and len(lengths) == 89
    assert iban.is_valid("DE89370400440532013000") and iban.is_valid("NO9386011117947")
