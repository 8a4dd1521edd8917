"""The local stack's persistence: snapshots of the emulated AWS, the gate that keeps
a snapshot between two requests, and the directory that holds the district."""

from __future__ import annotations

import gc
import pickle
import stat
import threading
import time

import boto3
import pytest

from infra.local.__main__ import exit_reason
from infra.local.persistence import BackendPickler, Gate, Snapshots, _reads_only
from infra.local.state import LocalState, StateInUse


@pytest.fixture
def aws(monkeypatch):
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def test_a_snapshot_brings_back_tables_queued_messages_objects_and_keys(aws, tmp_path):
    dynamodb, sqs, s3, kms = (boto3.client(s) for s in ("dynamodb", "sqs", "s3", "kms"))
    dynamodb.create_table(
        TableName="readings",
        KeySchema=[{"AttributeName": "device_id", "KeyType": "HASH"}, {"AttributeName": "t", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "device_id", "AttributeType": "S"},
            {"AttributeName": "t", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="readings", Item={"device_id": {"S": "gc-air-01"}, "t": {"N": "1"}})
    queue = sqs.create_queue(QueueName="readings")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="waiting")
    sqs.send_message(QueueUrl=queue, MessageBody="in flight")
    assert len(sqs.receive_message(QueueUrl=queue, VisibilityTimeout=1)["Messages"]) == 1  # one is in flight
    s3.create_bucket(Bucket="archive", CreateBucketConfiguration={"LocationConstraint": "ap-east-1"})
    s3.put_object(Bucket="archive", Key="readings/桂城.jsonl", Body=b"{}\n")
    key_id = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]

    snapshots = Snapshots(tmp_path, interval=1)
    snapshots.changed()
    assert snapshots.take() and snapshots.status.taken_at and snapshots.status.bytes
    from moto.core.base_backend import BackendDict

    BackendDict.reset()  # the emulator dies: everything in memory is gone
    assert dynamodb.list_tables()["TableNames"] == []

    try:
        assert Snapshots(tmp_path, interval=1).restore()
    finally:
        gc.unfreeze()  # the emulator freezes what it loaded; this test process goes on with other tests
    assert dynamodb.get_item(TableName="readings", Key={"device_id": {"S": "gc-air-01"}, "t": {"N": "1"}})["Item"]
    time.sleep(1.1)  # the received message's visibility runs out, as it would have without the restart
    bodies = sorted(m["Body"] for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"])
    assert bodies == ["in flight", "waiting"]
    assert s3.get_object(Bucket="archive", Key="readings/桂城.jsonl")["Body"].read() == b"{}\n"
    assert kms.sign(KeyId=key_id, Message=b"anchor", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]


def test_no_snapshot_means_an_empty_start(tmp_path):
    assert not Snapshots(tmp_path / "aws", interval=1).restore()


def test_locks_and_conditions_are_pickled_as_new_ones():
    import io

    held = threading.Lock()
    held.acquire()
    buffer = io.BytesIO()
    BackendPickler(buffer).dump({"lock": held, "rlock": threading.RLock(), "condition": threading.Condition()})
    copy = pickle.loads(buffer.getvalue())
    assert copy["lock"].acquire(blocking=False)  # not held: no request was inside moto at the fork
    with copy["condition"]:
        copy["condition"].notify_all()


def test_a_snapshot_waits_for_requests_inside_and_a_long_poll_steps_out():
    gate = Gate()
    gate.enter()
    closed = threading.Event()

    def snapshot() -> None:
        gate.close()
        closed.set()

    threading.Thread(target=snapshot, daemon=True).start()
    assert not closed.wait(0.2)  # a request is inside
    assert gate.step_out()  # it waits for messages now, outside
    assert closed.wait(2)
    entered = threading.Event()
    threading.Thread(target=lambda: (gate.enter(), entered.set()), daemon=True).start()
    assert not entered.wait(0.2)  # while the snapshot forks, nobody gets in
    gate.open()
    assert entered.wait(2)


def test_reads_do_not_make_a_snapshot_due():
    def request(method: str, target: str = "") -> dict:
        return {"REQUEST_METHOD": method, "HTTP_X_AMZ_TARGET": target}

    assert _reads_only(request("GET"))
    assert _reads_only(request("POST", "DynamoDB_20120810.Query"))
    assert _reads_only(request("POST", "AmazonSQS.ReceiveMessage"))  # counted by the backend when it returns some
    assert not _reads_only(request("POST", "DynamoDB_20120810.TransactWriteItems"))
    assert not _reads_only(request("POST", "AmazonSQS.DeleteMessageBatch"))
    assert not _reads_only(request("PUT"))  # an S3 object
    assert not _reads_only(request("POST"))  # query protocol (CloudFormation, SNS): the action is in the body


def test_one_stack_per_directory_and_a_fresh_start_forgets_the_district(tmp_path):
    state = LocalState(tmp_path)
    state.hold()
    with pytest.raises(StateInUse):
        LocalState(tmp_path).hold()
    assert LocalState(tmp_path).in_use()
    state.save_admin_key("cb_admin")
    assert stat.S_IMODE(state.admin_key_file.stat().st_mode) == 0o600
    (state.aws_dir).mkdir()
    (state.aws_dir / "state.pickle").write_bytes(b"district")
    (tmp_path / "demo-keys.json").write_text("{}")
    assert state.has_snapshot() and state.admin_key() == "cb_admin"
    state.forget()
    assert not state.has_snapshot() and state.admin_key() is None and not (tmp_path / "demo-keys.json").exists()


def test_the_supervisor_names_the_signal_that_killed_a_component():
    assert exit_reason(-9) == "killed by SIGKILL"
    assert exit_reason(1) == "exit code 1"
