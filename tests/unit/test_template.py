"""The merge-template generator's own rules, without packaging."""

from __future__ import annotations

import pytest

from infra.permissions import ACCESS
from infra.template import Function, TemplateError, _statements, build, check, load_resources, role_policy

RESOURCES = load_resources()["Resources"]
READINGS = Function("process_readings", "ProcessReadings", "ReadingsQueue", "ProcessReadingsSqsEventSource")


def test_every_permissions_entry_names_existing_resources_and_plain_actions():
    # Also for functions not in the app yet: a typo fails here, not in the cloud.
    for name in ACCESS:
        document = role_policy(Function(name, "Fn"), RESOURCES)
        assert document["Statement"][0]["Sid"] == "OwnLogGroup"


def test_unknown_resource_wildcard_action_and_misplaced_key_pattern_are_refused():
    with pytest.raises(TemplateError, match="does not define"):
        _statements("ReadingTable", ["dynamodb:GetItem"], RESOURCES)
    with pytest.raises(TemplateError, match="wildcard"):
        _statements("ReadingsTable", ["dynamodb:*"], RESOURCES)
    with pytest.raises(TemplateError, match="only buckets"):
        _statements("ReadingsTable/x/*", ["dynamodb:GetItem"], RESOURCES)


def test_bucket_entries_split_bucket_and_object_actions():
    statements = _statements("UploadsBucket/uploads/*", ["s3:GetObject", "s3:ListBucket"], RESOURCES)
    assert statements == [
        {
            "Sid": "UploadsBucket",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": {"Fn::GetAtt": ["UploadsBucket", "Arn"]},
        },
        {
            "Sid": "UploadsBucketObjectsUploads",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": {"Fn::Sub": "${UploadsBucket.Arn}/uploads/*"},
        },
    ]


def test_a_function_without_permissions_entry_is_refused():
    with pytest.raises(TemplateError, match="no entry in infra/permissions.py"):
        build([Function("send_reports", "SendReports")])


def test_a_trigger_on_a_queue_that_resources_json_lacks_is_refused():
    with pytest.raises(TemplateError, match="does not define as a queue"):
        build([Function("process_readings", "ProcessReadings", "BulletinsQueue", "ProcessReadingsSqsEventSource")])


def test_the_trigger_role_consumes_only_its_queue():
    statements = role_policy(READINGS, RESOURCES)["Statement"]
    consume = [s for s in statements if any(a.startswith("sqs:Receive") for a in s["Action"])]
    assert consume == [
        {
            "Sid": "ConsumeReadingsQueue",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": {"Fn::GetAtt": ["ReadingsQueue", "Arn"]},
        }
    ]


def _merged(event: dict) -> dict:
    """What chalice package would write, given an event as the merge left it."""
    return {
        "Resources": {
            "ProcessReadings": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Role": {"Fn::GetAtt": ["ProcessReadingsRole", "Arn"]},
                    "Events": {"ProcessReadingsSqsEventSource": event},
                },
            }
        }
    }


def test_check_accepts_a_rewired_trigger():
    assert (
        check(
            _merged(
                {
                    "Type": "SQS",
                    "Properties": {
                        "Queue": {"Fn::Sub": "${ReadingsQueue.Arn}"},
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    },
                }
            ),
            [READINGS],
        )
        == []
    )


def test_check_catches_what_a_chalice_rename_would_cause():
    # The merge addressed an event name Chalice no longer generates: a typeless stray.
    stray = _merged({"Properties": {"Queue": {"Fn::Sub": "${ReadingsQueue.Arn}"}}})
    assert any("has no Type" in p for p in check(stray, [READINGS]))
    # The placeholder queue survived, and partial failures are not reported.
    placeholder = _merged(
        {
            "Type": "SQS",
            "Properties": {
                "Queue": {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:citybrain-readings"}
            },
        }
    )
    problems = check(placeholder, [READINGS])
    assert any("does not read ReadingsQueue" in p for p in problems)
    assert any("partial batch failures" in p for p in problems)
    # A function missing altogether.
    assert check({"Resources": {}}, [READINGS]) == ["function process_readings: no ProcessReadings in the template"]


# -- the government network: a PRIVATE stage ---------------------------------------------------------
UPLOADS = Function("process_uploads", "ProcessUploads", "UploadsQueue", "ProcessUploadsSqsEventSource")
API = Function("api_handler", "APIHandler")


def test_only_a_private_stage_gets_the_extranet_endpoints():
    from infra.template import is_private

    assert is_private("gov") and not is_private("prod") and not is_private("dev")
    prod = build([API, READINGS], stage="prod")
    assert "ApiVpcEndpointId" not in prod["Parameters"] and "RestAPI" not in prod["Resources"]
    assert not [name for name, r in prod["Resources"].items() if r.get("Type") == "AWS::S3::BucketPolicy"]


def test_the_private_api_admits_only_the_extranet_endpoint():
    gov = build([API, READINGS, UPLOADS], stage="gov")
    for name in ("ApiVpcEndpointId", "S3VpcEndpointId"):
        assert gov["Parameters"][name]["Type"] == "String" and "Default" not in gov["Parameters"][name]
        assert gov["Parameters"][name]["AllowedPattern"].startswith("^vpce-")
    api = gov["Resources"]["RestAPI"]["Properties"]
    assert api["EndpointConfiguration"] == {"Type": "PRIVATE", "VPCEndpointIds": [{"Ref": "ApiVpcEndpointId"}]}
    deny, allow = api["DefinitionBody"]["x-amazon-apigateway-policy"]["Statement"]
    endpoint = {"aws:SourceVpce": {"Ref": "ApiVpcEndpointId"}}
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"StringNotEquals": endpoint})
    assert (allow["Effect"], allow["Condition"]) == ("Allow", {"StringEquals": endpoint})
    assert deny["Resource"] == allow["Resource"] == "execute-api:/*"
    assert "ApiVpcEndpointId" in gov["Outputs"]["ExtranetEndpointURL"]["Value"]["Fn::Sub"]


def test_every_bucket_admits_objects_only_through_the_s3_endpoint():
    gov = build([API, READINGS, UPLOADS], stage="gov")
    buckets = [name for name, r in RESOURCES.items() if r["Type"] == "AWS::S3::Bucket"]
    assert "UploadsBucket" in buckets
    for bucket in buckets:
        policy = gov["Resources"][f"{bucket}Policy"]
        assert policy["Type"] == "AWS::S3::BucketPolicy" and policy["Properties"]["Bucket"] == {"Ref": bucket}
        outside, presigned = policy["Properties"]["PolicyDocument"]["Statement"]
        endpoint = {"aws:sourceVpce": {"Ref": "S3VpcEndpointId"}}
        for statement in (outside, presigned):
            assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
            assert {"s3:GetObject*", "s3:PutObject*", "s3:ListBucket*"} <= set(statement["Action"])
            assert "s3:PutBucketPolicy" not in statement["Action"]  # the operator can still change the policy
            assert statement["Condition"]["StringNotEquals"] == endpoint
        # A presigned URL (what a department holds) goes through the endpoint whoever signed it.
        assert presigned["Condition"]["StringEquals"] == {"s3:authType": "REST-QUERY-STRING"}
    uploads = gov["Resources"]["UploadsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    # Only the roles permissions.py lets use the bucket reach it from Lambda's network.
    assert uploads["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == [
        {"Fn::GetAtt": ["ApiHandlerRole", "Arn"]},
        {"Fn::GetAtt": ["ProcessUploadsRole", "Arn"]},
    ]


@pytest.mark.parametrize("stage", ["prod", "gov"])
def test_arns_are_built_with_the_partition(stage):
    """China's regions are the aws-cn partition: a literal arn:aws: would name nothing there."""
    import json

    text = json.dumps(build([API, READINGS, UPLOADS], stage=stage))
    assert "arn:aws:" not in text and "arn:aws-cn:" not in text


def test_the_anchors_bucket_is_locked_in_compliance_mode_for_the_operators_retention():
    template = build([Function("anchor_audit_chain", "AnchorAuditChain")])
    parameter = template["Parameters"]["AnchorRetentionDays"]
    assert parameter["Type"] == "Number" and parameter["MinValue"] >= 1
    bucket = template["Resources"]["AnchorsBucket"]
    assert bucket["Properties"]["ObjectLockEnabled"] is True and bucket["DeletionPolicy"] == "Retain"
    lock = bucket["Properties"]["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Days": {"Ref": "AnchorRetentionDays"}}
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}  # Object Lock needs it


def test_the_anchor_role_may_only_add_anchors():
    statements = role_policy(Function("anchor_audit_chain", "AnchorAuditChain"), RESOURCES)["Statement"]
    on_bucket = [s for s in statements if "AnchorsBucket" in str(s["Resource"])]
    assert {a for s in on_bucket for a in s["Action"]} == {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}
    # besides: reading the chain's head and keeping the hint of the newest anchor's seq, nothing
    assert set(ACCESS["anchor_audit_chain"]) == {
        "AuditTable",
        "AnchorsBucket",
        "AnchorsBucket/anchors/*",
        "AuditVerificationsTable",
    }
    assert ACCESS["anchor_audit_chain"]["AuditTable"] == ["dynamodb:Query"]
    # No function may delete an anchor (the lock would refuse it anyway) or change its retention.
    for name, entries in ACCESS.items():
        for target, actions in entries.items():
            if target.startswith("AnchorsBucket"):
                assert set(actions) <= {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}, name
