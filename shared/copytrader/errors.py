"""The exception hierarchy, mapped at each boundary with `raise ... from`.

`TransientError` is the one error name the copy-pipeline state machine retries (besides Lambda's own
service errors): raise it only where a retry cannot do harm.
"""

from __future__ import annotations


class CopyTraderError(Exception):
    """Base class of every error this package raises on purpose."""


class TransientError(CopyTraderError):
    """A dependency was briefly unavailable (timeout, throttling, 5xx on a read); safe to retry."""


class UpstreamError(CopyTraderError):
    """A Polymarket read API answered with something we cannot use (4xx other than not-found, bad JSON)."""
