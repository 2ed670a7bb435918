"""Import the signing libraries of the live venue without their side effect on the interpreter.

py_ecc (pulled in by eth_account, which polymarket-client signs with) raises the recursion limit to 100,000 when
it is first imported (`py_ecc/__init__.py`: `sys.setrecursionlimit(max(100000, ...))`). With that limit, deeply
nested input no longer raises RecursionError: the C JSON decoder, for one, recurses until the C stack overflows
and the process dies with a segmentation fault (found by the RTDS parser's test of 100,000 nested brackets, run
after the venue tests in one process). A process that trades live must keep its default limit, so py_ecc is
imported here once, first, and the limit is put back; every later import of it is a no-op.

Every module that imports polymarket (the SDK) or eth_account imports this module first.
"""

from __future__ import annotations

import sys


def import_signing_libraries() -> None:
    """Import py_ecc with the interpreter's recursion limit kept as it was (idempotent)."""
    limit = sys.getrecursionlimit()
    try:
        import py_ecc  # noqa: F401
    finally:
        sys.setrecursionlimit(limit)


import_signing_libraries()
