"""Wheel builds ship the browser bundles (package data in pyproject.toml) and build them first
when any is missing, as in an sdist made before `make setup` or a fresh clone: `npm ci`, then
`node build.mjs`. Bundles already there are shipped as they are, without npm."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# What build.mjs writes and the package reads at run time.
BUNDLES = [
    *(f"recorder/dist/{name}.js" for name in ("loader", "record", "insights", "replay")),
    *(
        f"harness/js/dist/{name}"
        for name in (
            "harness.js",
            "harness-init.js",
            "pii.js",
            "builtin-record.js",
            "builtin-replay.js",
            "rrweb-record.js",
            "rrweb-replay.js",
            "rrweb-replay.css",
        )
    ),
    "service/static/viewer.js",
]


def build_bundles() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(
            f"error: building replaycheck's browser bundles needs {' and '.join(missing)}"
            " (Node.js 18 or later) on PATH"
        )
    npm_ci = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    subprocess.run(npm_ci, cwd=ROOT, check=True)
    subprocess.run(["node", "build.mjs"], cwd=ROOT, check=True)


class BuildPyWithBundles(build_py):
    def run(self) -> None:
        # An editable install reads the bundles in place, where `make setup` builds them.
        if not self.editable_mode and not all((ROOT / name).is_file() for name in BUNDLES):
            build_bundles()
        super().run()


setup(cmdclass={"build_py": BuildPyWithBundles})
