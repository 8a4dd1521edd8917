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
