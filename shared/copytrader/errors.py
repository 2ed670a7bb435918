"""Every error this package raises on purpose: one hierarchy, mapped at each boundary with `raise ... from`.

    CopyTraderError
    ├── TransientError        a dependency was briefly unavailable: safe to retry (the one name the copy pipeline's
    │                         state machine retries, besides Lambda's own service errors)
    ├── UpstreamError         a Polymarket read API answered with something we cannot use
    ├── IncompleteRun         too many scoring batches failed for stage 2 to be honest
    ├── ConfigError           configuration that cannot run (also a ValueError)
    │   ├── SettingsError     the settings model refused a value
    │   └── CredentialsError  the venue secret is missing or malformed
    ├── VenueError            an order's exchange with the venue
    │   ├── VenueRejected     the venue refused the order: nothing exists
    │   ├── VenueAmbiguous    the order's fate is unknown: reconcile, never resend
    │   └── ClobTransportError no HTTP answer from the CLOB (`sent` says whether the request may have left)
    └── FeedError             the listener's feeds
        ├── RpcError          the Polygon node answered with an error or an unusable result
        └── SourceEnded       a source stopped before the stop signal (also a RuntimeError)

Messages name fields, codes and reasons; never a secret, a raw body or a URL that may carry credentials.
"""

from __future__ import annotations


class CopyTraderError(Exception):
    """Base class of every error this package raises on purpose."""


class TransientError(CopyTraderError):
    """A dependency was briefly unavailable (timeout, throttling, 5xx on a read); safe to retry."""


class UpstreamError(CopyTraderError):
    """A Polymarket read API answered with something we cannot use (4xx other than not-found, bad JSON)."""


class IncompleteRun(CopyTraderError):
    """More evidence batches failed than the workflow tolerates: stage 2 would score a fraction of the universe."""


class ConfigError(CopyTraderError, ValueError):
    """The configuration does not describe something that can run (the message names the variable or field)."""


class SettingsError(ConfigError):
    """Invalid settings; the message lists every bad field with its allowed range."""


class CredentialsError(ConfigError):
    """The venue secret is missing or malformed; the message names fields, never values."""


class VenueError(CopyTraderError):
    """Placing or looking up an order at the venue did not give a plain answer."""


class VenueRejected(VenueError):
    """The venue refused the order; `code` is its error code (e.g. INVALID_ORDER_MIN_SIZE)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class VenueAmbiguous(VenueError):
    """The order's fate is unknown; reconcile against the venue's orders and trades."""


class ClobTransportError(VenueError):
    """No HTTP answer. `sent` is False only when the request certainly never left (connection not made)."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class FeedError(CopyTraderError):
    """A trade feed of the listener failed."""


class RpcError(FeedError):
    """The node answered a request with a JSON-RPC error (or an unusable result)."""


class SourceEnded(FeedError, RuntimeError):
    """A source's `run` returned before the stop signal."""
