"""JUnit XML for CI systems (`run --junit FILE`): one test case per scenario and recorder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

from harness.runner import ScenarioResult


def to_xml(results: Sequence[ScenarioResult]) -> ET.Element:
    """The shape pytest writes: a known failure is a skipped xfail, bad input an error."""
    suite = ET.Element("testsuite", name="replaycheck")
    counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    total = 0.0
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_relative(r.scenario.file),
            name=f"{r.scenario.name}[{r.recorder}]",
            time=f"{r.duration_s:.3f}",
        )
        counts["tests"] += 1
        total += r.duration_s
        details = "\n".join(r.failures)
        if r.bad_input is not None:
            ET.SubElement(case, "error", message=r.bad_input).text = details
            counts["errors"] += 1
        elif r.known_failure is not None:
            ET.SubElement(case, "skipped", type="xfail", message=r.known_failure).text = details
            counts["skipped"] += 1
        elif r.failures:
            ET.SubElement(case, "failure", message=r.failures[0]).text = details
            counts["failures"] += 1
    suite.attrib.update({k: str(v) for k, v in counts.items()}, time=f"{total:.3f}")
    return suite


def write_junit(results: Sequence[ScenarioResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    suites = ET.Element("testsuites")
    suites.append(to_xml(results))
    ET.indent(suites)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def _relative(file: Path) -> str:
    """The scenario file as the CI job's checkout names it, when it is inside the cwd."""
    relative = os.path.relpath(file)
    return file.as_posix() if relative.startswith("..") else Path(relative).as_posix()
