"""The venue layer (polymarket-client): on the functions that talk to the venue in live mode and on no other, staged
with the SDK and its signing libraries, sharing no distribution with the dependency layer, within Lambda's size
limit, and importable (with the dependency and domain layers only) by the code a live execute runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from copytrader.workflows.wiring import LIVE_VENUE_MODULES
from copytrader_infra import layer_build
from copytrader_infra.constants import LAMBDA_UNZIPPED_LIMIT_BYTES

pytestmark = pytest.mark.infra

# The copy steps on the hot path: a cold start of theirs must not carry (or be tempted to import) the SDK.
_HOT_PATH = ("score", "size", "risk_check")


def _layer_refs(synthesized: Any, function: Any) -> list[str]:
    props = synthesized.resources[synthesized.logical_id(function)]["Properties"]
    return [ref["Ref"] for ref in props["Layers"]]


def _staged(synthesized: Any, layer_id: str) -> Path:
    """The folder CDK staged for a layer (what it zips and uploads): `asset.<hash>` beside the template."""
    content = synthesized.resources[layer_id]["Properties"]["Content"]
    return Path(synthesized.outdir / f"asset.{content['S3Key'].removesuffix('.zip')}")


def test_execute_has_the_venue_layer_last_and_the_hot_path_steps_do_not(synthesized: Any) -> None:
    layers, pipeline = synthesized.stack.layers, synthesized.stack.pipeline
    dependencies, domain, venue = (
        synthesized.logical_id(x) for x in (layers.dependencies, layers.domain, layers.venue)
    )
    assert _layer_refs(synthesized, pipeline.functions["execute"].function) == [dependencies, domain, venue]
    for name in _HOT_PATH:
        assert _layer_refs(synthesized, pipeline.functions[name].function) == [dependencies, domain], name


def test_books_settle_and_venue_sync_have_the_venue_layer_and_the_audit_and_the_exits_scan_do_not(
    synthesized: Any,
) -> None:
    venue, books = synthesized.logical_id(synthesized.stack.layers.venue), synthesized.stack.books
    assert venue in _layer_refs(synthesized, books.functions["settle"].function)
    assert venue in _layer_refs(synthesized, books.functions["venue_sync"].function)
    assert venue not in _layer_refs(synthesized, books.functions["audit"].function)
    assert venue not in _layer_refs(synthesized, synthesized.stack.exits.scan.function)


def test_no_scoring_function_has_the_venue_layer(synthesized: Any) -> None:
    venue = synthesized.logical_id(synthesized.stack.layers.venue)
    for name, step in synthesized.stack.scoring.functions.items():
        assert venue not in _layer_refs(synthesized, step.function), name


def test_the_staged_venue_layer_holds_the_sdk_and_its_signing_libraries_for_arm64(synthesized: Any) -> None:
    site = _staged(synthesized, synthesized.logical_id(synthesized.stack.layers.venue)) / "python"
    assert (site / "polymarket" / "__init__.py").is_file()
    assert (site / "eth_account" / "__init__.py").is_file()
    assert {"polymarket-client", "eth-account", "httpx", "websockets"} <= set(layer_build.distributions(site))
    (ckzg,) = site.glob("ckzg.*.so")  # a compiled dependency of eth-account, built for the runtime
    assert ckzg.name.endswith("cpython-312-aarch64-linux-gnu.so")
    assert not list(site.rglob("tests")) and not (site / "Crypto" / "SelfTest").exists()
    assert not (site / "docs").exists() and not (site / "bin").exists()


def test_the_venue_and_dependency_layers_share_no_distribution(synthesized: Any) -> None:
    """pydantic, pydantic-core, typing-extensions and more are in the dependency layer only: Lambda would extract a
    second copy over the first."""
    layers = synthesized.stack.layers
    venue = layer_build.distributions(_staged(synthesized, synthesized.logical_id(layers.venue)) / "python")
    dependencies = layer_build.distributions(
        _staged(synthesized, synthesized.logical_id(layers.dependencies)) / "python"
    )
    assert {"pydantic", "pydantic-core", "typing-extensions"} <= set(dependencies)
    assert not set(venue) & set(dependencies)


def test_each_function_with_the_venue_layer_fits_lambdas_unzipped_size_limit(synthesized: Any) -> None:
    stack = synthesized.stack
    steps = [stack.pipeline.functions["execute"], stack.books.functions["settle"]]
    for step in steps:
        staged = [_staged(synthesized, ref) for ref in _layer_refs(synthesized, step.function)]
        total = sum(map(layer_build.unzipped_bytes, [*staged, step.spec.folder]))
        assert total < LAMBDA_UNZIPPED_LIMIT_BYTES * 0.6, (step.spec.name, total)  # ~90 MB today of 250


def test_the_sdk_and_the_live_venue_import_from_the_layers_alone() -> None:
    """The dependency and venue layers built by the same recipe for this machine (the deployed ones hold arm64
    extensions, which do not load on x86_64), the domain layer as deployed: an interpreter with no site-packages
    imports the SDK and every module a live execute imports at init (`wiring.LIVE_VENUE_MODULES`), each from the
    layer that should hold it."""
    target = layer_build.local_target()
    dependencies, venue = layer_build.dependency_layer(target), layer_build.venue_layer(target)
    domain = layer_build.domain_layer()
    python = layer_build.find_python(target.python_version) or sys.executable
    paths = [str(build.path / "python") for build in (dependencies, domain, venue)]
    probe = (
        f"import sys; sys.path[:0] = {paths!r}\n"
        "import polymarket, pydantic, eth_account, copytrader\n"
        "from copytrader.execution.clob_venue import ClobVenue\n"
        f"for module in {list(LIVE_VENUE_MODULES)!r}: __import__(module)\n"
        "print(polymarket.__file__); print(pydantic.__file__); print(eth_account.__file__); print(copytrader.__file__)"
    )
    isolated = [python, "-I", "-S", "-B", "-c", probe]  # no site-packages, no PYTHON* variables, no .pyc written
    done = subprocess.run(isolated, capture_output=True, text=True, cwd="/", timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    sdk, pydantic, signing, package = (Path(line) for line in done.stdout.split())
    assert venue.path in sdk.parents and venue.path in signing.parents
    assert dependencies.path in pydantic.parents
    assert domain.path in package.parents
