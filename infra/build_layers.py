"""Build (or find in the .build/ cache) the Lambda layers and print their sizes, and what each function's layers and
code add up to against Lambda's 250 MB unzipped limit.

Run before an offline synth or in CI's setup step: it is the only part of synth that needs PyPI.
"""

from __future__ import annotations

from copytrader_infra import layer_build
from copytrader_infra.books import BOOKS_FUNCTIONS
from copytrader_infra.constants import LAMBDA_UNZIPPED_LIMIT_BYTES
from copytrader_infra.functions import PIPELINE_FUNCTIONS


def main() -> None:
    dependencies, domain, venue = layer_build.dependency_layer(), layer_build.domain_layer(), layer_build.venue_layer()
    builds = (dependencies, domain, venue, layer_build.quant_layer(), layer_build.http_layer())
    for build in builds:
        bytecode = "with" if build.precompiled else "WITHOUT"
        megabytes = layer_build.unzipped_bytes(build.path) / 1e6
        print(f"{build.name:13} {megabytes:6.1f} MB unzipped, {bytecode} .pyc  {build.path}")
    # The copy and books functions (the scoring ones' totals are in tests/infra/test_infra_scoring.py)
    for spec in (*PIPELINE_FUNCTIONS, *BOOKS_FUNCTIONS):
        layers = [dependencies, domain, *([venue] if spec.imports_venue_sdk else [])]
        total = sum(layer_build.unzipped_bytes(folder) for folder in (*(b.path for b in layers), spec.folder))
        share = total / LAMBDA_UNZIPPED_LIMIT_BYTES
        print(f"{spec.folder.name:17} {total / 1e6:6.1f} MB unzipped with its layers ({share:.0%} of Lambda's limit)")


if __name__ == "__main__":
    main()
