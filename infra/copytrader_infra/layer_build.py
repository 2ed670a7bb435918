"""Build the Lambda layers into content-keyed folders under `.build/layers/`, without Docker.

The copy pipeline's functions use two (dependencies, domain); the scoring workflow's add `quant` (numpy,
scipy) and `http` (httpx) where they need them, and the functions that talk to the venue in live mode add `venue`
(the Polymarket SDK, polymarket-client).

Each layer lives in `.build/layers/<name>/<key>/python/`, where `<key>` hashes every input of the build
(the requirement list, the lock, the pip platform flags, the domain package's files, whether bytecode is
precompiled). A synth or a test run looks the folder up and builds only when the key is new, so pip runs
once per change of inputs rather than on every synth; that first build is also the only step of synth
that needs the network (PyPI). CDK stages the folder with the same key as its asset hash, so it never
fingerprints the dependency layer's ~45 MB either.

Bytecode is compiled by a Python of the runtime's minor version (a 3.11 `.pyc` is ignored by 3.12) with
`--invalidation-mode unchecked-hash`: CDK zips assets with fixed timestamps, so timestamp-checked `.pyc`
files would look stale on Lambda and be ignored, whereas unchecked ones are trusted as the layer is
immutable. AWS-NOTES §B.4 measured the difference: `import boto3` 727 ms without `.pyc`, 290 ms with.
Without such an interpreter the layers are built without `.pyc` and the key records it.
"""

from __future__ import annotations

import csv
import functools
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from copytrader_infra.constants import (
    BUILD_DIR,
    DOMAIN_PACKAGE_DIR,
    LAMBDA_GLIBC_WHEEL_PLATFORM,
    LAMBDA_PYTHON_VERSION,
    LAMBDA_WHEEL_PLATFORM,
    LOCK_FILE,
    PYPROJECT,
)

LAYERS_DIR = BUILD_DIR / "layers"
LAYER_PYTHON_ENV = "COPYTRADER_LAYER_PYTHON"  # path of a python3.12 to precompile with, if not on PATH
_RECIPE = "2"  # bump when the build steps below change in a way the inputs do not show
_STAGING_PREFIX = ".staging-"
_LAMBDA_LAYER_ROOT = "/opt/python"  # where Lambda extracts a layer's python/ folder


class LayerBuildError(RuntimeError):
    """A layer is not in the cache and could not be built."""


@dataclass(frozen=True)
class LayerBuild:
    name: str
    path: Path  # the folder to zip: it holds python/
    key: str  # hash of the build's inputs, used as the CDK asset hash
    precompiled: bool  # python3.12 bytecode is included


@dataclass(frozen=True)
class Target:
    """What a layer's wheels are resolved for and its bytecode compiled by. `LAMBDA` is what deploys; `local_target()`
    builds the same layers for this machine, so a test can import them (an arm64 wheel's extension does not load
    on x86_64)."""

    python_version: str  # "3.12"
    platform: str  # the manylinux2014 tag: the dependency layer's only one
    glibc_platform: str  # a newer glibc's tag, also offered to pip for the optional layers
    folder: str = ""  # under .build/layers/: "" for the Lambda runtime, one folder per other target


LAMBDA = Target(LAMBDA_PYTHON_VERSION, LAMBDA_WHEEL_PLATFORM, LAMBDA_GLIBC_WHEEL_PLATFORM)


def local_target() -> Target:
    """This machine's architecture, for the Lambda runtime's Python minor if an interpreter of it is found (else the
    running one's): the layers' contents as Lambda resolves them, importable here."""
    machine = platform.machine()
    version = LAMBDA_PYTHON_VERSION if find_lambda_python() else f"{sys.version_info.major}.{sys.version_info.minor}"
    folder = f"local-cp{version.replace('.', '')}-{machine}"
    return Target(version, f"manylinux2014_{machine}", f"manylinux_2_28_{machine}", folder)


def dependency_layer(target: Target = LAMBDA) -> LayerBuild:
    """The Lambda runtime dependencies (`[project].dependencies`), pinned by requirements/lock.txt."""
    requirements = _runtime_requirements()
    pip_args = _pip_args(target, target.platform)
    inputs = {"requirements": requirements, "lock": LOCK_FILE.read_text(), "pip": pip_args}

    def populate(site: Path) -> None:
        _pip_install(site, requirements, pip_args, "dependency")

    return _cached_build("dependencies", inputs, populate, target)


def quant_layer() -> LayerBuild:
    """numpy and scipy for the scoring workflow's evidence and select functions (`quant` extra + numpy).

    numpy >= 2.3 publishes aarch64 wheels for glibc 2.28 only (`manylinux_2_28`), which Lambda's python3.12
    runtime (Amazon Linux 2023, glibc 2.34) runs; pip is offered that tag besides manylinux2014. The packages'
    own test suites (`tests` folders, ~25 MB) are left out: numpy and scipy ~205 MB with them, and Lambda allows
    250 MB unzipped for a function and all its layers.
    """
    requirements = [*_optional_requirements("quant"), _optional_requirement("local", "numpy")]
    return _requirements_layer("quant", requirements, strip_tests=("numpy", "scipy"))


def http_layer() -> LayerBuild:
    """httpx and its dependencies: the Data API and Gamma clients of the scoring workflow's discovery."""
    return _requirements_layer("http", [_optional_requirement("listener", "httpx")])


def venue_layer(target: Target = LAMBDA) -> LayerBuild:
    """The Polymarket SDK (`venue` extra: polymarket-client) and what it needs that the dependency layer lacks.

    The SDK shares pydantic, pydantic-core, typing-extensions and more with the dependency layer. Lambda extracts
    a function's layers into one /opt, a later layer's files over an earlier one's, so a package in both would mix
    two copies' files. Every distribution the dependency layer holds is therefore removed from this one (its RECORD
    lists the files), after checking the two versions are the same: both are resolved against the same lock, so a
    difference means a package the lock does not pin, and the build stops.
    """
    beside = dependency_layer(target)
    requirements = _optional_requirements("venue")
    return _requirements_layer("venue", requirements, _VENUE_TESTS, target=target, beside=beside, prune=_VENUE_PRUNE)


# What the venue layer's packages ship that no import reaches: test suites (~10 MB with pycryptodome's SelfTest),
# cytoolz's generated C sources (5.5 MB; its extensions are compiled), and the docs and release-note fragments
# that eth-rlp's and hexbytes' wheels install at the top of the site folder.
_VENUE_TESTS = ("regex", "cytoolz", "toolz", "parsimonious", "certifi")
_VENUE_PRUNE = ("Crypto/SelfTest", "cytoolz/*.c", "docs", "newsfragments")


def _requirements_layer(
    name: str,
    requirements: list[str],
    strip_tests: tuple[str, ...] = (),
    *,
    target: Target = LAMBDA,
    beside: LayerBuild | None = None,
    prune: tuple[str, ...] = (),
) -> LayerBuild:
    """pip's install of `requirements`; then the `tests` folders of the `strip_tests` packages, what the `prune`
    globs (relative to the site folder) match, and the distributions of `beside` are removed."""
    pip_args = _pip_args(target, target.platform, target.glibc_platform)
    inputs: dict[str, object] = {
        "requirements": requirements,
        "lock": LOCK_FILE.read_text(),
        "pip": pip_args,
        "strip": strip_tests,
    }
    if prune:
        inputs["prune"] = prune
    if beside is not None:
        inputs["without"] = beside.key  # what is removed depends on that build

    def populate(site: Path) -> None:
        _pip_install(site, requirements, pip_args, name)
        for package in strip_tests:
            for tests in sorted((site / package).rglob("tests"), reverse=True):
                if tests.is_dir():
                    shutil.rmtree(tests)
        for pattern in prune:
            for path in site.glob(pattern):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        if beside is not None:
            _remove_distributions_of(site, beside.path / "python", name)

    return _cached_build(name, inputs, populate, target)


def _pip_args(target: Target, *platforms: str) -> list[str]:
    args = [arg for platform in platforms for arg in ("--platform", platform)]
    return [*args, "--implementation", "cp", "--python-version", target.python_version, "--only-binary=:all:"]


def _pip_install(site: Path, requirements: list[str], pip_args: list[str], name: str) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check"]
    command += ["--no-input", *pip_args, "--target", str(site), "--constraint", str(LOCK_FILE), *requirements]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LayerBuildError(
            f"pip could not build the {name} layer; the first build needs PyPI, later synths reuse "
            f"the cached folder.\n{done.stderr[-3000:]}"
        )
    shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: not importable, useless in a layer


def distributions(site: Path) -> dict[str, tuple[str, Path]]:
    """The distributions installed in a layer's site folder: normalized name -> (version, its .dist-info folder)."""
    found: dict[str, tuple[str, Path]] = {}
    for info in site.glob("*.dist-info"):
        fields = dict(line.split(": ", 1) for line in (info / "METADATA").read_text().splitlines()[:10] if ": " in line)
        found[re.sub(r"[-_.]+", "-", fields["Name"]).lower()] = (fields["Version"], info)
    return found


def _remove_distributions_of(site: Path, other: Path, name: str) -> None:
    """Remove from `site` every distribution that `other` (another layer's site folder) holds at the same version."""
    theirs = distributions(other)
    for distribution, (version, info) in distributions(site).items():
        if distribution not in theirs:
            continue
        if theirs[distribution][0] != version:
            raise LayerBuildError(
                f"the {name} layer needs {distribution} {version} but the dependency layer has "
                f"{theirs[distribution][0]}: pin it in requirements/lock.txt"
            )
        with (info / "RECORD").open(newline="") as record:
            files = [site / row[0] for row in csv.reader(record) if row and not row[0].startswith("..")]
        for path in files:
            path.unlink(missing_ok=True)
        for folder in sorted({p.parent for p in files if p.parent != site}, key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def unzipped_bytes(folder: Path) -> int:
    """What a layer (or code) folder occupies once Lambda has unzipped it: the sum of its file sizes."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


# Subpackages of copytrader that are the developer's and operator's tools, not code a Lambda function runs: the
# command line, local mode (moto server, the demo) and the simulated market. tests/unit/test_architecture.py
# checks that nothing shipped imports them.
DEV_TOOLS = ("cli", "local", "sim")


def domain_layer() -> LayerBuild:
    """The domain package `copytrader` (shared/copytrader -> python/copytrader), without its dev tools."""
    # The bytes hashed are the bytes written, so the key describes the build even while files are edited.
    contents = {path.relative_to(DOMAIN_PACKAGE_DIR).as_posix(): path.read_bytes() for path in _package_files()}
    digest = hashlib.sha256()
    for relative, data in contents.items():
        digest.update(relative.encode() + b"\0" + data + b"\0")

    def populate(site: Path) -> None:
        for relative, data in contents.items():
            target = site / "copytrader" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    return _cached_build("domain", {"package": digest.hexdigest()}, populate)


def find_lambda_python() -> str | None:
    """An interpreter of the Lambda runtime's minor version: $COPYTRADER_LAYER_PYTHON, PATH, then pyenv's."""
    return find_python(LAMBDA_PYTHON_VERSION)


@functools.cache
def find_python(version: str) -> str | None:
    """An interpreter of `version` ("3.12"): $COPYTRADER_LAYER_PYTHON, PATH, then pyenv's."""
    candidates = [
        os.environ.get(LAYER_PYTHON_ENV),
        shutil.which(f"python{version}"),
        *sorted(glob.glob(str(Path.home() / f".pyenv/versions/{version}.*/bin/python3")), reverse=True),
    ]
    for candidate in filter(None, candidates):
        probe = [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        try:
            done = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
        except OSError:
            continue  # a broken shim or a path that is not executable
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


def _cached_build(
    name: str, inputs: Mapping[str, object], populate: Callable[[Path], None], target: Target = LAMBDA
) -> LayerBuild:
    python = find_python(target.python_version)
    keyed = {"recipe": _RECIPE, "bytecode": f"cp{target.python_version}" if python else None, **inputs}
    key = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:24]
    root = LAYERS_DIR / target.folder / name
    final = root / key
    if not final.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=root))
        try:
            populate(staging / "python")
            if python:
                _precompile(python, staging / "python")
            _publish(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _prune(root, keep=final)
    return LayerBuild(name=name, path=final, key=key, precompiled=python is not None)


def _publish(staging: Path, final: Path) -> None:
    """Move a finished build into place atomically; a concurrent builder of the same key may have won."""
    try:
        staging.rename(final)
    except OSError:
        if not final.is_dir():
            raise


def _precompile(python: str, site: Path) -> None:
    command = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    command += ["-s", str(site), "-p", _LAMBDA_LAYER_ROOT, str(site)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LayerBuildError(f"compileall failed in {site}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def _prune(root: Path, keep: Path) -> None:
    """Drop builds of older inputs; in-flight staging folders of other processes are left alone."""
    for entry in root.iterdir():
        if entry != keep and not entry.name.startswith(_STAGING_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)


def _runtime_requirements() -> list[str]:
    with PYPROJECT.open("rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def _optional_requirements(extra: str) -> list[str]:
    with PYPROJECT.open("rb") as handle:
        return list(tomllib.load(handle)["project"]["optional-dependencies"][extra])


def _optional_requirement(extra: str, name: str) -> str:
    """The one requirement of `extra` that names `name` (`numpy>=2.4,<3` for ("local", "numpy"))."""
    (found,) = [r for r in _optional_requirements(extra) if re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0] == name]
    return found


def _package_files() -> list[Path]:
    return sorted(
        path
        for path in DOMAIN_PACKAGE_DIR.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in (".pyc", ".pyo")
        and path.relative_to(DOMAIN_PACKAGE_DIR).parts[0] not in DEV_TOOLS
    )
