"""The redemption sender's SDK side that needs no network (copytrader.execution.redemption_sender): which wallet a
redemption acts for, what is refused before a client is built, and how an EOA transaction is followed after a
restart. Keys are generated here, per run."""

from __future__ import annotations

import pytest
from eth_account import Account

from copytrader.errors import CredentialsError
from copytrader.execution.credentials import SignatureType, VenueCredentials
from copytrader.execution.redemption_sender import Outcome, SdkRedemptionSender, Submitted, sdk_sender, sender_wallet

FUNDER = "0x" + "12" * 20


def _key() -> str:
    return "0x" + bytes(Account.create().key).hex()


def test_an_eoa_redeems_for_its_own_address_and_a_proxy_for_its_funder() -> None:
    key = _key()
    assert sender_wallet(VenueCredentials(key)) == Account.from_key(key).address
    assert sender_wallet(VenueCredentials(key, SignatureType.POLY_PROXY, FUNDER)) == FUNDER


def test_a_relayed_wallet_without_a_relayer_key_is_refused_before_any_client_is_built() -> None:
    key = _key()
    for kind in (SignatureType.POLY_PROXY, SignatureType.GNOSIS_SAFE, SignatureType.POLY_1271):
        with pytest.raises(CredentialsError, match="relayer API key") as refused:
            sdk_sender(VenueCredentials(key, kind, FUNDER))
        assert key.removeprefix("0x") not in str(refused.value)


def test_an_eoa_transaction_is_followed_by_its_hash_after_a_restart() -> None:
    sender = SdkRedemptionSender(client=object())  # a new process: no handle kept, the receipt decides
    assert sender.outcome(Submitted(None, "0xabc")) == Outcome(transaction_hash="0xabc")
