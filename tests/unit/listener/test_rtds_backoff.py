"""`copytrader.listener.rtds_source`: the reconnect backoff and the settings' sanity checks (no sockets)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copytrader.listener.rtds_source import RtdsSettings
from copytrader.runtime.backoff import backoff_delay


def test_backoff_doubles_from_the_initial_delay_up_to_the_cap() -> None:
    assert [backoff_delay(n, 0.5, 30.0, 1.0) for n in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_jitter_spans_the_upper_half_of_the_base() -> None:
    assert backoff_delay(2, 0.5, 30.0, 0.0) == 1.0
    assert backoff_delay(2, 0.5, 30.0, 0.5) == 1.5


@given(st.integers(min_value=-5, max_value=10**6), st.floats(min_value=0, max_value=1, exclude_max=True))
def test_backoff_stays_within_half_the_cap_and_the_cap(attempt: int, draw: float) -> None:
    delay = backoff_delay(attempt, 0.25, 10.0, draw)
    assert 0.125 <= delay <= 10.0
    if attempt >= 6:  # 0.25 * 2**6 > 10: capped
        assert delay >= 5.0


@pytest.mark.parametrize(
    "bad",
    [
        {"ping_interval_s": 0},
        {"stale_after_s": -1},
        {"open_timeout_s": 0},
        {"close_timeout_s": 0},
        {"backoff_initial_s": 0},
        {"max_batch": 0},
        {"max_pending": 0},
        {"backoff_initial_s": 5, "backoff_max_s": 1},
        {"batch_window_s": -0.1},
    ],
)
def test_settings_refuse_values_that_would_spin_or_never_reconnect(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="RtdsSettings"):
        RtdsSettings(**bad)  # type: ignore[arg-type]


def test_defaults_follow_the_rtds_guidance() -> None:
    """PING every 5 s (RTDS docs), a new socket after 15 s without payloads (TROUBLESHOOTING.md example)."""
    settings = RtdsSettings()
    assert (settings.url, settings.ping_interval_s, settings.stale_after_s) == (
        "wss://ws-live-data.polymarket.com",
        5.0,
        15.0,
    )
