"""Cold-start import time of the copy pipeline's handlers, measured the way Lambda pays it.

Each sample is a fresh interpreter that puts the function's folder (`/var/task`: just `handler.py`, as the code
asset ships it) and the layers' contents (`/opt/python`) first on `sys.path` and times `import handler`. The
median of `--import-samples` runs is reported, in two states of the bundle:

- `cold_import_<name>_ms`: as deployed. The layers ship bytecode compiled by Python 3.12 with unchecked hashes
  (`infra/copytrader_infra/layer_build.py`), the handler folder ships none;
- `cold_import_<name>_nopyc_ms`: the same bundle without its bytecode (a layer built where no python3.12 was
  found). The interpreter's own standard library keeps its bytecode in both, as in Lambda's runtime.

The interpreter is the Lambda runtime's minor version (python3.12, found as the layer build finds it) with the
domain layer exactly as CDK stages it, and the dependency and venue layers built by their recipe for this machine's
architecture (`layer_build.local_target()`: the deployed layers hold arm64 wheels), cached under
`.build/layers/local-*/`; the venue layer is on the path of execute (and of `import polymarket`) only, as deployed.
Without a python3.12 the venv's interpreter and packages stand in (and the figure says so).

Bytecode is kept out by `PYTHONDONTWRITEBYTECODE=1` and a `PYTHONPYCACHEPREFIX` folder that holds the standard
library's bytecode only: with a prefix set, Python reads and writes `.pyc` files only there and ignores every
`__pycache__` folder beside the sources.

`import polymarket` is measured the same way (`cold_import_polymarket_ms`): the SDK (polymarket-client) that a
live execute needs, and so is the execute handler with live settings (`cold_import_execute_live_ms`): its init phase
then imports the client too (`wiring.prewarm`), which is what a live execute's cold start pays.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.figure import BenchmarkError, Figure
from copytrader.workflows import COPY

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "infra"))  # copytrader_infra: the layer builds (an app package, not installed)

FUNCTIONS = COPY.steps  # figure names keep the step: cold_import_score_ms
CLOB_CLIENT = "polymarket"
EXECUTE_LIVE = "execute_live"  # the execute handler with the settings live (COPYTRADER_MODE wins over SSM)
# live mode needs an account of its own (copytrader.settings): without one the settings are invalid, prewarm imports
# nothing and the figure would be the paper handler's; every live sample checks the SDK was imported
LIVE_SETTINGS = {"COPYTRADER_MODE": "live", "COPYTRADER_LIVE_CONFIRMED": "true", "COPYTRADER_ACCOUNT": "live"}
TARGET_MS = 300  # score, size, risk_check: the hot path's import budget per cold start

_SAMPLE = """
import sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
import {module}
elapsed = (time.perf_counter() - started) * 1000
assert {check!r} in sys.modules, {check!r} + " was not imported"
print(repr(elapsed))
"""


@dataclass(frozen=True)
class Bundle:
    python: str
    layers: tuple[str, ...]  # /opt/python stand-ins: the domain layer, then the dependencies
    lambda_like: bool  # python3.12 with the built layers (False: the venv stands in)
    venue: str | None = None  # the venue layer (the SDK): execute's only

    @property
    def label(self) -> str:
        if self.lambda_like:
            return "python3.12, domain layer as staged, dependency and venue layers built for this machine"
        return f"python {platform.python_version()} from the venv (no python3.12 found)"


def bundle() -> Bundle:
    from copytrader_infra import layer_build

    python = layer_build.find_lambda_python()
    if python is None:
        return Bundle(sys.executable, (), lambda_like=False)
    domain = layer_build.domain_layer()
    if not domain.precompiled:
        raise BenchmarkError("the domain layer was built without bytecode although python3.12 exists")
    target = layer_build.local_target()  # the Lambda layers' recipe, for this machine's architecture
    try:
        dependencies, venue = layer_build.dependency_layer(target), layer_build.venue_layer(target)
    except layer_build.LayerBuildError as exc:  # the first build needs PyPI
        print(f"cold_import: no python3.12 dependency build ({str(exc)[:200]}); the venv stands in", file=sys.stderr)
        return Bundle(sys.executable, (), lambda_like=False)
    layers = (domain, dependencies)
    return Bundle(python, tuple(str(build.path / "python") for build in layers), True, str(venue.path / "python"))


def _environment(prefix: Path | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "copytrader",
        "POWERTOOLS_METRICS_NAMESPACE": "CopyTrader",
    }
    if prefix is not None:
        env["PYTHONPYCACHEPREFIX"] = str(prefix)
    return env


def _run(python: str, paths: list[str], module: str, env: dict[str, str]) -> float:
    check = CLOB_CLIENT if env.get("COPYTRADER_MODE") == "live" else module
    code = _SAMPLE.format(paths=paths, module=module, check=check)
    done = subprocess.run([python, "-s", "-c", code], capture_output=True, text=True, env=env, cwd="/", check=False)
    if done.returncode != 0:
        raise BenchmarkError(f"importing {module} failed:\n{done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def _stdlib_prefix(python: str, paths: list[str], modules: list[str], where: Path) -> Path:
    """A bytecode prefix holding the standard library's `.pyc` files only (what Lambda's runtime ships)."""
    prefix = where / "pycache-prefix"
    env = {**_environment(prefix)}
    del env["PYTHONDONTWRITEBYTECODE"]  # this one run writes the bytecode of everything it imports
    for module in modules:
        _run(python, paths, module, env)
    stdlib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"], capture_output=True, text=True
    ).stdout.strip()
    keep = prefix / Path(stdlib).relative_to("/")
    for entry in list(prefix.rglob("*.pyc")):
        if keep not in entry.parents:
            entry.unlink()
    return prefix


def cold_import(args: argparse.Namespace) -> list[Figure]:
    samples = args.import_samples
    built = bundle()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-cold-import-") as tmp:
        work = Path(tmp)
        tasks = {}
        for name in FUNCTIONS:
            task = work / "task" / name  # /var/task: the function's code asset, handler.py without bytecode
            task.mkdir(parents=True)
            shutil.copy2(ROOT / "functions" / COPY.function(name) / "handler.py", task / "handler.py")
            venue = [built.venue] if built.venue and name == "execute" else []
            tasks[name] = [str(task), *built.layers, *venue]
        if not built.lambda_like:
            tasks = {name: [paths[0], str(ROOT / "shared")] for name, paths in tasks.items()}
        targets: dict[str, tuple[list[str], str, dict[str, str]]] = {
            name: (paths, "handler", {}) for name, paths in tasks.items()
        }
        targets[EXECUTE_LIVE] = (tasks["execute"], "handler", LIVE_SETTINGS)
        targets[CLOB_CLIENT] = (tasks["execute"][1:] or [str(ROOT / "shared")], CLOB_CLIENT, {})
        prefix = _stdlib_prefix(built.python, tasks["execute"], ["handler", CLOB_CLIENT], work)
        for target, (paths, module, settings) in targets.items():
            for suffix, base in (("", _environment(None)), ("_nopyc", _environment(prefix))):
                env = {**base, **settings}
                _run(built.python, paths, module, env)  # one unmeasured run: the page cache holds the files
                runs = [_run(built.python, paths, module, env) for _ in range(samples)]
                state = "layers with their bytecode" if not suffix else "layers without bytecode"
                target_note = f"; target <= {TARGET_MS} ms" if target in ("score", "size", "risk_check") else ""
                runtime = "python3.12" if built.lambda_like else f"python {platform.python_version()} (venv)"
                live = " (settings live: the CLOB client at init)" if settings else ""
                what = f"import {module}{live}: fresh {runtime}, {state}, median of {samples}{target_note}"
                figures.append(Figure(f"cold_import_{target}{suffix}_ms", statistics.median(runs), what))
    print(f"cold_import: {built.label}", file=sys.stderr)
    return figures
