"""The layer builds: cached by their inputs, cross-built for arm64/cp312, bytecode the runtime will use."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from copytrader_infra import layer_build

pytestmark = pytest.mark.infra

_HASH_BASED_UNCHECKED = 0b01  # PEP 552 flags: hash-based, source not checked


def _pyc_flags(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[4:8], "little")


def test_a_cached_layer_is_reused_without_running_pip_or_compileall(monkeypatch: pytest.MonkeyPatch) -> None:
    dependencies, domain = layer_build.dependency_layer(), layer_build.domain_layer()

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the cached layer was rebuilt: {args}")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    assert layer_build.dependency_layer() == dependencies
    assert layer_build.domain_layer() == domain


def test_dependency_layer_holds_arm64_cp312_wheels_and_no_scripts() -> None:
    site = layer_build.dependency_layer().path / "python"
    assert {"aws_lambda_powertools", "boto3", "pydantic", "pynamodb", "urllib3"} <= {p.name for p in site.iterdir()}
    (extension,) = (site / "pydantic_core").glob("_pydantic_core.*.so")
    assert extension.name.endswith("cpython-312-aarch64-linux-gnu.so")
    assert not (site / "bin").exists()


def test_domain_layer_holds_the_copytrader_package_with_its_data() -> None:
    package = layer_build.domain_layer().path / "python" / "copytrader"
    assert (package / "__init__.py").is_file()
    assert (package / "store" / "tables.py").is_file()
    assert (package / "workflows" / "copy" / "definition.asl.json").is_file()


def test_domain_layer_ships_none_of_the_developers_tools() -> None:
    package = layer_build.domain_layer().path / "python" / "copytrader"
    shipped = {p.name for p in package.iterdir()}
    assert {"model", "copying", "risk", "store", "workflows", "runtime"} <= shipped
    assert not shipped & set(layer_build.DEV_TOOLS)  # cli, local, sim
    assert not list(package.rglob("demo.py")) and not list(package.rglob("moto_fixes.py"))


@pytest.mark.skipif(layer_build.find_lambda_python() is None, reason="no python3.12 to precompile with")
def test_layers_carry_unchecked_cp312_bytecode() -> None:
    for build in (layer_build.dependency_layer(), layer_build.domain_layer()):
        assert build.precompiled
        compiled = list((build.path / "python").rglob("*.cpython-312.pyc"))
        assert compiled
        assert {_pyc_flags(pyc) for pyc in compiled[:50]} == {_HASH_BASED_UNCHECKED}
