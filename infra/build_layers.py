"""Build (or find in the .build/ cache) the two Lambda layers and print their sizes.

Run before an offline synth or in CI's setup step: it is the only part of synth that needs PyPI.
"""

from __future__ import annotations

from pathlib import Path

from copytrader_infra import layer_build


def _megabytes(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 1e6


def main() -> None:
    for build in (layer_build.dependency_layer(), layer_build.domain_layer()):
        bytecode = "with" if build.precompiled else "WITHOUT"
        print(f"{build.name:13} {_megabytes(build.path):6.1f} MB unzipped, {bytecode} .pyc  {build.path}")


if __name__ == "__main__":
    main()
