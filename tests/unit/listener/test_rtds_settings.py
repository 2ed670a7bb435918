"""`copytrader.listener.rtds_source`: the settings' sanity checks and defaults (no sockets)."""

from __future__ import annotations

import pytest

from copytrader.listener.rtds_source import RtdsSettings


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
