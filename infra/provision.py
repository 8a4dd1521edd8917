"""Create City Brain's data resources from infra/resources.json on an (emulated) AWS.

The same definitions go into the cloud template. moto's CloudFormation ignores
bucket notifications and TTL, so those two are read from the same definitions
and applied through the API afterwards.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from citybrain.core.config import env_name

RESOURCES = Path(__file__).with_name("resources.json")


def load_resources() -> dict:
    return json.loads(RESOURCES.read_text())


# (service) -> its client, made once per provisioning (a client costs ~10 ms: each test's stack made a dozen)
_Clients = Callable[[str], Any]


def provision(stack_name: str = "citybrain-local") -> dict[str, str]:
    """Create (or reuse) the stack; returns the CITYBRAIN_* environment for the functions."""
    template = load_resources()
    client: _Clients = functools.cache(boto3.client)
    cfn = client("cloudformation")
    try:
        cfn.describe_stacks(StackName=stack_name)
    except cfn.exceptions.ClientError:
        cfn.create_stack(StackName=stack_name, TemplateBody=json.dumps(template))
        cfn.get_waiter("stack_create_complete").wait(
            StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
        if "LogicalResourceId" in r
    }  # moto lists resource types it skipped without ids
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName=stack_name)["Stacks"][0].get("Outputs", [])
    }
    _apply_what_cloudformation_ignored(template, physical, outputs, client)
    return {env_name(key): value for key, value in outputs.items()}


def _queue_arn(queue_url: str, client: _Clients) -> str:
    return client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _resolve(value, physical: dict[str, str], outputs: dict[str, str], client: _Clients):
    """The few intrinsics the ignored properties use: Ref and Fn::GetAtt of queues."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            if value["Ref"] == "AWS::AccountId":
                return client("sts").get_caller_identity()["Account"]
            return outputs.get(value["Ref"]) or physical[value["Ref"]]
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            assert attribute == "Arn", attribute
            return _queue_arn(outputs.get(logical_id) or physical[logical_id], client)
        return {k: _resolve(v, physical, outputs, client) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, physical, outputs, client) for v in value]
    return value


def _apply_what_cloudformation_ignored(
    template: dict, physical: dict[str, str], outputs: dict[str, str], client: _Clients
) -> None:
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::SQS::QueuePolicy":
            policy = json.dumps(_resolve(props["PolicyDocument"], physical, outputs, client))
            for queue_url in _resolve(props["Queues"], physical, outputs, client):
                client("sqs").set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": policy})
        if resource["Type"] == "AWS::DynamoDB::Table" and "TimeToLiveSpecification" in props:
            client("dynamodb").update_time_to_live(
                TableName=physical[logical_id], TimeToLiveSpecification=props["TimeToLiveSpecification"]
            )
        if resource["Type"] == "AWS::S3::Bucket" and "ObjectLockConfiguration" in props:
            _lock_bucket(physical[logical_id], props["ObjectLockConfiguration"], template.get("Parameters", {}), client)
        if resource["Type"] == "AWS::S3::Bucket" and "NotificationConfiguration" in props:
            queues = []
            for config in props["NotificationConfiguration"].get("QueueConfigurations", []):
                queues.append(
                    {"QueueArn": _resolve(config["Queue"], physical, outputs, client), "Events": [config["Event"]]}
                )
            client("s3").put_bucket_notification_configuration(
                Bucket=physical[logical_id], NotificationConfiguration={"QueueConfigurations": queues}
            )


def _lock_bucket(bucket: str, config: dict, parameters: dict, client: _Clients) -> None:
    """Object Lock, which moto's CloudFormation ignores: versioning, then the default retention
    (its days a template parameter: locally the parameter's default)."""
    retention = dict(config["Rule"]["DefaultRetention"])
    for unit in ("Days", "Years"):
        value = retention.get(unit)
        if isinstance(value, dict) and set(value) == {"Ref"}:
            retention[unit] = int(parameters[value["Ref"]]["Default"])
    s3 = client("s3")
    try:
        if s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"].get("ObjectLockEnabled"):
            return  # a stack provisioned before (a restart): the lock is set, and cannot be set twice
    except s3.exceptions.ClientError:
        pass
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}},
    )
