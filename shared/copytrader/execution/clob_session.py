"""The live venue's connection: one `polymarket.SecureClient` (polymarket-client 0.14.0, REFERENCE.md §0b.2) for the
venue credentials, opened by `connect`.

- Host: `settings.clob_url`. The SDK takes its hosts from an `Environment`; for any host but production's the SDK's
  production environment is copied with `clob_url` (and the relayer, asked only whether a proxy/Safe/deposit wallet
  is deployed) pointed at that host, which is how the loopback CLOB of the tests and the simulator are reached.
- Wallet: `wallet=` the funder (the key's own address for EOA), never the SDK's default (which would deploy a deposit
  wallet through the relayer). The SDK derives the signature type from the address; it must be the one the venue
  secret states (`credentials.signature_type`), else `connect` refuses (CredentialsError).
- API credentials: given ones are checked by the SDK (`GET /auth/api-keys`, re-derived on 401); absent ones are
  created or derived by an L1 (key-signed) call. `ClobSession.credentials` holds them either way.
- Timeouts: the SDK's trading transport would wait 10 s for an answer; the CLOB calls made with the API key (the order
  POST among them) get `timeout_s` instead (connect at most CONNECT_TIMEOUT_CAP_S), the figure `venue.order_timeout_s`
  and `venue.reconcile_after_s` are checked against. The SDK never retries a trading call.

Imported only on the live path: the SDK (about 700 modules) stays off the paper Lambdas' cold start.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from copytrader.errors import CredentialsError
from copytrader.execution import signing_libs  # noqa: F401  (before the SDK: keeps the recursion limit)
from copytrader.execution.credentials import ApiCredentials, SignatureType, VenueCredentials
from copytrader.settings import CONNECT_TIMEOUT_CAP_S

if TYPE_CHECKING:
    from polymarket import SecureClient

_WALLET_TYPES = {
    "EOA": SignatureType.EOA,
    "POLY_PROXY": SignatureType.POLY_PROXY,
    "GNOSIS_SAFE": SignatureType.GNOSIS_SAFE,
    "DEPOSIT_WALLET": SignatureType.POLY_1271,
}


@dataclass
class ClobSession:
    """An open SDK client and the credentials it trades with (API credentials included)."""

    client: SecureClient
    credentials: VenueCredentials

    @property
    def address(self) -> str:
        """The signing key's address (POLY_ADDRESS of every authenticated call)."""
        return str(self.client.signer)

    def set_timeout(self, timeout_s: float) -> None:
        """Answer within `timeout_s` for every call made with the API key (connect at most CONNECT_TIMEOUT_CAP_S)."""
        import httpx

        _set_trading_timeout(self.client, httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_CAP_S)))

    def close(self) -> None:
        self.client.close()


def environment_for(clob_url: str, chain_id: int = 137) -> Any:
    """The SDK environment whose CLOB (and relayer) is `clob_url`: production's, or a copy pointed at that host."""
    from polymarket import PRODUCTION
    from polymarket._internal.environment import create_environment, get_environment_config

    base = get_environment_config(PRODUCTION)
    url = clob_url.rstrip("/")
    if url == base.clob_url and chain_id == base.chain_id:
        return PRODUCTION
    config = dataclasses.replace(base, clob_url=url, relayer_url=url, chain_id=chain_id)
    return create_environment(name=f"copytrader:{url}", config=config)


def connect(
    clob_url: str, credentials: VenueCredentials, *, chain_id: int = 137, timeout_s: float = 5.0
) -> ClobSession:
    """Open the SDK client for `credentials` (module docstring); SDK errors propagate (the caller maps them)."""
    from polymarket import ApiKeyCreds, SecureClient

    api = credentials.api
    given = (
        ApiKeyCreds.model_validate({"apiKey": api.api_key, "secret": api.api_secret, "passphrase": api.api_passphrase})
        if api is not None
        else None
    )
    client = SecureClient.create(
        private_key=credentials.private_key,
        wallet=credentials.funder or _address_of(credentials.private_key),
        environment=environment_for(clob_url, chain_id),
        credentials=given,
    )
    try:
        derived = _WALLET_TYPES.get(str(client.wallet_type))
        if derived is not credentials.signature_type:
            raise CredentialsError(
                f"signature_type {credentials.signature_type.name} does not match the funder wallet, which the SDK "
                f"derives as {client.wallet_type}"
            )
        creds = client.credentials
        session = ClobSession(client, credentials.with_api(ApiCredentials(creds.key, creds.secret, creds.passphrase)))
        session.set_timeout(timeout_s)
    except BaseException:
        client.close()
        raise
    return session


def _address_of(private_key: str) -> str:
    from eth_account import Account

    return str(Account.from_key(private_key).address)


def _set_trading_timeout(client: SecureClient, timeout: Any) -> None:
    """Give the authenticated CLOB transport `timeout` (the SDK has no public option for it; 0.14.0 layout)."""
    transport = getattr(getattr(client, "_ctx", None), "secure_clob", None)
    http = getattr(transport, "_client", None)
    if http is None:
        raise RuntimeError("polymarket-client layout changed: cannot set the order timeout (pin 0.14.0)")
    http.timeout = timeout
