from __future__ import annotations

import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness.server import Server, script_tag


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def test_serves_mounted_folder_and_refuses_to_leave_it(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>hi</p>")
    (tmp_path / "secret.txt").write_text("no")
    with Server() as server:
        base = server.mount(site)
        assert get(base + "index.html") == (200, b"<p>hi</p>")
        assert get(base)[0] == 200
        assert get(base + "../secret.txt")[0] == 404
        assert get(base + "%2e%2e/secret.txt")[0] == 404
        assert server.mount(site) == base


def test_ingest_keeps_bodies_per_session_in_order() -> None:
    with Server() as server:
        for body in (b"one", b"two"):
            request = urllib.request.Request(
                server.ingest_url("abc"), data=body, headers={"Content-Encoding": "gzip"}
            )
            with urllib.request.urlopen(request) as response:
                assert response.status == 204
        assert [b.body for b in server.batches("abc")] == [b"one", b"two"]
        assert server.batches("abc")[0].content_encoding == "gzip"
        assert server.batches("other") == []


@pytest.mark.parametrize("name", ["replay.html", "x/y.js"])
def test_assets_are_served_by_name(name: str) -> None:
    with Server() as server:
        url = server.add_asset(name, "body", "text/plain")
        assert get(url) == (200, b"body")
        assert get(url + "-missing")[0] == 404


def test_a_mount_with_head_html_injects_it_into_html_only(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<!doctype html><HTML><Head lang=x><title>t</title></head>")
    (tmp_path / "b.html").write_text("<p>no head</p>")
    (tmp_path / "c.css").write_text("p{}")
    with Server() as server:
        plain = server.mount(tmp_path)
        injected = server.mount(tmp_path, script_tag("/__rc/rec.js"))
        assert plain != injected
        tag = b'<script src="/__rc/rec.js"></script>'
        assert get(injected + "a.html")[1] == b"<!doctype html><HTML><Head lang=x>" + tag + (
            b"<title>t</title></head>"
        )
        assert get(injected + "b.html")[1] == tag + b"<p>no head</p>"
        assert get(injected + "c.css")[1] == b"p{}"
        assert tag not in get(plain + "a.html")[1]


def test_a_client_gone_mid_response_is_no_error_but_a_bug_still_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Server() as server, socket.socket() as client:
        for error in (BrokenPipeError(32, "Broken pipe"), ValueError("a bug")):
            try:
                raise error
            except Exception:
                server._httpd.handle_error(client, ("127.0.0.1", 1))
    err = capsys.readouterr().err
    assert "BrokenPipeError" not in err and "ValueError: a bug" in err
