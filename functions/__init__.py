"""The Lambda entry points, one folder per function: `functions/<workflow>_<step>/handler.py` (and the listener).

Each folder is one code asset; the domain package arrives in a layer. Local mode and tests import an entry point by
module name (`functions.copy_score.handler`, `copytrader.workflows.Workflow.handler_module`).
"""
