"""Where the stack may trade: live mode is refused where Polymarket blocks orders or allows only closing, and where
no region was chosen; paper mode deploys anywhere, with a warning in the synth output."""

from __future__ import annotations

from typing import Any

import botocore.loaders
import pytest

from copytrader.settings import Mode
from copytrader_infra.application import DEFAULT_REGION_ENV, build_app
from copytrader_infra.constants import CONTEXT_MODE
from copytrader_infra.pipeline import MODE_ENV
from copytrader_infra.region import (
    RECOMMENDED_REGION,
    REGION_LOCATIONS,
    Access,
    RegionRefused,
    access,
    check_region,
)

pytestmark = pytest.mark.infra

LIVE = {CONTEXT_MODE: "live"}
# AWS regions -> what Polymarket lets an order from there do (docs.polymarket.com/api-reference/geoblock)
EXPECTED = {
    "eu-west-1": Access.OPEN,  # Ireland: the docs' closest unrestricted region
    "eu-central-2": Access.OPEN,  # Zurich
    "eu-north-1": Access.OPEN,  # Stockholm
    "ca-central-1": Access.OPEN,  # Montreal (Quebec; only Ontario is blocked)
    "ap-northeast-1": Access.OPEN,  # Tokyo (restricted on Polymarket's website only, not on the API)
    "eu-west-2": Access.BLOCKED,  # London, GB
    "eu-central-1": Access.BLOCKED,  # Frankfurt, DE
    "eusc-de-east-1": Access.BLOCKED,  # the European Sovereign Cloud, DE
    "eu-west-3": Access.BLOCKED,  # Paris, FR
    "eu-south-1": Access.BLOCKED,  # Milan, IT
    "ap-southeast-2": Access.BLOCKED,  # Sydney, AU
    "ap-southeast-4": Access.BLOCKED,  # Melbourne, AU
    "us-east-1": Access.BLOCKED,  # and every other US region
    "us-gov-west-1": Access.BLOCKED,
    "ap-southeast-1": Access.CLOSE_ONLY,  # Singapore
    "ap-east-2": Access.CLOSE_ONLY,  # Taipei, TW
    "ap-southeast-7": Access.CLOSE_ONLY,  # Thailand
    "xx-nowhere-1": Access.UNKNOWN,
    "${Token[AWS.Region.10]}": Access.UNRESOLVED,  # an environment-agnostic stack
}


def test_each_region_gets_polymarkets_verdict_for_its_country() -> None:
    assert {region: access(region) for region in EXPECTED} == EXPECTED
    assert access(None) is Access.UNRESOLVED
    us = [region for region, location in REGION_LOCATIONS.items() if location.country == "US"]
    assert len(us) == 6 and all(access(region) is Access.BLOCKED for region in us)


def test_every_region_aws_lists_outside_the_isolated_partitions_has_a_country() -> None:
    partitions = botocore.loaders.Loader().load_data("partitions")["partitions"]
    known = {
        region
        for partition in partitions
        if not partition["id"].startswith("aws-iso")  # air-gapped: no route to Polymarket
        for region in partition["regions"]
        if not region.endswith("-global")
    }
    assert set(REGION_LOCATIONS) == known
    assert not any(region.startswith("eu-central-3") or "waw" in region for region in known)  # no Warsaw region


@pytest.mark.parametrize(
    "region",
    [r for r, verdict in EXPECTED.items() if verdict in (Access.BLOCKED, Access.CLOSE_ONLY, Access.UNKNOWN)],
)
def test_live_mode_is_refused_where_polymarket_would_not_let_it_open_a_position(region: str) -> None:
    with pytest.raises(RegionRefused, match=f"live mode refused in {region}.*{RECOMMENDED_REGION}"):
        build_app(context=LIVE, region=region)


def test_live_mode_without_a_chosen_region_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEFAULT_REGION_ENV, raising=False)
    with pytest.raises(RegionRefused, match="a live stack must name its region"):
        build_app(context=LIVE)


def test_the_clis_region_is_the_one_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEFAULT_REGION_ENV, "eu-west-2")  # `cdk synth` with a London profile
    with pytest.raises(RegionRefused, match="eu-west-2 \\(London, GB\\): Polymarket blocks orders"):
        build_app(context=LIVE)


def test_a_mode_other_than_paper_or_live_is_refused() -> None:
    with pytest.raises(ValueError, match="copytrader:mode must be paper or live, got 'real'"):
        build_app(context={CONTEXT_MODE: "real"}, region=RECOMMENDED_REGION)


def test_paper_mode_warns_outside_an_open_region_and_says_nothing_inside_one() -> None:
    assert check_region(RECOMMENDED_REGION, Mode.PAPER) is None
    assert check_region(RECOMMENDED_REGION, Mode.LIVE) is None
    for region in ("eu-west-2", "ap-southeast-1", None):
        warning = check_region(region, Mode.PAPER)
        assert warning is not None and "live trading would be refused there" in warning


def _warnings(stack: Any) -> list[str]:
    return [str(entry.data) for entry in stack.node.metadata if entry.type == "aws:cdk:warning"]


def test_paper_mode_deploys_to_a_blocked_region_with_a_warning_in_the_synth_output() -> None:
    _, stack = build_app(region="eu-west-2")
    (warning,) = _warnings(stack)
    assert warning.startswith("paper mode in eu-west-2 (London, GB): Polymarket blocks orders from there")
    assert stack.region == "eu-west-2"
    # and it stays paper: the copy functions are pinned whatever the settings parameter says
    pinned = {name: step.environment.get(MODE_ENV) for name, step in stack.pipeline.functions.items()}
    assert pinned == dict.fromkeys(("score", "size", "risk_check", "execute"), "paper")


def test_live_mode_builds_in_the_recommended_region_without_the_paper_pin() -> None:
    _, stack = build_app(context=LIVE, region=RECOMMENDED_REGION)
    assert _warnings(stack) == [] and stack.region == "eu-west-1" and stack.mode is Mode.LIVE
    assert all(MODE_ENV not in step.environment for step in stack.pipeline.functions.values())
