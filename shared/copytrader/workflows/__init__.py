"""The workflows, all of one shape.

A workflow is a folder here holding its state machine (`definition.asl.json`, Amazon States Language, the one
definition CDK deploys and local mode runs), one `steps` module (one function per Lambda state: parse the event,
load, call the pure domain, persist, return), and whatever pure helpers only it needs. Its Lambda entry points are
`functions/<workflow>_<step>/handler.py`: Powertools around one `steps` call (`copytrader.runtime.observability`),
with the dependencies from the one wiring module (`copytrader.workflows.wiring`).

    copy      score -> size -> risk_check -> execute, per whale fill (Express; SQS FIFO -> Pipe)
    scoring   discover -> Distributed Map of evidence -> select, daily (Standard; EventBridge Scheduler)
    books     settle resolved markets -> audit the account, hourly (Standard; EventBridge Scheduler)
    exits     scan positions for exits, every minute (one function; EventBridge Scheduler invokes it directly)

`Workflow` names each one's ${Placeholder} -> step table, which CDK and local mode fill with function ARNs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any


@dataclass(frozen=True)
class Workflow:
    name: str  # the folder here, and the prefix of its functions' folders
    functions: Mapping[str, str]  # ${Placeholder} in the definition -> the step whose function ARN fills it

    def function(self, step: str) -> str:
        """The function of `step`: its folder under functions/ and its name in local mode."""
        if step not in self.functions.values():
            raise KeyError(f"workflow {self.name} has no step {step!r}")
        return f"{self.name}_{step}"

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(self.functions.values())

    def handler_module(self, step: str) -> str:
        """The entry point's module name (`functions/<workflow>_<step>/handler.py`, the repository root on the path)."""
        return f"functions.{self.function(step)}.handler"

    def definition_path(self) -> str:
        """Filesystem path of the definition (for CDK's `DefinitionBody.from_file`)."""
        return str(files(__name__).joinpath(self.name, "definition.asl.json"))

    def definition_text(self) -> str:
        return files(__name__).joinpath(self.name, "definition.asl.json").read_text()

    def definition(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.definition_text())
        return loaded

    def render(self, substitutions: Mapping[str, str]) -> str:
        """The definition with every ${Placeholder} replaced; raises if one is left unfilled."""
        text = self.definition_text()
        for key, value in substitutions.items():
            text = text.replace("${" + key + "}", value)
        if "${" in text:
            missing = sorted({part.split("}")[0] for part in text.split("${")[1:]})
            raise KeyError(f"unfilled placeholders in {self.name}: {missing}")
        json.loads(text)
        return text


COPY = Workflow(
    "copy",
    {
        "ScoreFunctionArn": "score",
        "SizeFunctionArn": "size",
        "RiskCheckFunctionArn": "risk_check",
        "ExecuteFunctionArn": "execute",
    },
)

SCORING = Workflow(
    "scoring",
    {
        "DiscoverFunctionArn": "discover",
        "EvidenceFunctionArn": "evidence",
        "SelectFunctionArn": "select",
    },
)
SCORING_BUCKET = "ScoringBucket"  # placeholder: the bucket the Map's ItemReader reads the batches from
SCORING_ALERT_TOPIC = "AlertTopicArn"  # placeholder: the topic Notify publishes a changed copied set to
# placeholder: the Distributed Map's child execution type. EXPRESS in AWS (CDK); moto 5.2.5's ASL grammar accepts
# only STANDARD there, so local mode fills in STANDARD (the one difference between the two renderings).
SCORING_CHILD_EXECUTION_TYPE = "MapChildExecutionType"
SCORING_CHILD_EXECUTION_TYPE_AWS = "EXPRESS"
SCORING_CHILD_EXECUTION_TYPE_LOCAL = "STANDARD"

BOOKS = Workflow(
    "books", {"SettleFunctionArn": "settle", "AuditFunctionArn": "audit", "VenueSyncFunctionArn": "venue_sync"}
)

WORKFLOWS: tuple[Workflow, ...] = (COPY, SCORING, BOOKS)

# The exits job: one function (`functions/exits_scan`, `workflows/exits/steps.scan`) that EventBridge Scheduler
# invokes every minute, with no state machine (one step: a Standard execution a minute would cost more than the
# function). It names its function like a workflow's step; it is not in WORKFLOWS, which lists state machines.
EXITS = Workflow("exits", {"ScanFunctionArn": "scan"})
