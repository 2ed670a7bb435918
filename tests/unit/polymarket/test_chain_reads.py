"""What a redemption's receipt says the wallet received (copytrader.polymarket.chain_reads.Receipt): pUSD Transfer
logs into the wallet, less those out of it; other tokens' logs and other events do not count."""

from __future__ import annotations

import pytest

from copytrader.errors import RpcError
from copytrader.polymarket.chain_reads import TRANSFER_TOPIC, Receipt
from copytrader.risk.redemption import CTF_COLLATERAL_ADAPTER, PUSD

WALLET = "0x00000000000000000000000000000000000000aa"
OTHER = "0x00000000000000000000000000000000000000bb"
USDC_E = "0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174"


def _word(address: str) -> str:
    return "0x" + f"{int(address, 16):064x}"


def _transfer(token: str, sender: str, to: str, amount: int) -> dict:
    return {"address": token, "topics": [TRANSFER_TOPIC, _word(sender), _word(to)], "data": hex(amount)}


def test_the_net_pusd_into_the_wallet_counts_only_pusd_transfers_touching_it() -> None:
    receipt = Receipt(
        "0x1",
        True,
        7,
        (
            _transfer(PUSD.lower(), CTF_COLLATERAL_ADAPTER, WALLET, 100_000_000),  # the payout (address case ignored)
            _transfer(PUSD, WALLET, OTHER, 30_000_000),  # out of the wallet in the same transaction
            _transfer(PUSD, CTF_COLLATERAL_ADAPTER, OTHER, 5_000_000),  # someone else's
            _transfer(USDC_E, OTHER, WALLET, 9_000_000),  # not pUSD
            {"address": PUSD, "topics": [TRANSFER_TOPIC, _word(OTHER)], "data": "0x1"},  # not a Transfer's shape
        ),
    )
    assert receipt.net_transfer_to(PUSD, WALLET) == 70_000_000
    assert receipt.net_transfer_to(PUSD, OTHER) == 30_000_000 + 5_000_000


def test_a_transfer_whose_amount_is_not_a_quantity_is_an_error_never_zero() -> None:
    receipt = Receipt("0x1", True, 7, ({**_transfer(PUSD, OTHER, WALLET, 1), "data": "garbage"},))
    with pytest.raises(RpcError):
        receipt.net_transfer_to(PUSD, WALLET)
