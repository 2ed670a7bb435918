"""The seam through which a live redemption leaves: `RedemptionSender` (submit the calls of one transaction, then
learn its hash), and `SdkRedemptionSender`, the implementation on the unified SDK (polymarket-client 0.14.0).

The SDK picks the transport by wallet type (REFERENCE §0b.2): the relayer for a proxy, Safe or deposit wallet (a
relayer transaction id at once, the hash when mined), a direct transaction for an EOA (the hash at once). Our calls
are built with the SDK's own builders (`polymarket.calls.ctf_redeem_positions_call`, `router_redeem_call`) from the
targets `copytrader.risk.redemption.plan` chose, and sent with `execute_transaction(calls=...)`: never
`redeem_positions`, which re-resolves the market through Gamma and picks its own amounts.

The SecureClient is built by a factory callable the wiring is given (`Deps(redemption_sender=...)`); `sdk_sender`
builds one from the venue credentials (`copytrader.execution.credentials`) and a relayer API key, acting for the
funder or the EOA (never the SDK's default deposit wallet). Nothing here reads a secret. The SDK is imported only
when a sender is built (live mode, the books workflow's settle step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from copytrader.errors import CredentialsError
from copytrader.execution.credentials import SignatureType, VenueCredentials
from copytrader.risk.redemption import RedeemCall


@dataclass(frozen=True)
class Submitted:
    """What is known once the calls left: the relayer's transaction id (None for an EOA) and the hash if known."""

    transaction_id: str | None
    transaction_hash: str | None


@dataclass(frozen=True)
class Outcome:
    """A submitted transaction's fate as its sender knows it: mined with `transaction_hash`, `failed` (the relayer
    or the chain says it will never be mined), or neither yet (still pending)."""

    transaction_hash: str | None = None
    failed: bool = False
    detail: str = ""


class RedemptionSender(Protocol):
    @property
    def wallet(self) -> str:
        """The address holding the tokens and receiving the pUSD (the funder, or the EOA)."""
        ...

    def submit(self, calls: Sequence[RedeemCall], *, metadata: str) -> Submitted:
        """Send one transaction made of `calls`, once. Raises when it could not be sent (then nothing left) or when
        its fate is unknown (the caller keeps the intent and resolves it on a later run)."""
        ...

    def outcome(self, submitted: Submitted) -> Outcome:
        """Where `submitted` stands (also after a restart: from its id or hash alone)."""
        ...


def sdk_call(call: RedeemCall) -> Any:
    """`call` as the SDK's `TransactionCall`, built by its own calldata builders."""
    from polymarket.calls import ctf_redeem_positions_call, router_redeem_call

    target: Any = call.target  # the SDK's EvmAddress is a NewType of str
    if call.outcome_index is None:
        if call.collateral is None:
            raise ValueError("a CTF redemption names its collateral")
        collateral: Any = call.collateral
        return ctf_redeem_positions_call(ctf=target, collateral=collateral, condition_id=call.condition_id)
    if call.amount is None:
        raise ValueError("a V2 redemption names its amount")
    return router_redeem_call(
        router=target, condition_id=call.condition_id, outcome_index=call.outcome_index, amount=call.amount
    )


class SdkRedemptionSender:
    """`RedemptionSender` on a `polymarket.SecureClient` (sync): `execute_transaction(calls=...)` and its handle.

    After a restart the handle is gone: a relayer transaction is then followed by its id through the SDK's own
    polling handle (one poll per call; it reaches the client's relayer transport, `_ctx.relayer`, an internal of
    0.14.0 that a version bump must re-check), an EOA transaction by its hash (our JSON-RPC reads its receipt).
    """

    def __init__(self, client: Any, *, poll_delay_s: float = 2.0) -> None:
        self._client = client
        self._handles: dict[str, Any] = {}
        self._poll_delay_s = poll_delay_s

    @property
    def wallet(self) -> str:
        return str(self._client.wallet)

    def submit(self, calls: Sequence[RedeemCall], *, metadata: str) -> Submitted:
        handle = self._client.execute_transaction(calls=[sdk_call(c) for c in calls], metadata=metadata)
        submitted = Submitted(handle.transaction_id, handle.transaction_hash)
        self._handles[submitted.transaction_id or submitted.transaction_hash or ""] = handle
        return submitted

    def outcome(self, submitted: Submitted) -> Outcome:
        from polymarket.errors import PolymarketError, TransactionFailedError
        from polymarket.errors import TimeoutError as SdkTimeout
        from polymarket.transactions import SyncGaslessTransactionHandle

        handle = self._handles.get(submitted.transaction_id or submitted.transaction_hash or "")
        if handle is None and submitted.transaction_id is None:
            return Outcome(transaction_hash=submitted.transaction_hash)  # EOA: the receipt says the rest
        if handle is None:
            handle = SyncGaslessTransactionHandle(
                transaction_id=str(submitted.transaction_id),
                transaction_hash=submitted.transaction_hash,
                _relayer=self._client._ctx.relayer,
                _max_polls=1,
                _poll_delay_s=self._poll_delay_s,
            )
        try:
            done = handle.wait()
        except TransactionFailedError as exc:
            return Outcome(failed=True, detail=type(exc).__name__)
        except (SdkTimeout, TimeoutError):
            return Outcome(transaction_hash=submitted.transaction_hash)
        except PolymarketError as exc:
            return Outcome(transaction_hash=submitted.transaction_hash, detail=type(exc).__name__)
        return Outcome(transaction_hash=str(done.transaction_hash))


def sender_wallet(credentials: VenueCredentials) -> str:
    """The wallet a redemption acts for: the funder (proxy, Safe or deposit wallet), or for an EOA its own address.
    Never None: `SecureClient.create(wallet=None)` would pick, and deploy, the signer's deposit wallet."""
    if credentials.funder:
        return credentials.funder
    if credentials.signature_type is not SignatureType.EOA:
        raise CredentialsError(f"funder is required for {credentials.signature_type.name}")
    from copytrader.execution.signing_libs import import_signing_libraries

    import_signing_libraries()  # py_ecc first, with the recursion limit kept (a no-op once imported)
    from eth_account import Account

    return str(Account.from_key(credentials.private_key).address)


def sdk_sender(
    credentials: VenueCredentials, *, relayer_api_key: str | None = None, relayer_address: str | None = None
) -> SdkRedemptionSender:
    """A sender on a `polymarket.SecureClient` for the venue's credentials (what `Deps.redemption_sender` is meant to
    return, from the venue secret and a relayer API key: polymarket.com Settings > API Keys). `create()` talks to the
    CLOB (L1/L2 auth) and, for a relayed wallet, checks it is deployed; it is not called at import or wiring time.
    A proxy, Safe or deposit wallet needs the relayer key (every gasless action does); an EOA pays gas itself."""
    wallet = sender_wallet(credentials)
    relayed = credentials.signature_type is not SignatureType.EOA
    if relayed and not (relayer_api_key and relayer_address):
        raise CredentialsError("a relayer API key and its address are needed to redeem from a relayed wallet")
    from copytrader.execution.signing_libs import import_signing_libraries

    import_signing_libraries()
    from polymarket import ApiKeyCreds, RelayerApiKey, SecureClient

    api = credentials.api
    fields = {"apiKey": api.api_key, "passphrase": api.api_passphrase, "secret": api.api_secret} if api else None
    creds = ApiKeyCreds.model_validate(fields) if fields else None
    key = RelayerApiKey(key=relayer_api_key, address=relayer_address) if relayer_api_key and relayer_address else None
    client = SecureClient.create(private_key=credentials.private_key, wallet=wallet, credentials=creds, api_key=key)
    return SdkRedemptionSender(client)
