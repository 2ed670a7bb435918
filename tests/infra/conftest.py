"""Infra tier: the app is synthesized once per session (with cdk-nag on) for the region the project deploys to
(`copytrader_infra.region.RECOMMENDED_REGION`, eu-west-1) and every test reads that assembly.

Synthesis is the expensive step (5-9 s); the tests then read the template as plain JSON. The layers come
from the .build/ cache, so only the very first run on a machine needs PyPI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "infra"))  # copytrader_infra is an app package, not an installed one


@dataclass(frozen=True)
class Synthesized:
    """The synthesized cloud assembly and the stack object it came from (for logical ids)."""

    outdir: Path
    stack: Any  # copytrader_infra.stack.CopyTraderStack
    template: dict[str, Any]

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{self.stack.stack_name}.template.json"

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        return resources

    def logical_id(self, construct: Any) -> str:
        """Logical id of an L2 construct's CloudFormation resource (or of an L1 itself)."""
        element = getattr(construct.node, "default_child", None) or construct
        resolved: str = self.stack.resolve(self.stack.get_logical_id(element))
        return resolved

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res["Type"] == resource_type}

    def read_json(self, name: str) -> Any:
        return json.loads((self.outdir / name).read_text())

    def identity_statements(self) -> list[tuple[str, dict[str, Any]]]:
        """(role logical id, statement) for every identity-policy statement: policies and inline role policies."""
        found: list[tuple[str, dict[str, Any]]] = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            for role in policy["Properties"].get("Roles", []):
                found.extend((role["Ref"], s) for s in policy["Properties"]["PolicyDocument"]["Statement"])
        for role_id, role in self.of_type("AWS::IAM::Role").items():
            for inline in role["Properties"].get("Policies", []):
                found.extend((role_id, s) for s in inline["PolicyDocument"]["Statement"])
        return found

    def role_statements(self, role_logical_id: str) -> list[dict[str, Any]]:
        return [statement for role, statement in self.identity_statements() if role == role_logical_id]

    @staticmethod
    def as_list(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value]

    @staticmethod
    def flat(value: Any) -> str:
        """A string or an `Fn::Join` of strings, `Ref`s (`<Name>`) and `Fn::GetAtt`s (`<Id.Attr>`) as one string."""
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and set(value) == {"Ref"}:
            return f"<{value['Ref']}>"
        if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
            return "<{}.{}>".format(*value["Fn::GetAtt"])
        if isinstance(value, dict) and set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return str(separator).join(Synthesized.flat(part) for part in parts)
        raise ValueError(f"not a flat string value: {value!r}")

    @staticmethod
    def mentions(value: Any, logical_id: str) -> bool:
        """Whether a (possibly intrinsic) CloudFormation value refers to the resource `logical_id`."""
        return f'"{logical_id}"' in json.dumps(value)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    from copytrader_infra.application import build_app
    from copytrader_infra.region import RECOMMENDED_REGION

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(outdir=str(outdir), region=RECOMMENDED_REGION)
    app.synth()  # raises ValidationFailed on any unacknowledged cdk-nag finding
    template = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    yield Synthesized(outdir=outdir, stack=stack, template=template)
