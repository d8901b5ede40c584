"""One scenario with one recorder, end to end: record, replay, compare, verdict."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser
from playwright.sync_api import Error as PlaywrightError

from harness import adapters, events, masking
from harness.capture import Capture
from harness.compare import dom, pixel
from harness.drive import Recording, StepFailed, is_crash, record
from harness.remote import RemoteIngest
from harness.replay import ReplayFailed, replay
from harness.scenario import Expect, Scenario, ScenarioError
from harness.server import Server
from harness.stream import Stream


@dataclass(frozen=True)
class CheckpointResult:
    name: str
    pixel_mismatch: float
    dom_similarity: float
    masked_area: float
    diff_image: str | None
    dom_differences: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pixel_mismatch": round(self.pixel_mismatch, 6),
            "dom_similarity": round(self.dom_similarity, 6),
            "masked_area": round(self.masked_area, 6),
            "diff_image": self.diff_image,
            "dom_differences": self.dom_differences,
        }


@dataclass
class ScenarioResult:
    scenario: Scenario
    recorder: str
    failures: list[str] = field(default_factory=list)
    checkpoints: list[CheckpointResult] = field(default_factory=list)
    leaks: list[masking.Leak] = field(default_factory=list)
    coverage: float = 1.0
    secrets: int = 0  # private values the page held (declared or found)
    families: dict[str, dict[str, Any]] = field(default_factory=dict)  # masking.families()
    known_failure: str | None = None  # failed as the scenario's known_failures says it would
    bad_input: str | None = None  # found while running (an unreachable URL): one line
    events: dict[str, int] = field(default_factory=dict)
    stream: dict[str, int] = field(default_factory=dict)
    delivery: dict[str, int] = field(default_factory=dict)
    # The fault-injecting ingest's log: "index t_ms action" per request (ingest_faults only).
    ingest_attempts: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        return self.bad_input is None and (not self.failures or self.known_failure is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.scenario.name,
            "file": str(self.scenario.file),
            "recorder": self.recorder,
            "passed": self.passed,
            "known_failure": self.known_failure,
            "bad_input": self.bad_input,
            "failures": self.failures,
            "checkpoints": [c.to_json() for c in self.checkpoints],
            "masking": {
                "leaks": [leak.to_json() for leak in self.leaks],
                "coverage": round(self.coverage, 6),
                "secrets": self.secrets,
                "families": self.families,
            },
            "events": self.events,
            "stream": self.stream,
            "delivery": self.delivery,
            "duration_s": round(self.duration_s, 3),
        }


def run_scenario(
    browser: Browser,
    server: Server,
    scenario: Scenario,
    recorder: str,
    report: Path | None,
    remote: RemoteIngest | None = None,
) -> ScenarioResult:
    """Every problem is a failure in the result; bad input (an unreachable URL) is also named in
    `bad_input`, for exit status 2."""
    started = time.perf_counter()
    adapter = adapters.get(recorder)
    result = ScenarioResult(scenario, recorder)
    out = report / scenario.name / recorder if report else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    try:
        recording = record(browser, server, scenario, adapter, remote=remote)
        _verify(browser, server, scenario, recording, result, out)
    except StepFailed as e:
        result.failures.append(str(e))
    except ScenarioError as e:
        result.bad_input = str(e)
        result.failures.append(f"bad input: {e}")
    except PlaywrightError as e:
        # The renderer or the browser died under the scenario: that scenario fails, and the
        # worker starts a new browser for the next one.
        if not is_crash(e) and browser.is_connected():
            result.failures.append(_harness_error(e))
        else:
            result.failures.append(
                f"the page or browser crashed during the scenario: {str(e).splitlines()[0]}"
            )
    except Exception as e:
        # A crash in one scenario must not hide the verdicts of the others.
        result.failures.append(_harness_error(e))
    reason = scenario.known_failures.get(recorder)
    if reason is not None and result.bad_input is not None:
        pass  # bad input is never the failure a recorder is known for
    elif reason is not None and result.failures:
        result.known_failure = reason
    elif reason is not None:
        result.failures.append(
            f"known failure did not happen ({reason}): remove {recorder} from known_failures"
        )
    result.duration_s = time.perf_counter() - started
    return result


def _harness_error(e: Exception) -> str:
    where = traceback.extract_tb(e.__traceback__)[-1]
    first = str(e).splitlines()[0] if str(e) else ""
    return (
        f"harness error (a bug: please report it): {type(e).__name__}: {first}"
        f" at {Path(where.filename).name}:{where.lineno}"
    )


def _verify(
    browser: Browser,
    server: Server,
    scenario: Scenario,
    recording: Recording,
    result: ScenarioResult,
    out: Path | None,
) -> None:
    adapter = adapters.get(result.recorder)
    stream = recording.stream
    if out:
        (out / "stream.json").write_text(stream.to_json())
    result.stream = {
        "events": len(stream.events),
        "bytes": stream.bytes,
        "gzip_bytes": stream.gzip_bytes,
        "wire_bytes": stream.wire_bytes,
        "batches": len(stream.batches),
    }
    if stream.delivery is not None:
        result.delivery = stream.delivery.to_json()
    result.ingest_attempts = [f"{a.index} {a.t_ms:.0f}ms {a.action}" for a in recording.attempts]
    expect = scenario.expect
    if stream.lost:
        result.failures.append(f"stream: lost {', '.join(stream.lost)}")
    if stream.delivery is not None:
        result.failures.extend(_delivery_failures(stream, expect))
    if not stream.events:
        result.failures.append("stream: the recorder sent no events")
        return
    if expect.max_stream_bytes is not None and stream.bytes > expect.max_stream_bytes:
        result.failures.append(
            f"stream: {stream.bytes} bytes > max_stream_bytes {expect.max_stream_bytes}"
        )

    result.events = events.count(adapter.interactions(stream))
    result.failures.extend(events.check(result.events, expect.events))
    secrets = masking.secrets(recording.page_content(), expect.pii, scenario.recorder)
    result.secrets = len(secrets)
    result.leaks = masking.scan(stream, secrets, adapter.is_checkpoint_mark)
    result.coverage = masking.coverage(secrets, result.leaks)
    result.families = masking.families(secrets, result.leaks)
    result.failures.extend(
        f"masking: {leak.kind} {leak.value!r} from {leak.source} leaked at {leak.where}"
        for leak in _first_per_value(result.leaks)
    )

    try:
        replayed = replay(browser, server, scenario, adapter, stream, recording.checkpoints)
    except ReplayFailed as e:
        result.failures.append(str(e))
        return
    for live, rep in zip(recording.checkpoints, replayed, strict=True):
        checkpoint = _compare(live, rep, out)
        result.checkpoints.append(checkpoint)
        if checkpoint.pixel_mismatch > expect.pixel_mismatch_max:
            result.failures.append(
                f"checkpoint {live.name}: pixel mismatch {checkpoint.pixel_mismatch:.5f}"
                f" > {expect.pixel_mismatch_max}"
                + (f" (see {checkpoint.diff_image})" if checkpoint.diff_image else "")
            )
        if checkpoint.dom_similarity < expect.dom_similarity_min:
            first = checkpoint.dom_differences[:1]
            result.failures.append(
                f"checkpoint {live.name}: DOM similarity {checkpoint.dom_similarity:.4f}"
                f" < {expect.dom_similarity_min}"
                + (f"; first difference: {first[0]}" if first else "")
            )


def _delivery_failures(stream: Stream, expect: Expect) -> list[str]:
    """Loss the recorder marked, and duplicates, beyond what the scenario expects."""
    delivery, failures = stream.delivery, []
    assert delivery is not None
    if not expect.lost.satisfied_by(delivery.lost_marked):
        failures.append(
            f"stream: {delivery.lost_marked} of {delivery.recorded} recorded events lost (marked"
            f" lost by the recorder: {', '.join(stream.lost_marked)}); expect.lost is {expect.lost}"
        )
    if not expect.duplicates.satisfied_by(delivery.duplicates):
        failures.append(
            f"stream: {delivery.duplicates} events twice in the stream;"
            f" expect.duplicates is {expect.duplicates}"
        )
    return failures


def _compare(live: Capture, rep: Capture, out: Path | None) -> CheckpointResult:
    live_image, replay_image = pixel.decode_png(live.png), pixel.decode_png(rep.png)
    # Masked regions as the live page's selectors place them and as the replay shows them.
    pixels = pixel.compare(live_image, replay_image, exclude=[*live.masked, *rep.masked])
    tree = dom.compare_dom(live.dom, rep.dom)
    diff_path = None
    if out:
        (out / f"{live.name}.live.png").write_bytes(live.png)
        (out / f"{live.name}.replay.png").write_bytes(rep.png)
        diff = out / f"{live.name}.diff.png"
        pixel.save_png(pixels.diff, diff)
        diff_path = str(diff)
    return CheckpointResult(
        live.name, pixels.mismatch, tree.similarity, pixels.masked_area, diff_path, tree.differences
    )


def _first_per_value(leaks: list[masking.Leak]) -> list[masking.Leak]:
    """One failure line per leaked value; the JSON keeps every place."""
    seen: dict[str, masking.Leak] = {}
    for leak in leaks:
        seen.setdefault(leak.value, leak)
    return list(seen.values())
