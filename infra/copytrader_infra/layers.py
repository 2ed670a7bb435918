"""The Lambda layers: the two every function uses (third-party dependencies, the domain package), `venue` (the
Polymarket SDK) for the functions that talk to the venue in live mode, and the two the scoring workflow adds
(`ScoringLayers`: numpy + scipy where the scoring engine runs, httpx for all three).

Splitting them keeps a domain-code change from re-uploading ~45 MB of dependencies, keeps each
function's own asset down to its handler folder, and keeps numpy and scipy (~170 MB) off the functions that
do not import them, and the SDK (~39 MB, none of it shared with the dependency layer) off the hot path's score,
size and risk_check, whose cold starts it would slow for nothing.
"""

from __future__ import annotations

from aws_cdk import Annotations, AssetHashType
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from copytrader_infra import layer_build
from copytrader_infra.constants import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION, LAMBDA_RUNTIME
from copytrader_infra.functions import FunctionSpec


class PipelineLayers(Construct):
    """`all`: the layers every function has; `venue`: the SDK, added to a function whose spec says it imports it
    (`FunctionSpec.imports_venue_sdk`, `for_spec`)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        dependencies = layer_build.dependency_layer()
        domain = layer_build.domain_layer()
        self.dependency_build, self.domain_build = dependencies, domain
        self.venue_build = layer_build.venue_layer()
        self.dependencies = _layer(self, "Dependencies", dependencies, "copytrader runtime dependencies (pinned)")
        self.domain = _layer(self, "Domain", domain, "copytrader domain package")
        self.venue = _layer(self, "Venue", self.venue_build, "copytrader live venue: polymarket-client (pinned)")
        self.all = [self.dependencies, self.domain]
        if not all(build.precompiled for build in (dependencies, domain, self.venue_build)):
            Annotations.of(self).add_warning_v2(
                "copytrader:layer-bytecode",
                f"No python{LAMBDA_PYTHON_VERSION} found (PATH or ${layer_build.LAYER_PYTHON_ENV}): layers ship "
                "without .pyc and cold starts import 2-3x slower.",
            )

    def for_spec(self, spec: FunctionSpec) -> list[lambda_.ILayerVersion]:
        """The layers of a function: every function's two, then the SDK's if it imports it."""
        return [*self.all, self.venue] if spec.imports_venue_sdk else list(self.all)


class ScoringLayers(Construct):
    """`quant` (numpy, scipy: the scoring engine) and `http` (httpx: the Data API and Gamma clients)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.quant_build, self.http_build = layer_build.quant_layer(), layer_build.http_layer()
        self.quant = _layer(self, "Quant", self.quant_build, "copytrader scoring: numpy and scipy (pinned)")
        self.http = _layer(self, "Http", self.http_build, "copytrader scoring: httpx (pinned)")


def _layer(
    scope: Construct, construct_id: str, build: layer_build.LayerBuild, description: str
) -> lambda_.LayerVersion:
    """A layer from a cached build: its folder as the asset, the build's input key as the asset hash."""
    return lambda_.LayerVersion(
        scope,
        construct_id,
        code=lambda_.Code.from_asset(str(build.path), asset_hash=build.key, asset_hash_type=AssetHashType.CUSTOM),
        compatible_runtimes=[LAMBDA_RUNTIME],
        compatible_architectures=[LAMBDA_ARCHITECTURE],
        description=description,
    )
