"""The emulator reads a JSON template with json.loads (infra/moto_fixes.py) and any other
template as moto does: the same stack either way."""

from __future__ import annotations

import json

import boto3
import pytest
import yaml

from infra import moto_fixes
from infra.provision import load_resources


@pytest.fixture
def cloudformation(bare_aws):
    return boto3.client("cloudformation", region_name="ap-east-1")


def _resources(cfn, stack: str) -> set[str]:
    return {r["LogicalResourceId"] for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}


def test_city_brains_template_reads_the_same_without_yaml(monkeypatch):
    from moto.cloudformation import models

    moto_fixes.apply()
    text = json.dumps(load_resources())
    expected = yaml.safe_load(text)

    def no_yaml(*_, **__):
        raise AssertionError("a JSON template went through PyYAML")

    monkeypatch.setattr(models.yaml, "load", no_yaml)
    assert models.Stack.parse_template(text) == expected


@pytest.mark.parametrize(
    "template",
    [
        '{"Resources": {"Alerts": {"Type": "AWS::SQS::Queue"}}}',
        "Resources:\n  Alerts:\n    Type: AWS::SQS::Queue\n",
        # YAML in flow style starts with a brace too, and is not JSON (unquoted keys)
        "{Resources: {Alerts: {Type: 'AWS::SQS::Queue'}}}",
    ],
    ids=["json", "yaml", "yaml-flow"],
)
def test_a_stack_is_created_from_json_and_from_yaml(cloudformation, template):
    cloudformation.create_stack(StackName="templates", TemplateBody=template)
    assert _resources(cloudformation, "templates") == {"Alerts"}


def test_a_change_set_reads_its_template_too(cloudformation):
    cloudformation.create_change_set(
        StackName="changed",
        ChangeSetName="first",
        ChangeSetType="CREATE",
        TemplateBody='{"Resources": {"Alerts": {"Type": "AWS::SQS::Queue"}}}',
    )
    changes = cloudformation.describe_change_set(StackName="changed", ChangeSetName="first")["Changes"]
    assert [c["ResourceChange"]["LogicalResourceId"] for c in changes] == ["Alerts"]
