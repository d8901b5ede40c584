"""`replaycheck audit`: a masking audit of any page, no scenario needed.

Records the page with a recorder (optionally driving it with a scenario's steps), finds the
private data the live page holds, and reports every place it reached the stream, with the page
element it came from and the selector that would mask it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser

from harness import adapters, masking, pii
from harness.drive import record
from harness.scenario import (
    Expect,
    OverheadConfig,
    PageRef,
    RecorderConfig,
    Scenario,
    ScenarioError,
    Step,
    Viewport,
    load_scenario,
    split_suffix,
)
from harness.server import Server


@dataclass(frozen=True)
class AuditResult:
    target: str
    recorder: str
    config: RecorderConfig
    secrets: list[masking.Secret]
    leaks: list[masking.Leak]
    region: str = pii.DEFAULT_REGION  # of the national phone formats the detector read

    @property
    def coverage(self) -> float:
        return masking.coverage(self.secrets, self.leaks)

    @property
    def families(self) -> dict[str, dict[str, Any]]:
        return masking.families(self.secrets, self.leaks)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "recorder": self.recorder,
            "region": self.region,
            "secrets": len(self.secrets),
            "coverage": round(self.coverage, 6),
            "families": self.families,
            "leaks": [leak.to_json() for leak in self.leaks],
        }


def audit_scenario(
    target: str, steps: Path | None, region: str | None = None, privacy: str | None = None
) -> Scenario:
    """The target page with the steps (and recorder options) of `steps`, or just opened;
    `region` (audit --region) overrides recorder.pii_region, `privacy` (audit --privacy) the
    preset, the scenario's own selectors kept."""
    scenario = _audit_scenario(target, steps)
    recorder = scenario.recorder
    if privacy is not None and privacy != recorder.privacy:
        recorder = RecorderConfig.preset(
            privacy, mask=recorder.mask, unmask=recorder.unmask, block=recorder.block,
            ignore=recorder.ignore, sample_rate=recorder.sample_rate, options=recorder.options,
            pii_region=recorder.pii_region,
        )  # fmt: skip
    if region is not None:
        recorder = dataclasses.replace(recorder, pii_region=region)
    return dataclasses.replace(scenario, recorder=recorder)


def _audit_scenario(target: str, steps: Path | None) -> Scenario:
    is_url = urlsplit(target).scheme in ("http", "https", "file")
    page = None if is_url else _page_ref(target)
    url = target if is_url else None
    if steps is not None:
        return dataclasses.replace(load_scenario(steps), page=page, url=url)
    return Scenario(
        name="audit",
        description=f"masking audit of {target}",
        file=(page.file.parent if page else Path.cwd()) / "audit.yaml",
        page=page,
        url=url,
        viewport=Viewport(),
        recorder=RecorderConfig(),
        steps=(Step("checkpoint", {"name": "end"}, 1),),
        expect=Expect(),
        overhead=OverheadConfig(),
    )


def _page_ref(target: str) -> PageRef:
    """An HTML file, whole or with a ?query#fragment after it."""
    whole = Path(target).resolve()
    if whole.is_file():
        return PageRef(whole)
    name, suffix = split_suffix(target)
    page = Path(name).resolve()
    if not page.is_file():
        raise ScenarioError(target, None, "no such page; give a URL or an HTML file")
    return PageRef(page, suffix)


def audit(browser: Browser, server: Server, scenario: Scenario, recorder: str) -> AuditResult:
    adapter = adapters.get(recorder)
    recording = record(browser, server, scenario, adapter)
    content = recording.page_content()
    found = masking.secrets(content, scenario.expect.pii, scenario.recorder)
    leaks = masking.scan(recording.stream, found, adapter.is_checkpoint_mark)
    region = masking.page_region(content, scenario.recorder)
    target = scenario.url or str(scenario.page)
    return AuditResult(target, recorder, scenario.recorder, found, leaks, region)


def fix_for(leak: masking.Leak, config: RecorderConfig) -> str:
    """The recorder option that would have kept this value in the page."""
    element = leak.source.rsplit(" > ", 1)[-1].rsplit(" ", 1)[0]
    if leak.kind == masking.STRICT_KIND:
        return _strict_fix(leak)
    if leak.kind == "password":
        return "a password must never be recorded: this recorder does not mask it"
    if leak.kind == "input" and not config.mask_all_inputs:
        return "set recorder.mask_all_inputs: true"
    if leak.kind == "input":
        return f"this recorder leaves it unmasked: add '{element}' to recorder.block"
    if leak.kind == "blocked":
        return "this recorder records content under recorder.block: it must not"
    if leak.source.startswith("window error"):
        return "keep PII out of error messages (recorder.detect_pii masks it in builtin)"
    if leak.source.endswith(" css"):
        return "keep PII out of CSS text (recorder.detect_pii masks it in builtin)"
    if leak.source.endswith(" url"):
        return "strip PII from the page URL (recorder.detect_pii masks it in builtin)"
    if " attr:" in leak.source:
        return f"add '{element}' to recorder.block (attributes are not masked by mask)"
    return f"add '{element}' to recorder.mask"


def _strict_fix(leak: masking.Leak) -> str:
    """What keeps a readable piece out of a strict recording: its element blocked (recorded
    as a same-size placeholder), or for CSS, no personal text in `content:`."""
    what = leak.source.removeprefix("recorder.privacy: strict, ").split(" (", 1)[0]
    tag = re.search(r"<([\w-]+)>", leak.where)
    if what == "css":
        return "keep personal text out of CSS content: strings (this recorder records CSS text)"
    if tag and tag[1] not in ("html", "head", "body", "style"):
        return f"add '{tag[1]}' (or a selector for that one) to recorder.block"
    return f"this recorder records {what} under privacy: strict; no recorder option hides it"


def text_report(result: AuditResult) -> str:
    lines = [
        f"masking audit of {result.target} with {result.recorder}: {len(result.secrets)} private"
        f" values on the page, {len({leak.value for leak in result.leaks})} leaked,"
        f" coverage {result.coverage:.0%} (phone region {result.region})"
    ]
    for kind, entry in result.families.items():
        leaked = len(entry["leaks"])
        lines.append(
            f"  {kind:<12} {entry['held']:>4} held, {entry['masked']:>4} masked"
            + (f", {leaked} leaked" if leaked else "")
        )
    seen: set[str] = set()
    for leak in result.leaks:
        if leak.value in seen:
            continue
        seen.add(leak.value)
        places = sum(other.value == leak.value for other in result.leaks)
        lines += [
            f"LEAK {leak.kind} {leak.value!r}",
            f"    from   {leak.source}",
            f"    at     {leak.where}" + (f" (and {places - 1} more)" if places > 1 else ""),
            f"    fix    {fix_for(leak, result.config)}",
        ]
    return "\n".join(lines)
