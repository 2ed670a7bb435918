"""Why we leave a position: the exit reasons (one name each, used in ledger details, metrics and reports).

The exit signal (the event an exit rule publishes into the copy queue) and the rules themselves are defined in
`copytrader.copying.exits`'s contract here as they land; this module holds what every part shares.
"""

from __future__ import annotations

from enum import StrEnum


class ExitReason(StrEnum):
    MIRROR = "mirror"  # a copied whale sold a fraction of its position: we sell that fraction of its part of ours
    STOP_LOSS = "stop_loss"  # the bid fell to the stop at entry (average cost x (1 - s))
    TAKE_PROFIT = "take_profit"  # the bid reached the target
    TRAILING_STOP = "trailing_stop"  # the bid fell a fraction below its high-water mark since entry
    TIME_TO_END = "time_to_end"  # the market's end date is near (oracle games around resolution)
    RESOLUTION_DISPUTE = "resolution_dispute"  # a UMA proposal or dispute on the market
    WHALE_CULLED = "whale_culled"  # the whale whose copies built the position was culled (policy decides)


__all__ = ["ExitReason"]
