"""Every tier: the live venue's signing libraries are imported through `copytrader.execution.signing_libs` first.

py_ecc (under eth_account, which the venue tests import at collection) raises the recursion limit to 100,000
on first import; a later test feeding deeply nested JSON would then crash the worker with a segmentation
fault instead of getting RecursionError. Importing it once here, with the limit restored, keeps every process
as production keeps it.
"""

import copytrader.execution.signing_libs  # noqa: F401
