"""The contract: schemathesis against the local stack, on every operation of
docs/openapi.json, with valid keys.

No answer is a 5xx; every answer's status is documented for its operation and
its body matches the documented schema (the stack runs with strict response
models); malformed input (negative examples) is a documented 4xx; schema-valid
input is answered 2xx or with a documented client error (a domain rule the
schema cannot express, such as an unknown device, is a 4xx). Bounded and
deterministic: a fixed seed and a fixed number of examples per operation
(CONTRACT_EXAMPLES), the examples, coverage, fuzzing and stateful phases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261201
CONTRACT_EXAMPLES = 12
TIMEOUT_SECONDS = 600


@pytest.fixture(scope="module")
def contract_stack(start_stack):
    """Its own stack (the fuzzer creates departments, devices and datasets at random), with a
    device, a dataset with records, an access request to it, an upload and a report of its owner, so
    that operations on one of them reach past their 404."""
    from tests.integration.exchange_helpers import dataset_body, person_records

    stack = start_stack(demo=False)
    key = stack.department("contract-env", "区生态环境局（契约测试）")
    other = stack.department("contract-health", "区卫生健康局（契约测试）")
    stack.device(key, "contract-air-1")
    assert stack.post("/v1/datasets", key, dataset_body("contract-ds")).status_code == 201
    assert stack.post("/v1/datasets/contract-ds/records", key, {"records": person_records(5)}).status_code == 200
    asked = stack.post("/v1/datasets/contract-ds/access-requests", other, {"purpose": "契约测试：核对名单"})
    assert asked.status_code == 201, asked.text
    upload = stack.post("/v1/uploads", key, {"filename": "readings.csv"})
    assert upload.status_code == 201, upload.text
    report = stack.post("/v1/reports", key, {"kind": "daily"})
    assert report.status_code == 202, report.text
    known = {
        "device_id": "contract-air-1",
        "dataset_id": "contract-ds",
        "request_id": asked.json()["id"],
        "upload_id": upload.json()["id"],
        "report_id": report.json()["id"],
    }
    return stack, key, known


def schemathesis(stack, key: str, workdir: Path, known: dict[str, str]) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        # Schema-valid input may still break a domain rule (an unknown device, a dataset
        # of another department): a documented client error is then the right answer.
        "--config-file",
        str(workdir / "schemathesis.toml"),
        "run",
        str(ROOT / "docs" / "openapi.json"),
        "--url",
        stack.api_url + "/",
        "-H",
        f"X-Api-Key: {key}",
        "--seed",
        str(SEED),
        "--max-examples",
        str(CONTRACT_EXAMPLES),
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--workers",
        "1",
        "--no-color",
        "--continue-on-failure",
    ]
    config = [
        "[checks.positive_data_acceptance]",
        'expected-statuses = ["2xx", "400", "401", "403", "404", "409", "413"]',
    ]
    if known:  # path parameters naming objects that exist, instead of random ones
        config += ["[parameters]", *(f'"path.{name}" = "{value}"' for name, value in known.items())]
    (workdir / "schemathesis.toml").write_text("\n".join(config) + "\n")
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)


@pytest.mark.parametrize("who", ["department", "admin"])
def test_every_operation_keeps_the_contract(contract_stack, tmp_path, who):
    """As the department that owns the known objects (their ids in the path), and as the
    data bureau with every path parameter fuzzed."""
    stack, department_key, known = contract_stack
    if who == "department":
        run = schemathesis(stack, department_key, tmp_path, known)
    else:
        run = schemathesis(stack, stack.admin_key, tmp_path, {})
    report = run.stdout[-30_000:] + run.stderr[-5_000:]
    assert run.returncode == 0, report
    print(run.stdout[-3_000:])  # the summary: operations, cases and checks, shown with -s
