"""The layer builds: cached by their inputs, cross-built for arm64/cp312, bytecode the runtime will use, and the venue
layer without what the dependency layer already ships."""

from __future__ import annotations

import re
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
    venue = layer_build.venue_layer()

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the cached layer was rebuilt: {args}")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    assert layer_build.dependency_layer() == dependencies
    assert layer_build.domain_layer() == domain
    assert layer_build.venue_layer() == venue


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
    for build in (layer_build.dependency_layer(), layer_build.domain_layer(), layer_build.venue_layer()):
        assert build.precompiled
        compiled = list((build.path / "python").rglob("*.cpython-312.pyc"))
        assert compiled
        assert {_pyc_flags(pyc) for pyc in compiled[:50]} == {_HASH_BASED_UNCHECKED}


def _install(site: Path, name: str, version: str, files: dict[str, str]) -> None:
    """A distribution as pip --target leaves it: its files and a .dist-info with METADATA and RECORD."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    for relative, text in files.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(text)
    listed = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD", "../../bin/script"]
    (info / "RECORD").write_text("".join(f"{path},,\n" for path in listed))


def test_a_distribution_of_the_other_layer_is_removed_with_all_its_files(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "venue", tmp_path / "dependencies"
    _install(theirs, "typing_extensions", "4.16.0", {"typing_extensions.py": ""})
    _install(ours, "typing_extensions", "4.16.0", {"typing_extensions.py": ""})
    _install(ours, "eth_account", "0.13.7", {"eth_account/__init__.py": "", "eth_account/_utils/x.py": ""})

    layer_build._remove_distributions_of(ours, theirs, "venue")

    left = sorted(p.relative_to(ours).as_posix() for p in ours.rglob("*"))
    assert left == [
        "eth_account",
        "eth_account-0.13.7.dist-info",
        "eth_account-0.13.7.dist-info/METADATA",
        "eth_account-0.13.7.dist-info/RECORD",
        "eth_account/__init__.py",
        "eth_account/_utils",
        "eth_account/_utils/x.py",
    ]
    assert set(layer_build.distributions(ours)) == {"eth-account"}  # names normalized: eth_account -> eth-account


def test_a_distribution_at_another_version_than_the_other_layers_stops_the_build(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "venue", tmp_path / "dependencies"
    _install(theirs, "pydantic", "2.14.3", {"pydantic/__init__.py": ""})
    _install(ours, "pydantic", "2.13.0", {"pydantic/__init__.py": ""})
    with pytest.raises(
        layer_build.LayerBuildError, match=re.escape("pydantic 2.13.0 but the dependency layer has 2.14.3")
    ):
        layer_build._remove_distributions_of(ours, theirs, "venue")
    assert (ours / "pydantic" / "__init__.py").is_file()
