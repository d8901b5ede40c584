from __future__ import annotations

from harness.events import Interaction, count, rage_clicks


def clicks(*spec: tuple[float, int, float, float]) -> list[Interaction]:
    return [Interaction("click", t, target, x, y) for t, target, x, y in spec]


def test_three_quick_clicks_on_one_target_are_one_rage_click() -> None:
    assert rage_clicks(clicks((0, 1, 10, 10), (200, 1, 12, 11), (400, 1, 9, 10))) == 1


def test_five_quick_clicks_are_still_one_burst() -> None:
    assert rage_clicks(clicks(*[(i * 100.0, 1, 10.0, 10.0) for i in range(5)])) == 1


def test_two_clicks_are_not_rage() -> None:
    assert rage_clicks(clicks((0, 1, 10, 10), (100, 1, 10, 10))) == 0


def test_slow_clicks_far_clicks_and_other_targets_are_not_rage() -> None:
    assert rage_clicks(clicks((0, 1, 10, 10), (600, 1, 10, 10), (1200, 1, 10, 10))) == 0
    assert rage_clicks(clicks((0, 1, 10, 10), (100, 1, 60, 10), (200, 1, 110, 10))) == 0
    assert rage_clicks(clicks((0, 1, 10, 10), (100, 2, 10, 10), (200, 1, 10, 10))) == 0


def test_two_separate_bursts_count_twice_in_any_input_order() -> None:
    burst = [(i * 100.0, 1, 10.0, 10.0) for i in range(3)]
    later = [(5000 + i * 100.0, 1, 10.0, 10.0) for i in range(3)]
    assert rage_clicks(reversed(clicks(*burst, *later))) == 2


def test_count_reports_every_kind_and_derives_rage_clicks() -> None:
    items = [*clicks(*[(i * 50.0, 7, 5.0, 5.0) for i in range(3)]), Interaction("error", 10)]
    counts = count(items)
    assert counts["click"] == 3
    assert counts["error"] == 1
    assert counts["rage_click"] == 1
    assert counts["scroll"] == 0 and counts["navigation"] == 0
