"""The one reconnect and retry backoff (`copytrader.runtime.backoff`): exponential, capped, jittered into the upper
half."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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
