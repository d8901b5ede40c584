"""The demo shop's scenarios are the sessions `replaycheck demo` records (service/demo.py,
tests/test_demo.py); left out of `pytest scenarios` (make test), which they would only slow
down (one waits 7.6 s for its dead click). `replaycheck run scenarios/demo` verifies them."""

collect_ignore_glob = ["*.yaml"]
