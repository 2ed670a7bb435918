"""State machine definitions (Amazon States Language), each defined once and used by CDK and local mode."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

COPY_PIPELINE = "copy_pipeline"

# ${Name} placeholders in copy_pipeline.asl.json -> the function each one names
COPY_PIPELINE_FUNCTIONS: dict[str, str] = {
    "ScoreFunctionArn": "score",
    "SizeFunctionArn": "size",
    "RiskCheckFunctionArn": "risk_check",
    "ExecuteFunctionArn": "execute",
}

SCORING = "scoring"

# ${Name} placeholders in scoring.asl.json -> the function each one names
SCORING_FUNCTIONS: dict[str, str] = {
    "DiscoverFunctionArn": "whales_discover",
    "EvidenceFunctionArn": "whales_evidence",
    "SelectFunctionArn": "whales_select",
}
SCORING_BUCKET = "ScoringBucket"  # placeholder: the bucket the Map's ItemReader reads the batches from
SCORING_ALERT_TOPIC = "AlertTopicArn"  # placeholder: the topic Notify publishes a changed copied set to
# placeholder: the Distributed Map's child execution type. EXPRESS in AWS (CDK); moto 5.2.5's ASL grammar accepts
# only STANDARD there, so local mode fills in STANDARD (the one difference between the two renderings).
SCORING_CHILD_EXECUTION_TYPE = "MapChildExecutionType"
SCORING_CHILD_EXECUTION_TYPE_AWS = "EXPRESS"
SCORING_CHILD_EXECUTION_TYPE_LOCAL = "STANDARD"


def definition_path(name: str = COPY_PIPELINE) -> str:
    """Filesystem path of a definition (for CDK's `DefinitionBody.from_file`)."""
    return str(files(__name__).joinpath(f"{name}.asl.json"))


def definition_text(name: str = COPY_PIPELINE) -> str:
    return files(__name__).joinpath(f"{name}.asl.json").read_text()


def render(substitutions: dict[str, str], name: str = COPY_PIPELINE) -> str:
    """The definition with every ${Placeholder} replaced; raises if one is left unfilled."""
    text = definition_text(name)
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value)
    if "${" in text:
        missing = sorted({part.split("}")[0] for part in text.split("${")[1:]})
        raise KeyError(f"unfilled placeholders in {name}: {missing}")
    json.loads(text)
    return text


def definition(name: str = COPY_PIPELINE) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(definition_text(name))
    return loaded
