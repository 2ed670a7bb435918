"""Where the stack may trade: Polymarket's geoblock mapped onto AWS regions, checked when the app is built.

Polymarket refuses orders by the IP's country (docs.polymarket.com/api-reference/geoblock, read 2026-12-07; the
team's handbook has no geoblock section, and that page changes: the execute function's live preflight asks
`GET /api/geoblock` from the deployed IP at every cold start, which stays the authority). Blocked: no orders at
all. Close-only: positions may be closed, none opened, so a copy trader cannot work there. The docs name
eu-west-1 (Ireland) as the closest region that is not restricted (the CLOB's primary servers are in eu-west-2,
London, which is blocked), so it is the region this project deploys to and tests for.

A region's country is where its data centres are (the AWS region's name says it); a geolocation database can
place an AWS address elsewhere, which the preflight would catch. Sub-national blocks count where a region sits in
one (Ontario, CA-ON: Canada's regions are in Quebec and Alberta). Regions of the isolated partitions (aws-iso*)
cannot reach Polymarket and are not listed; an unlisted region is `UNKNOWN`.

`check_region` is what `application.build_app` runs before building the stack: live mode is refused, with the
reason, in a blocked, close-only or unknown region and when no region was chosen (an environment-agnostic stack
deploys wherever the CLI points); paper mode deploys anywhere and gets a warning in the synth output instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from copytrader.settings import Mode

GEOBLOCK_DOCS = "https://docs.polymarket.com/api-reference/geoblock"
RECOMMENDED_REGION = "eu-west-1"  # the docs' closest non-georestricted region to the CLOB (eu-west-2)

# ISO 3166-1 alpha-2, as the docs list them
BLOCKED_COUNTRIES = frozenset(
    {
        *("AU", "BE", "BY", "BI", "CF", "CD", "CU", "DE", "ET", "FR", "GB", "IR", "IQ", "IT", "KP", "LB", "LY"),
        *("MM", "NI", "NL", "RU", "SO", "SS", "SD", "SY", "UM", "US", "VE", "YE", "ZW"),
    }
)
CLOSE_ONLY_COUNTRIES = frozenset({"PL", "SG", "TH", "TW"})
BLOCKED_SUBDIVISIONS = frozenset({"CA-ON", "UA-43", "UA-14", "UA-09"})  # ISO 3166-2: Ontario, Crimea, Donetsk, Luhansk


@dataclass(frozen=True)
class Location:
    country: str  # ISO 3166-1 alpha-2
    place: str
    subdivision: str | None = None  # ISO 3166-2, where a block is sub-national


# Every region of the aws, aws-cn, aws-us-gov and aws-eusc partitions that botocore 1.44 knows. There is no region
# in Poland (none in botocore's list or in aws-cdk-lib 2.275's RegionInfo).
REGION_LOCATIONS: Mapping[str, Location] = {
    "af-south-1": Location("ZA", "Cape Town"),
    "ap-east-1": Location("HK", "Hong Kong"),
    "ap-east-2": Location("TW", "Taipei"),
    "ap-northeast-1": Location("JP", "Tokyo"),
    "ap-northeast-2": Location("KR", "Seoul"),
    "ap-northeast-3": Location("JP", "Osaka"),
    "ap-south-1": Location("IN", "Mumbai"),
    "ap-south-2": Location("IN", "Hyderabad"),
    "ap-southeast-1": Location("SG", "Singapore"),
    "ap-southeast-2": Location("AU", "Sydney"),
    "ap-southeast-3": Location("ID", "Jakarta"),
    "ap-southeast-4": Location("AU", "Melbourne"),
    "ap-southeast-5": Location("MY", "Malaysia"),
    "ap-southeast-6": Location("NZ", "New Zealand"),
    "ap-southeast-7": Location("TH", "Thailand"),
    "ca-central-1": Location("CA", "Montreal", "CA-QC"),
    "ca-west-1": Location("CA", "Calgary", "CA-AB"),
    "cn-north-1": Location("CN", "Beijing"),
    "cn-northwest-1": Location("CN", "Ningxia"),
    "eu-central-1": Location("DE", "Frankfurt"),
    "eu-central-2": Location("CH", "Zurich"),
    "eu-north-1": Location("SE", "Stockholm"),
    "eu-south-1": Location("IT", "Milan"),
    "eu-south-2": Location("ES", "Spain"),
    "eu-west-1": Location("IE", "Ireland"),
    "eu-west-2": Location("GB", "London"),
    "eu-west-3": Location("FR", "Paris"),
    "eusc-de-east-1": Location("DE", "European Sovereign Cloud, Brandenburg"),
    "il-central-1": Location("IL", "Tel Aviv"),
    "me-central-1": Location("AE", "UAE"),
    "me-south-1": Location("BH", "Bahrain"),
    "me-west-1": Location("SA", "Saudi Arabia"),
    "mx-central-1": Location("MX", "Mexico"),
    "sa-east-1": Location("BR", "Sao Paulo"),
    "sa-west-1": Location("CL", "Chile"),
    "us-east-1": Location("US", "N. Virginia"),
    "us-east-2": Location("US", "Ohio"),
    "us-gov-east-1": Location("US", "GovCloud East"),
    "us-gov-west-1": Location("US", "GovCloud West"),
    "us-west-1": Location("US", "N. California"),
    "us-west-2": Location("US", "Oregon"),
}


class Access(StrEnum):
    OPEN = "open"
    CLOSE_ONLY = "close-only"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"  # not in REGION_LOCATIONS
    UNRESOLVED = "unresolved"  # no region chosen (an environment-agnostic stack)


class RegionRefused(ValueError):
    """Live trading asked for in a region Polymarket would not let it trade from."""


def access(region: str | None) -> Access:
    """What Polymarket lets an order from `region` do; None (or a CDK token) is a region not chosen."""
    if region is None or "${Token" in region:
        return Access.UNRESOLVED
    location = REGION_LOCATIONS.get(region)
    if location is None:
        return Access.UNKNOWN
    if location.country in BLOCKED_COUNTRIES or location.subdivision in BLOCKED_SUBDIVISIONS:
        return Access.BLOCKED
    if location.country in CLOSE_ONLY_COUNTRIES:
        return Access.CLOSE_ONLY
    return Access.OPEN


def describe(region: str | None) -> str:
    if region is None or "${Token" in region:
        return "no region (an environment-agnostic stack deploys wherever the CLI points)"
    location = REGION_LOCATIONS.get(region)
    return f"{region} ({location.place}, {location.country})" if location else f"{region} (not in the region map)"


_WHY = {
    Access.BLOCKED: "Polymarket blocks orders from there",
    Access.CLOSE_ONLY: "Polymarket lets accounts there only close positions, so no copy can be opened",
    Access.UNKNOWN: "its country is not known here, so Polymarket's geoblock cannot be checked "
    "(add it to copytrader_infra.region.REGION_LOCATIONS)",
    Access.UNRESOLVED: "a live stack must name its region, so it can be checked against Polymarket's geoblock "
    "(run the CLI with a region configured: it passes CDK_DEFAULT_REGION)",
}


def check_region(region: str | None, mode: Mode) -> str | None:
    """None where `mode` may deploy without remark; a warning for paper mode outside an open region; raises
    `RegionRefused` for live mode outside one."""
    verdict = access(region)
    if verdict is Access.OPEN:
        return None
    where = describe(region)
    if mode is Mode.LIVE:
        raise RegionRefused(
            f"live mode refused in {where}: {_WHY[verdict]} ({GEOBLOCK_DOCS}). "
            f"Deploy live to {RECOMMENDED_REGION}, the closest region Polymarket allows."
        )
    return (
        f"paper mode in {where}: {_WHY[verdict]}; fine for paper trading, but live trading would be refused "
        f"there. {RECOMMENDED_REGION} is the closest region Polymarket allows."
    )
