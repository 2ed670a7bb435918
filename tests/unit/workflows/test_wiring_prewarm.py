"""The execute handler's init-phase warm-up: a live venue's imports happen before any copy waits on them; paper:
none."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from types import SimpleNamespace

from copytrader.settings import Mode
from copytrader.workflows import wiring


def test_paper_mode_imports_nothing_at_init():
    handler = importlib.import_module("functions.copy_execute.handler")
    assert handler.PREWARMED == []  # the default settings are paper
    assert wiring.prewarm(lambda: SimpleNamespace(mode=Mode.PAPER)) == []


def test_the_sdk_stays_off_the_paper_path():
    probe = (
        "import sys, importlib\n"
        "importlib.import_module('functions.copy_execute.handler')\n"
        "from copytrader.workflows import wiring\n"
        "from copytrader.settings import load_settings\n"
        "wiring.Deps(load_settings(environ={}))\n"
        "print(sorted(m for m in sys.modules if m == 'polymarket' or m.startswith('polymarket.')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_live_mode_imports_the_clob_client_and_the_venue_at_init():
    imported = wiring.prewarm(lambda: SimpleNamespace(mode=Mode.LIVE))
    assert imported == list(wiring.LIVE_VENUE_MODULES)
    assert {"polymarket", "polymarket.clients.secure", "copytrader.execution.clob_venue"} <= set(sys.modules)
    # exactly what building the live venue imports lazily (copytrader.workflows.wiring.live_venue)
    source = inspect.getsource(wiring.live_venue)
    lazy = {line.split()[1] for line in source.splitlines() if line.strip().startswith("from copytrader.")}
    assert lazy and lazy <= set(wiring.LIVE_VENUE_MODULES)


def test_settings_that_cannot_load_do_not_break_init():
    def broken() -> None:
        raise ValueError("mode=live also needs live_confirmed=true")

    assert wiring.prewarm(broken) == []


def test_a_module_that_cannot_be_imported_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(wiring, "LIVE_VENUE_MODULES", ("copytrader.no_such_module",))
    warned: list[tuple[str, str]] = []
    assert wiring.prewarm(lambda: SimpleNamespace(mode=Mode.LIVE), warn=lambda m, e: warned.append((m, e))) == []
    assert [m for m, _ in warned] == ["copytrader.no_such_module"]
