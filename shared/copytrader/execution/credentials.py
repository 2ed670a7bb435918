"""The live venue's credentials, read from Secrets Manager; never printed, logged or quoted in an error.

The secret named by `COPYTRADER_VENUE_SECRET_ARN` holds one JSON object:

    {"private_key": "0x<64 hex>",            # the signing key (EOA); required
     "signature_type": "EOA" | "POLY_PROXY" | "GNOSIS_SAFE" | "POLY_1271"  (or 0..3; default EOA),
     "funder": "0x<40 hex>",                 # the wallet holding the funds: the proxy, Safe or deposit
                                             # wallet; required unless EOA (then the key's own address)
     "api_key": "...", "api_secret": "...", "api_passphrase": "...",   # optional L2 credentials;
                                             # when absent they are derived with an L1 (key-signed) call
     "relayer_api_key": "...", "relayer_api_key_address": "0x<40 hex>",   # optional: the relayer key
                                             # (polymarket.com Settings > API Keys) live redemption needs
                                             # for a proxy, Safe or deposit wallet (execution.redemption_sender)
     "polygon_http_rpc_url": "https://..."}  # optional: the Polygon JSON-RPC endpoint live redemption and the
                                             # venue sync read balances from (it often embeds a provider key)

Signature types are CLOB V2's `SignatureTypeV2`: 0 EOA, 1 POLY_PROXY (email/Magic proxy), 2 POLY_GNOSIS_SAFE
(browser-wallet Safe), 3 POLY_1271 (deposit wallets, the type new API users are asked to migrate to; the
order's signer is then the deposit wallet itself). Every error names the field, never its value.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from copytrader.errors import CredentialsError
from copytrader.runtime import env as runtime_env

_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class SignatureType(IntEnum):
    EOA = 0
    POLY_PROXY = 1
    GNOSIS_SAFE = 2
    POLY_1271 = 3  # deposit wallet


@dataclass(frozen=True, repr=False)
class ApiCredentials:
    api_key: str
    api_secret: str = field(repr=False)
    api_passphrase: str = field(repr=False)

    def __repr__(self) -> str:
        return "ApiCredentials(<redacted>)"


@dataclass(frozen=True, repr=False)
class RelayerKey:
    key: str = field(repr=False)
    address: str

    def __repr__(self) -> str:
        return f"RelayerKey(address={self.address})"


@dataclass(frozen=True, repr=False)
class VenueCredentials:
    private_key: str
    signature_type: SignatureType = SignatureType.EOA
    funder: str | None = None
    api: ApiCredentials | None = None
    relayer: RelayerKey | None = None
    polygon_http_rpc_url: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        api = "set" if self.api else "to derive"
        return f"VenueCredentials(signature_type={self.signature_type.name}, funder={self.funder}, api={api})"

    __str__ = __repr__

    def with_api(self, api: ApiCredentials) -> VenueCredentials:
        return VenueCredentials(
            self.private_key, self.signature_type, self.funder, api, self.relayer, self.polygon_http_rpc_url
        )

    def secrets(self) -> tuple[str, ...]:
        """The values that must never appear in logs or errors (for redaction and tests)."""
        values = [self.private_key, self.private_key.removeprefix("0x")]
        if self.api:
            values += [self.api.api_secret, self.api.api_passphrase]
        if self.relayer:
            values.append(self.relayer.key)
        if self.polygon_http_rpc_url:
            values.append(self.polygon_http_rpc_url)
        return tuple(v for v in values if v)


def _signature_type(value: Any) -> SignatureType:
    if value is None:
        return SignatureType.EOA
    if isinstance(value, bool):
        raise CredentialsError("signature_type must be EOA, POLY_PROXY, GNOSIS_SAFE or POLY_1271 (or 0..3)")
    if isinstance(value, int):
        try:
            return SignatureType(value)
        except ValueError:
            raise CredentialsError("signature_type must be 0..3") from None
    names = {"POLY_GNOSIS_SAFE": "GNOSIS_SAFE", "DEPOSIT_WALLET": "POLY_1271", "PROXY": "POLY_PROXY"}
    text = str(value).strip().upper()
    text = names.get(text, text)
    if text.isdigit():
        return _signature_type(int(text))
    try:
        return SignatureType[text]
    except KeyError:
        raise CredentialsError("signature_type must be EOA, POLY_PROXY, GNOSIS_SAFE or POLY_1271 (or 0..3)") from None


def parse_credentials(raw: str | dict[str, Any]) -> VenueCredentials:
    """Validate the secret's JSON; raises CredentialsError naming the bad field (never its value)."""
    if isinstance(raw, str):
        try:
            data = json.loads(raw)
        except ValueError:
            raise CredentialsError("the venue secret is not JSON") from None
    else:
        data = raw
    if not isinstance(data, dict):
        raise CredentialsError("the venue secret must be a JSON object")
    key = data.get("private_key")
    if not isinstance(key, str) or not _KEY.match(key.strip()):
        raise CredentialsError("private_key must be 32 bytes of hex")
    key = key.strip()
    key = key if key.startswith("0x") else f"0x{key}"
    signature_type = _signature_type(data.get("signature_type"))
    funder = data.get("funder")
    if funder is not None and (not isinstance(funder, str) or not _ADDRESS.match(funder)):
        raise CredentialsError("funder must be a 0x-prefixed 20-byte address")
    if signature_type is not SignatureType.EOA and not funder:
        raise CredentialsError(f"funder (the wallet holding the funds) is required for {signature_type.name}")
    api_fields = [data.get(name) for name in ("api_key", "api_secret", "api_passphrase")]
    api = None
    if any(api_fields):
        if not all(isinstance(v, str) and v for v in api_fields):
            raise CredentialsError("api_key, api_secret and api_passphrase must be given together")
        api = ApiCredentials(str(api_fields[0]), str(api_fields[1]), str(api_fields[2]))
    rpc = data.get("polygon_http_rpc_url")
    if rpc is not None and (not isinstance(rpc, str) or not rpc.startswith(("https://", "http://"))):
        raise CredentialsError("polygon_http_rpc_url must be an http(s) URL")
    return VenueCredentials(key, signature_type, funder, api, _relayer(data), rpc)


def _relayer(data: dict[str, Any]) -> RelayerKey | None:
    key, address = data.get("relayer_api_key"), data.get("relayer_api_key_address")
    if key is None and address is None:
        return None
    if not isinstance(key, str) or not key.strip():
        raise CredentialsError("relayer_api_key must be a non-empty string, given with relayer_api_key_address")
    if not isinstance(address, str) or not _ADDRESS.match(address):
        raise CredentialsError("relayer_api_key_address must be a 0x-prefixed 20-byte address")
    return RelayerKey(key.strip(), address)


def load_credentials(secret_id: str | None = None, client: Any = None) -> VenueCredentials:
    """Read and validate the venue secret (named by COPYTRADER_VENUE_SECRET_ARN unless given)."""
    name = secret_id or os.environ.get(runtime_env.VENUE_SECRET_ARN)
    if not name:
        raise CredentialsError(f"no venue secret configured ({runtime_env.VENUE_SECRET_ARN} is not set)")
    if client is None:
        import boto3  # live mode only

        client = boto3.client("secretsmanager")
    try:
        response = client.get_secret_value(SecretId=name)
    except Exception as exc:  # the SDK's message names the secret, never its value
        raise CredentialsError(f"cannot read the venue secret: {type(exc).__name__}") from None
    return parse_credentials(response.get("SecretString") or "")
