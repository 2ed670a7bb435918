"""Import the signing libraries of the live venue without their side effect on the interpreter.

py_ecc (pulled in by eth_account, which polymarket-client signs with) raises the recursion limit to 100,000 when
it is first imported (`py_ecc/__init__.py`: `sys.setrecursionlimit(max(100000, ...))`). With that limit, deeply
nested input no longer raises RecursionError: the C JSON decoder, for one, recurses until the C stack overflows
and the process dies with a segmentation fault (found by the RTDS parser's test of 100,000 nested brackets, run
after the venue tests in one process). A process that trades live must keep its default limit, so py_ecc is
imported here once, first, and the limit is put back; every later import of it is a no-op.

Every module that imports polymarket (the SDK) or eth_account imports this module first.

polymarket-client 0.14.0's dependencies (eth-account 0.13.7 and the rest) no longer require py_ecc, so the venue
layer does not ship it (py-clob-client-v2 brought it): where it is not installed there is nothing to guard against,
and the guard does nothing. It stays for an environment that still has py_ecc installed by something else.
"""

from __future__ import annotations

import sys


def import_signing_libraries() -> None:
    """Import py_ecc, if installed, with the interpreter's recursion limit kept as it was (idempotent)."""
    limit = sys.getrecursionlimit()
    try:
        import py_ecc  # noqa: F401
    except ModuleNotFoundError:
        pass  # not a dependency of the SDK any more: the Lambda's venue layer has none
    finally:
        sys.setrecursionlimit(limit)


import_signing_libraries()
