"""Installed as a package, everything is there: the wheel built from the repository, installed
into a fresh virtualenv outside it, runs every command from a folder holding only a scenario."""

from __future__ import annotations

import fcntl
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.pg import free_port

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "form.yaml"
PAGES = ("form.html", "common.css")  # all that form.yaml's page loads
RECORDERS = ["--recorder", "builtin", "--recorder", "rrweb"]
# What building the bundles from an sdist takes, beside the TS sources.
SDIST_BUILD_FILES = ("build.mjs", "package.json", "package-lock.json", "tsconfig.json")
# Where the fresh virtualenv's Python finds the package and its bundles, and its site-packages.
WHERE = """import harness, json, recorder, sysconfig
print(json.dumps([harness.__file__, str(recorder.bundle_path("loader.js")),
                  sysconfig.get_path("purelib")]))"""
# Written by pip on install, not part of a wheel.
INSTALL_ONLY = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}

pytestmark = pytest.mark.wheel


def _env() -> dict[str, str]:
    # Nothing of this pytest run, its virtualenv or the machine's pip set-up reaches the fresh one.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "PIP_", "PYTHON")) and k != "VIRTUAL_ENV"
    }
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _call(
    args: list[str | Path], cwd: Path, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs a command to its end; whatever its exit status, no traceback."""
    done = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env or _env(),
        input=input,
    )
    assert "Traceback" not in done.stderr, f"{args}\n{done.stderr}"
    return done


def _get(url: str, wait_s: float = 30.0) -> int:
    """The status of a GET, waiting for a server that is starting."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _run(args: list[str | Path], cwd: Path) -> str:
    """Runs a command that must exit 0; its stdout."""
    done = _call(args, cwd)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _build(out: Path) -> None:
    """python -m build into `out`: the sdist, then the wheel from that sdist, so the wheel holds
    only what the sdist carries. No isolation: the dev virtualenv's setuptools, no download."""
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT], cwd=ROOT)


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The built sdist and wheel, once for all xdist workers: two builds at once would share the
    repository's staging folders (replaycheck.egg-info, replaycheck-VERSION)."""
    if worker_id == "master":
        out = tmp_path_factory.mktemp("dist")
        _build(out)
        return out
    out = tmp_path_factory.getbasetemp().parent / "dist"  # the run's folder, shared by workers
    with (out.parent / "dist.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.exists():
            building = out.with_name("dist.partial")
            _build(building)
            building.rename(out)
    return out


def _repack(dist: importlib.metadata.Distribution, folder: Path) -> None:
    """A wheel of an installed distribution, from the files its RECORD lists."""
    files = dist.files or []
    info = next(f.parts[0] for f in files if f.parts[0].endswith(".dist-info"))
    wheel_text = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel_text.splitlines() if "Tag:" in line]
    # A wheel's name holds its tags compressed: each part's values joined by dots.
    parts = zip(*(t.split("-") for t in tags), strict=True)
    tag = "-".join(".".join(dict.fromkeys(values)) for values in parts)
    name = canonicalize_name(dist.metadata["Name"]).replace("-", "_")
    site = Path(str(dist.locate_file("")))
    rows = []
    with zipfile.ZipFile(folder / f"{name}-{dist.version}-{tag}.whl", "w") as whl:
        for file in files:
            # Scripts and headers outside site-packages: pip writes the console scripts anew.
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue
            if file.parts[0] == info and file.name in INSTALL_ONLY:
                continue
            whl.write(site / file, str(file))
            rows.append(f"{file},,")
        whl.writestr(f"{info}/RECORD", "\n".join([*rows, f"{info}/RECORD,,", ""]))


def _wheelhouse(wheel: Path, folder: Path) -> None:
    """The wheel's requirements, recursively, as installed in this (the dev) virtualenv and
    packed back into wheels. The fresh virtualenv resolves the wheel's own Requires-Dist from
    them with --no-index: no network, nothing cached between runs to go stale, and the versions
    the rest of the suite ran with."""
    with zipfile.ZipFile(wheel) as whl:
        metadata = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
        requires = Parser().parsestr(whl.read(metadata).decode()).get_all("Requires-Dist") or []
    folder.mkdir()
    # Each with the extras of the requirement that brought it (psycopg[binary]: psycopg-binary).
    todo: list[tuple[Requirement, tuple[str, ...]]] = [(Requirement(r), ("",)) for r in requires]
    seen: set[str] = set()
    while todo:
        req, extras = todo.pop()
        if canonicalize_name(req.name) in seen or (
            req.marker and not any(req.marker.evaluate({"extra": e}) for e in extras)
        ):
            continue
        seen.add(canonicalize_name(req.name))
        dist = importlib.metadata.distribution(req.name)
        _repack(dist, folder)
        todo += [(Requirement(r), ("", *req.extras)) for r in dist.requires or []]


def _scenario_folder(folder: Path) -> Path:
    """A copy of one bundled scenario with its pages, and nothing else of the repository."""
    (folder / "pages").mkdir(parents=True)
    for page in PAGES:
        shutil.copy(SCENARIO.parent / "pages" / page, folder / "pages" / page)
    return Path(shutil.copy(SCENARIO, folder / SCENARIO.name))


def test_installed_wheel_runs_every_command_outside_the_repository(
    dist: Path, tmp_path: Path
) -> None:
    assert ROOT not in tmp_path.parents
    [wheel] = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for folder in (ROOT / "recorder" / "dist", ROOT / "harness" / "js" / "dist"):
        for bundle in folder.iterdir():
            assert bundle.relative_to(ROOT).as_posix() in names

    wheels = tmp_path / "wheels"
    _wheelhouse(wheel, wheels)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    bin_ = venv / "bin"
    _run([bin_ / "pip", "install", "-q", "--no-index", "--find-links", wheels, wheel], tmp_path)

    work = tmp_path / "work"
    scenario = _scenario_folder(work)
    where = json.loads(_run([bin_ / "python", "-c", WHERE], cwd=work))
    site = Path(where[2])
    assert site.is_relative_to(venv)
    for module in where[:2]:
        assert Path(module).is_relative_to(site)

    out = _run([bin_ / "replaycheck", "run", scenario.name, *RECORDERS], cwd=work)
    assert "PASS form [builtin]" in out and "PASS form [rrweb]" in out

    # Two pairs make an interval far too wide for any budget: the verdict may go either way,
    # the exit status must match it.
    args = ["overhead", scenario.name, "--runs", "2", "--cpu-throttle", "1", "--after-load-ms", "0"]
    done = _call([bin_ / "replaycheck", *args, "--json", "overhead.json"], cwd=work)
    [result] = json.loads((work / "overhead.json").read_text())["overhead"]
    assert result["runs"] == 2 and result["metrics"]["load_ms"]["off"] > 0
    assert done.returncode == (0 if result["passed"] else 1), done.stdout + done.stderr

    out = _run([bin_ / "replaycheck", "audit", "pages/form.html"], cwd=work)
    assert "masking audit of" in out and "0 leaked" in out

    # The service's store opens from the installed package (sqlite, no server needed).
    store = "import service, service.store as s; s.open_store('sqlite:///t.db')"
    store += "; print(service.__file__)"
    assert Path(_run([bin_ / "python", "-c", store], cwd=work).strip()).is_relative_to(site)
    # ... and serve answers with the viewer and the bundles the wheel ships.
    _call([bin_ / "replaycheck", "user", "add", "ada", "--password-stdin"], cwd=work,
          input="a long password\n")  # fmt: skip
    port = free_port()
    serve = subprocess.Popen(
        [bin_ / "replaycheck", "serve", "--port", str(port)], cwd=work,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        pages = ("/login", "/static/viewer.js", "/static/viewer.css", "/static/favicon.svg")
        bundles = tuple(f"/static/{name}" for name in ("record.js", "insights.js", "loader.js"))
        for path in pages + bundles:
            assert _get(f"http://127.0.0.1:{port}{path}") == 200, path
    finally:
        serve.terminate()
        serve.wait()

    # The pytest11 entry point of the installed wheel collects the scenario file.
    out = _run([bin_ / "pytest", "-VV"], cwd=work)
    assert f"replaycheck-0.1.0 at {site / 'harness' / 'pytest_plugin.py'}" in out
    out = _run([bin_ / "pytest", "-p", "no:cacheprovider", scenario.name, *RECORDERS], cwd=work)
    assert "2 passed" in out


def test_sdist_builds_its_bundles_and_without_node_says_so_in_one_line(
    dist: Path, tmp_path: Path
) -> None:
    [sdist] = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path, filter="data")
    source = tmp_path / sdist.name.removesuffix(".tar.gz")
    sources = [*(ROOT / "recorder" / "src").rglob("*.ts"), *(ROOT / "harness/js/src").rglob("*.ts")]
    for needed in [*(ROOT / name for name in SDIST_BUILD_FILES), *sources]:
        assert (source / needed.relative_to(ROOT)).is_file(), needed
    shutil.rmtree(source / "recorder" / "dist")
    shutil.rmtree(source / "harness" / "js" / "dist")
    no_node = {**_env(), "PATH": str(tmp_path / "empty")}
    done = _call(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", source], tmp_path, no_node
    )
    assert done.returncode != 0
    line = "error: building replaycheck's browser bundles needs node and npm"
    assert line in done.stdout + done.stderr
