"""Instruction counts of the renderer under callgrind (harness/instructions.py): one small real
case, a synthetic recorder of known cost whose added instructions must scale with its work,
and the arithmetic of the report on counts made up for it. The real case needs valgrind and is
skipped without it."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from harness import instructions
from harness.adapters.rrweb import RrwebAdapter
from harness.instructions import Counts, InstructionsUnavailable, Overhead
from harness.scenario import RecorderConfig, load_scenario
from harness.server import script_tag

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>tiny</title></head>
<body><h1>Orders</h1><ul>{items}</ul></body></html>
"""

# A loop with a known number of iterations, warmed up first in every arm so that its
# compilation (V8 tiers up by how much it ran) is the same whatever comes after.
BURN = """(function () {
  function burn(n) { var s = 0; for (var i = 0; i < n; i++) s = (s + i * 7) %% 1000003; return s; }
  burn(200000); burn(200000);
  var r = burn(%(n)d);
  fetch(%(ingest)s, { method: "POST", body: JSON.stringify({ session: %(session)s, r: r }) });
})();"""

STEP = 3_000_000  # loop iterations per step: tens of millions of instructions, far above the noise


class Burner(RrwebAdapter):
    """A synthetic recorder: a script tag that runs `iterations` of a loop, then posts one
    batch (the after-load window waits for a recorder's first batch)."""

    name = "burner"

    def __init__(self, iterations: int) -> None:
        self.iterations = iterations

    def head_html(
        self,
        config: RecorderConfig,
        ingest_url: str,
        session: str,
        asset: Callable[[str, str], str],
    ) -> str:
        body = BURN % {
            "n": self.iterations,
            "ingest": json.dumps(ingest_url),
            "session": json.dumps(session),
        }
        return script_tag(asset(f"-{self.iterations}", body))


def _tiny(tmp_path: Path) -> Path:
    (tmp_path / "pages").mkdir()
    items = "".join(f"<li>order {i}</li>" for i in range(50))
    (tmp_path / "pages" / "tiny.html").write_text(PAGE.format(items=items))
    path = tmp_path / "tiny.yaml"
    path.write_text("page: pages/tiny.html\n")
    return path


@pytest.mark.callgrind  # ~200 s of valgrind browsers: `make bench` runs it, `make test` does not
@pytest.mark.skipif(
    shutil.which("valgrind") is None or shutil.which("callgrind_control") is None,
    reason="valgrind is not installed (apt-get install valgrind): no instruction counts",
)
def test_added_instructions_scale_with_the_recorders_work(tmp_path: Path) -> None:
    # N, 2N and 3N steps of work: each has the same page, the same compiled loop and the same
    # batch, so 3N - N must be twice 2N - N, to within what the counts vary.
    scenario = load_scenario(_tiny(tmp_path))
    one, two, three = instructions.count(
        scenario, [Burner(STEP), Burner(2 * STEP), Burner(3 * STEP)], workers=3
    )
    for c in (one, two, three):
        assert c.batches == 1  # the window waited for the recorder's batch
        assert c.after_load > 0
    step = two.to_load - one.to_load
    assert step > 5_000_000, (one, two)  # the loop's work shows, before the load event
    assert 1.95 < (three.to_load - one.to_load) / step < 2.05, (one, two, three)
    # The work is the page's main thread's: the other threads do about the same in each load.
    assert 1.9 < (three.all_total - one.all_total) / (two.all_total - one.all_total) < 2.1


def test_no_valgrind_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InstructionsUnavailable, match="valgrind not found: install it"):
        instructions.check_valgrind()


def _counts(to_load: int, after_load: int) -> Counts:
    return Counts(to_load, after_load, to_load + 10, after_load + 20, 1, 1.0)


def test_added_instructions_and_their_interval() -> None:
    off = (_counts(1000, 500), _counts(1002, 498), _counts(998, 502))
    builtin = Overhead("s", "builtin", off, (_counts(1010, 700), _counts(1012, 702)))
    rrweb = Overhead("s", "rrweb", off, (_counts(1500, 600), _counts(1504, 600)))
    to_load = builtin.window("to load")
    assert to_load.off == 1000 and to_load.added == 11
    assert to_load.lo < 11 < to_load.hi
    assert math.isclose(to_load.ratio, 0.011)
    assert math.isclose(to_load.off_spread, 4 / 1000)
    total = builtin.window("total")
    assert total.added == 1712 - 1500
    assert builtin.window("all threads").added == total.added  # the same extra per thread
    # Whole-window ratio of the recorders' added instructions, with an interval around it.
    f = instructions.factor(builtin.window("total"), rrweb.window("total"))
    assert f is not None
    assert math.isclose(f.estimate, 212 / 602)
    assert f.lo < f.estimate < f.hi
    text = instructions.table([builtin, rrweb])
    assert "builtin/rrweb" in text and "to load" in text and "after load" in text
    assert "3 loads off, 2 builtin, 2 rrweb" in text
    # Counts that repeat exactly have a zero-width interval, not an error.
    same = Overhead("s", "x", (_counts(5, 5), _counts(5, 5)), (_counts(7, 5), _counts(7, 5)))
    exact = same.window("to load")
    assert exact.lo == exact.hi == 2
