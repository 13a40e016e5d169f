"""Progress bars: drawn only for a terminal, never a background thread in logs or captured output."""

from __future__ import annotations

import threading

import pytest

from mofgap.utils.progress import progress_bar


def test_without_a_terminal_items_pass_through_and_no_thread_starts() -> None:
    threads = threading.active_count()
    seen = []
    for item in progress_bar(iter(range(5)), total=5, description="x"):
        seen.append(item)
        assert threading.active_count() == threads
    assert seen == [0, 1, 2, 3, 4]


def test_at_a_terminal_the_bar_is_drawn_and_every_item_arrives(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert list(progress_bar(iter("abc"), total=3, description="letters")) == ["a", "b", "c"]
    assert "letters" in capsys.readouterr().err
    assert list(progress_bar(iter("abc"), total=3, description="off", enabled=False)) == ["a", "b", "c"]
    assert "off" not in capsys.readouterr().err
