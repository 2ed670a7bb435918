from datetime import timedelta

from copytrader.listener.sightings import Sightings
from copytrader.model import Source
from tests.support import builders as b


def _seen(trade, source, after_s):
    return trade.model_copy(update={"source": source, "detected_at": trade.detected_at + timedelta(seconds=after_s)})


def test_settling_names_the_first_source_the_lags_and_the_misses():
    m = b.market()
    one, two = b.trade(m, tx="a"), b.trade(m, tx="b")
    sightings = Sightings(expected=["chain", "rtds", "data-api"], grace_s=60)
    sightings.note([_seen(one, Source.RTDS, 0.4), _seen(one, Source.CHAIN, 0.0)])
    sightings.note([_seen(one, Source.DATA_API, 5.0), _seen(two, Source.DATA_API, 6.0)])
    sightings.note([_seen(one, Source.RTDS, 9.0)])  # a repeat keeps the source's first sighting

    assert sightings.settle(one.detected_at + timedelta(seconds=30)).settled == 0  # within the grace period
    window = sightings.settle(two.detected_at + timedelta(seconds=70))
    assert window.settled == 2 and sightings.open == 0
    assert window.first == {"chain": 1, "data-api": 1}
    assert window.seen == {"chain": 1, "rtds": 1, "data-api": 2}
    assert window.missed == {"rtds": 1, "chain": 1}  # trade two reached the Data API only
    assert window.lag_ms["rtds"] == [400.0] and window.lag_ms["data-api"] == [5000.0]


def test_memory_is_bounded():
    m = b.market()
    sightings = Sightings(expected=["chain"], max_open=10)
    sightings.note([b.trade(m, tx=str(i)) for i in range(25)])
    assert sightings.open == 10
