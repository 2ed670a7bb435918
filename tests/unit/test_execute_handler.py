"""The execute handler's init-phase warm-up: a live venue's imports land in the SnapStart snapshot; paper: none."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType, SimpleNamespace

from copytrader.local.lambdas import repo_root
from copytrader.settings import Mode


def _execute_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "execute_handler_under_test", repo_root() / "functions/execute/handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paper_mode_imports_nothing_at_init():
    handler = _execute_module()
    assert handler.PREWARMED == []  # the default settings are paper
    assert handler.prewarm(lambda: SimpleNamespace(mode=Mode.PAPER)) == []


def test_live_mode_imports_the_clob_client_and_the_venue_at_init():
    handler = _execute_module()
    imported = handler.prewarm(lambda: SimpleNamespace(mode=Mode.LIVE))
    assert imported == list(handler.LIVE_VENUE_MODULES)
    assert {"py_clob_client_v2", "py_clob_client_v2.client", "copytrader.execution.clob_venue"} <= set(sys.modules)
    # exactly what building the live venue imports lazily (copytrader.pipeline.deps.live_venue)
    source = (repo_root() / "shared/copytrader/pipeline/deps.py").read_text()
    lazy = {line.split()[1] for line in source.splitlines() if line.startswith("    from copytrader.")}
    assert lazy <= set(handler.LIVE_VENUE_MODULES)


def test_settings_that_cannot_load_do_not_break_init():
    handler = _execute_module()

    def broken() -> None:
        raise ValueError("mode=live also needs live_confirmed=true")

    assert handler.prewarm(broken) == []
