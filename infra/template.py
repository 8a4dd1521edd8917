"""The merge template that `chalice package` folds into its SAM template.

Generated, never edited: from infra/resources.json (every data resource, the one
source of truth the local stack also provisions from), infra/permissions.py
(what each function may do) and the functions the Chalice app declares. It adds:

- the data resources and their outputs, tables and buckets kept on stack deletion;
- per function: a fixed name, its own log group, every resource's name/URL/ARN as
  CITYBRAIN_* variables (citybrain.core.config reads them), and a role granting only
  what permissions.py lists, on those resources' ARNs;
- per SQS trigger: the real queue instead of the `citybrain-<name>` placeholder
  and ReportBatchItemFailures (Chalice has no setting for it);
- alarms on every dead-letter queue's depth and every function's errors, sent to
  OpsAlarmsTopic (optionally mailed to the AlarmEmail parameter).

Chalice's deep merge merges dicts and replaces lists, so everything set here
wins over what Chalice generates. Names of Chalice's resources are computed the
way Chalice computes them; `check` verifies the merged result, so a rename in
Chalice fails the build instead of shipping a half-wired template.

    python -m infra.template write --stage prod --out build/prod/merge-template.json
    python -m infra.template check build/prod/sam.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from citybrain.core.config import env_name
from infra.permissions import ACCESS, LOG_WRITER, QUEUE_CONSUMER
from infra.queues import queue_logical_id, queue_name_of

RESOURCES = Path(__file__).with_name("resources.json")
CHALICE_CONFIG = Path(__file__).resolve().parents[1] / "chalice.json"
ALARMS_TOPIC = "OpsAlarmsTopic"
# Cybersecurity Law of the PRC, art. 21: network logs are kept at least six months.
LOG_RETENTION_DAYS = 180
STATEFUL = {"AWS::DynamoDB::Table", "AWS::S3::Bucket"}


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Function:
    """One Lambda function of the app, named as Chalice names its resources."""

    name: str  # Chalice's name: api_handler, process_readings…
    logical_id: str  # its AWS::Serverless::Function
    queue: str | None = None  # logical id of the queue that triggers it
    event_id: str | None = None  # its SQS event inside the function

    @property
    def role_id(self) -> str:
        return to_cfn_resource_name(f"{self.name}_role")

    @property
    def log_group_id(self) -> str:
        return to_cfn_resource_name(f"{self.name}-log-group")

    @property
    def physical_name(self) -> str:
        """A fixed name, so the role can name the log group without a circular reference."""
        return f"${{AWS::StackName}}-{self.name}"


def load_resources() -> dict[str, Any]:
    return json.loads(RESOURCES.read_text())


def app_functions() -> list[Function]:
    """The functions `chalice package` will generate for app.py."""
    from chalice.app import SQSEventConfig

    from app import app

    functions = [Function("api_handler", "APIHandler")] if app.routes else []
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            queue = queue_logical_id(queue_name_of(source.queue, source.queue_arn))
            functions.append(
                Function(
                    source.name,
                    to_cfn_resource_name(source.name),
                    queue,
                    to_cfn_resource_name(f"{source.name}-sqs-event-source"),
                )
            )
        else:  # schedules and the like: no event to rewire, but a role, logs and alarms all the same
            functions.append(Function(source.name, to_cfn_resource_name(source.name)))
    functions += [Function(f.name, to_cfn_resource_name(f.name)) for f in app.pure_lambda_functions]
    return functions


# -- IAM ---------------------------------------------------------------------
def _sid(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", "".join(p.title() if p.islower() else p for p in parts))


def _statements(target: str, actions: list[str], resources: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements granting `actions` on one entry of permissions.py, scoped to its ARN."""
    logical_id, _, key_pattern = target.partition("/")
    if logical_id not in resources:
        raise TemplateError(f"permissions.py names {logical_id}, which infra/resources.json does not define")
    if any("*" in action for action in actions):
        raise TemplateError(f"permissions.py grants a wildcard action on {target}: {actions}")
    kind = resources[logical_id]["Type"]
    props = resources[logical_id].get("Properties", {})
    arn: dict[str, Any] = {"Fn::GetAtt": [logical_id, "Arn"]}
    if kind == "AWS::S3::Bucket":
        bucket_actions = [a for a in actions if a.startswith("s3:ListBucket")]
        object_actions = [a for a in actions if a not in bucket_actions]
        out = []
        if bucket_actions:
            out.append({"Sid": _sid(logical_id), "Effect": "Allow", "Action": bucket_actions, "Resource": arn})
        if object_actions:
            out.append(
                {
                    "Sid": _sid(logical_id, "Objects", key_pattern),
                    "Effect": "Allow",
                    "Action": object_actions,
                    "Resource": {"Fn::Sub": f"${{{logical_id}.Arn}}/{key_pattern or '*'}"},
                }
            )
        return out
    if key_pattern:
        raise TemplateError(f"{target}: only buckets take a key pattern")
    if kind == "AWS::SNS::Topic":
        arn = {"Ref": logical_id}
    resource: Any = arn
    if (
        kind == "AWS::DynamoDB::Table"
        and (props.get("GlobalSecondaryIndexes") or props.get("LocalSecondaryIndexes"))
        and {"dynamodb:Query", "dynamodb:Scan"} & set(actions)
    ):
        resource = [arn, {"Fn::Sub": f"${{{logical_id}.Arn}}/index/*"}]
    return [{"Sid": _sid(logical_id), "Effect": "Allow", "Action": actions, "Resource": resource}]


def role_policy(function: Function, resources: dict[str, Any]) -> dict[str, Any]:
    if function.name not in ACCESS:
        raise TemplateError(
            f"function {function.name} has no entry in infra/permissions.py: "
            "say what it may do there (an empty dict if nothing)"
        )
    statements = [
        {
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": LOG_WRITER,
            "Resource": {"Fn::GetAtt": [function.log_group_id, "Arn"]},
        }
    ]
    if function.queue:
        statements.append(
            {
                "Sid": _sid("Consume", function.queue),
                "Effect": "Allow",
                "Action": QUEUE_CONSUMER,
                "Resource": {"Fn::GetAtt": [function.queue, "Arn"]},
            }
        )
    for target, actions in ACCESS[function.name].items():
        statements += _statements(target, actions, resources)
    sids = [s["Sid"] for s in statements]
    if len(sids) != len(set(sids)):
        raise TemplateError(f"{function.name}: two permissions.py entries give the same statement id {sids}")
    return {"Version": "2012-10-17", "Statement": statements}


# -- alarms ------------------------------------------------------------------
def dead_letter_queues(resources: dict[str, Any]) -> list[str]:
    """Queues that some queue's RedrivePolicy parks failed messages in."""
    found = []
    for resource in resources.values():
        target = resource.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")
        if isinstance(target, dict) and "Fn::GetAtt" in target:
            found.append(target["Fn::GetAtt"][0])
    return sorted(set(found))


def _alarm(description: str, namespace: str, metric: str, dimension: dict[str, Any], statistic: str) -> dict:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [dimension],
            "Statistic": statistic,
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": ALARMS_TOPIC}],
            "OKActions": [{"Ref": ALARMS_TOPIC}],
        },
    }


def alarms(functions: list[Function], resources: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for queue in dead_letter_queues(resources):
        out[f"{queue}DepthAlarm"] = _alarm(
            f"Messages parked in {queue}: they failed every retry and wait for an operator "
            "(inspect, fix, then redrive them).",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}},
            "Maximum",
        )
    for function in functions:
        out[f"{function.logical_id}ErrorsAlarm"] = _alarm(
            f"{function.name} failed invocations (unhandled errors, timeouts, out of memory).",
            "AWS/Lambda",
            "Errors",
            {"Name": "FunctionName", "Value": {"Ref": function.logical_id}},
            "Sum",
        )
    return out


# -- the government network --------------------------------------------------
# A stage whose API Chalice makes PRIVATE (chalice.json: api_gateway_endpoint_type) is
# reached over the government extranet (政务外网) through VPC endpoints the operator
# names at deploy time, never from the internet: its API admits only the execute-api
# interface endpoint, its buckets only the S3 endpoint.
API_ENDPOINT_PARAMETER = "ApiVpcEndpointId"
S3_ENDPOINT_PARAMETER = "S3VpcEndpointId"
VPC_ENDPOINT_ID = "^vpce-[0-9a-f]{8,17}$"
# The object and listing actions a bucket policy holds to the endpoint. Configuring
# the bucket is left out: CloudFormation's updates of it come from no endpoint.
BUCKET_DATA_ACTIONS = [
    "s3:GetObject*",
    "s3:PutObject*",
    "s3:DeleteObject*",
    "s3:ListBucket*",
    "s3:ListMultipartUploadParts",
    "s3:AbortMultipartUpload",
    "s3:RestoreObject",
]


def stage_config(stage: str | None) -> dict[str, Any]:
    """chalice.json's settings for a stage, the stage's own over the top level's."""
    config = json.loads(CHALICE_CONFIG.read_text())
    top = {k: v for k, v in config.items() if k not in ("stages", "lambda_functions")}
    return {**top, **config.get("stages", {}).get(stage or "", {})}


def is_private(stage: str | None) -> bool:
    return stage_config(stage).get("api_gateway_endpoint_type") == "PRIVATE"


def api_policy() -> dict[str, Any]:
    """The private API's resource policy: invoked through the extranet's endpoint, and only so.
    `execute-api:/*` is API Gateway's own name for every method of this API, in any partition."""
    endpoint = {"Ref": API_ENDPOINT_PARAMETER}
    invoke = {"Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "NotThroughTheExtranetEndpoint", "Effect": "Deny", **invoke}
            | {"Condition": {"StringNotEquals": {"aws:SourceVpce": endpoint}}},
            {"Sid": "ThroughTheExtranetEndpoint", "Effect": "Allow", **invoke}
            | {"Condition": {"StringEquals": {"aws:SourceVpce": endpoint}}},
        ],
    }


def bucket_policy(bucket: str, functions: list[Function]) -> dict[str, Any]:
    """Objects of the bucket are read and written through the extranet's S3 endpoint.

    Two exceptions keep the platform working, each no wider than it must be: the
    roles of the functions that permissions.py lets use the bucket reach it from
    Lambda's network (their own policies still bound what they do), but a URL one of
    them presigns (an upload PUT, a report link: what departments and officials
    hold) is accepted only through the endpoint."""
    endpoint = {"Ref": S3_ENDPOINT_PARAMETER}
    resources = [{"Fn::GetAtt": [bucket, "Arn"]}, {"Fn::Sub": f"${{{bucket}.Arn}}/*"}]
    roles = [
        {"Fn::GetAtt": [function.role_id, "Arn"]}
        for function in functions
        if any(target.partition("/")[0] == bucket for target in ACCESS.get(function.name, {}))
    ]
    outside: dict[str, Any] = {"StringNotEquals": {"aws:sourceVpce": endpoint}}
    if roles:
        outside["ArnNotEquals"] = {"aws:PrincipalArn": roles}
    deny = {"Effect": "Deny", "Principal": "*", "Action": BUCKET_DATA_ACTIONS, "Resource": resources}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "OnlyThroughTheExtranetEndpoint", **deny, "Condition": outside},
            {
                "Sid": "PresignedOnlyThroughTheExtranetEndpoint",
                **deny,
                "Condition": {
                    "StringEquals": {"s3:authType": "REST-QUERY-STRING"},
                    "StringNotEquals": {"aws:sourceVpce": endpoint},
                },
            },
        ],
    }


def government_network(stage: str | None, functions: list[Function], resources: dict[str, Any]) -> dict[str, Any]:
    """Parameters, resources and outputs that make a PRIVATE stage's API and buckets extranet-only."""
    api_stage = stage_config(stage).get("api_gateway_stage", "api")
    merged: dict[str, Any] = {
        # Chalice writes EndpointConfiguration as the bare type and a policy naming
        # api_gateway_endpoint_vpce literally; the endpoint is a parameter here instead.
        "RestAPI": {
            "Properties": {
                "EndpointConfiguration": {"Type": "PRIVATE", "VPCEndpointIds": [{"Ref": API_ENDPOINT_PARAMETER}]},
                "DefinitionBody": {"x-amazon-apigateway-policy": api_policy()},
            }
        }
    }
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::S3::Bucket":
            merged[f"{logical_id}Policy"] = {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": {"Ref": logical_id}, "PolicyDocument": bucket_policy(logical_id, functions)},
            }
    return {
        "Parameters": {
            API_ENDPOINT_PARAMETER: {
                "Type": "String",
                "AllowedPattern": VPC_ENDPOINT_ID,
                "Description": "The VPC interface endpoint (execute-api) the government extranet reaches the API "
                "through; the private API admits no other caller.",
            },
            S3_ENDPOINT_PARAMETER: {
                "Type": "String",
                "AllowedPattern": VPC_ENDPOINT_ID,
                "Description": "The VPC endpoint for S3 the extranet reaches the buckets through (presigned uploads, "
                "report links); the buckets admit objects' reads and writes through no other way.",
            },
        },
        "Resources": merged,
        "Outputs": {
            # The API's name on the endpoint (resolvable wherever the endpoint is, without private DNS).
            "ExtranetEndpointURL": {
                "Value": {
                    "Fn::Sub": f"https://${{RestAPI}}-${{{API_ENDPOINT_PARAMETER}}}.execute-api.${{AWS::Region}}"
                    f".${{AWS::URLSuffix}}/{api_stage}/"
                }
            }
        },
    }


# -- the template ------------------------------------------------------------
def build(functions: list[Function] | None = None, stage: str | None = None) -> dict[str, Any]:
    """The merge template for `stage` (chalice.json's stage settings decide a private API)."""
    functions = app_functions() if functions is None else functions
    data = load_resources()
    resources: dict[str, Any] = data["Resources"]
    outputs: dict[str, Any] = data.get("Outputs", {})
    environment = {env_name(logical_id): output["Value"] for logical_id, output in outputs.items()}

    merged: dict[str, Any] = {}
    for logical_id, resource in resources.items():
        merged[logical_id] = dict(resource)
        if resource["Type"] in STATEFUL:  # a deleted stack must not take the district's data with it
            merged[logical_id].update(DeletionPolicy="Retain", UpdateReplacePolicy="Retain")

    for function in functions:
        if function.queue and resources.get(function.queue, {}).get("Type") != "AWS::SQS::Queue":
            raise TemplateError(
                f"{function.name} is triggered by {function.queue}, "
                "which infra/resources.json does not define as a queue"
            )
        properties: dict[str, Any] = {
            "FunctionName": {"Fn::Sub": function.physical_name},
            "Environment": {"Variables": dict(environment)},
        }
        if function.event_id:
            # Chalice's Queue is {"Fn::Sub": "arn:…:citybrain-<name>"}; the deep merge would keep that
            # key beside a GetAtt, so the real ARN goes in as the same Fn::Sub key, replacing it.
            properties["Events"] = {
                function.event_id: {
                    "Properties": {
                        "Queue": {"Fn::Sub": f"${{{function.queue}.Arn}}"},
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    }
                }
            }
        merged[function.logical_id] = {"DependsOn": [function.log_group_id], "Properties": properties}
        merged[function.log_group_id] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": {"Fn::Sub": f"/aws/lambda/{function.physical_name}"},
                "RetentionInDays": LOG_RETENTION_DAYS,
            },
        }
        merged[function.role_id] = {
            "Properties": {
                "Policies": [
                    {"PolicyName": f"{function.role_id}Policy", "PolicyDocument": role_policy(function, resources)}
                ]
            }
        }

    merged[ALARMS_TOPIC] = {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "City Brain operations alarms"}}
    merged["OpsAlarmsEmail"] = {
        "Type": "AWS::SNS::Subscription",
        "Condition": "HasAlarmEmail",
        "Properties": {"TopicArn": {"Ref": ALARMS_TOPIC}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
    }
    merged.update(alarms(functions, resources))
    network = government_network(stage, functions, resources) if is_private(stage) else {}
    merged.update(network.get("Resources", {}))

    return {
        "Parameters": {
            **data.get("Parameters", {}),  # the operator's settings of the data resources (AnchorRetentionDays)
            "AlarmEmail": {
                "Type": "String",
                "Default": "",
                "Description": (
                    "Address that receives operations alarms (dead-letter queues, function errors); empty for none."
                ),
            },
            **network.get("Parameters", {}),
        },
        "Conditions": {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}},
        "Resources": merged,
        "Outputs": {**outputs, ALARMS_TOPIC: {"Value": {"Ref": ALARMS_TOPIC}}, **network.get("Outputs", {})},
    }


def check(template: dict[str, Any], functions: list[Function] | None = None) -> list[str]:
    """Problems of a merged template that a wrong Chalice resource name would cause."""
    functions = app_functions() if functions is None else functions
    problems = [
        f"{name} has no Type: the merge template addressed a resource Chalice did not generate"
        for name, resource in template["Resources"].items()
        if "Type" not in resource
    ]
    for function in functions:
        resource = template["Resources"].get(function.logical_id, {})
        if resource.get("Type") != "AWS::Serverless::Function":
            problems.append(f"function {function.name}: no {function.logical_id} in the template")
            continue
        if resource["Properties"].get("Role") != {"Fn::GetAtt": [function.role_id, "Arn"]}:
            problems.append(f"function {function.name} does not use the role {function.role_id}")
        for name, event in resource["Properties"].get("Events", {}).items():
            if "Type" not in event:
                problems.append(f"{function.logical_id}: event {name} has no Type (wrong event name?)")
            elif event["Type"] == "SQS":
                if event["Properties"].get("Queue") != {"Fn::Sub": f"${{{function.queue}.Arn}}"}:
                    problems.append(f"{function.logical_id}: SQS event {name} does not read {function.queue}")
                if event["Properties"].get("FunctionResponseTypes") != ["ReportBatchItemFailures"]:
                    problems.append(f"{function.logical_id}: SQS event {name} does not report partial batch failures")
    return problems


def write_chalice_policy(path: Path) -> None:
    """Chalice wants a policy file when autogen_policy is off. Every role's policy is
    replaced by the merge template; this one grants nothing, so a role the merge
    template ever missed would fail closed (IAM refuses an empty policy) instead of open."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": []}, indent=2) + "\n")


def write_api_policy(chalice_dir: Path, stage: str) -> None:
    """Chalice packages a PRIVATE API only with a resource policy file (api_gateway_policy_file,
    read from .chalice/); it gets the same policy the merge template sets, endpoint parameter and all."""
    name = stage_config(stage).get("api_gateway_policy_file")
    if is_private(stage) and name:
        chalice_dir.mkdir(parents=True, exist_ok=True)
        (chalice_dir / name).write_text(json.dumps(api_policy(), indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.template", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write the merge template")
    write.add_argument("--stage", required=True)
    write.add_argument("--out", type=Path, required=True, help="merge template to write")
    write.add_argument("--chalice-dir", type=Path, help="the .chalice directory that will be packaged")
    checking = commands.add_parser("check", help="check the template that chalice package wrote")
    checking.add_argument("template", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "write":
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(build(stage=args.stage), indent=2, ensure_ascii=False) + "\n")
            if args.chalice_dir:
                write_chalice_policy(args.chalice_dir / f"policy-{args.stage}.json")
                write_api_policy(args.chalice_dir, args.stage)
            return 0
        problems = check(json.loads(args.template.read_text()))
    except TemplateError as exc:
        print(f"infra.template: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"infra.template: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
