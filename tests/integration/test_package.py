"""The cloud artifact as `make package` builds it: a template that lints clean and
keeps the platform's promises, and zips that run the way Lambda unpacks them.

Packaging runs once for this module (chalice downloads the Linux wheels from the
registry on a first run and caches them under build/)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "test-package" / "prod"
EVENTS = ROOT / "events"


def _run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


def _venv_path() -> str:
    """PATH with this interpreter's bin first, as `make package` has it."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="module")
def packaged() -> Path:
    done = _run(
        ["bash", str(ROOT / "infra" / "package.sh"), "prod", str(OUT)],
        cwd=ROOT,
        env={**os.environ, "PATH": _venv_path()},
    )
    assert done.returncode == 0, f"package.sh failed:\n{done.stdout}\n{done.stderr}"
    return OUT


@pytest.fixture(scope="module")
def template(packaged) -> dict:
    return json.loads((packaged / "sam.json").read_text())


def of_type(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def dead_letter_queues(template: dict) -> set[str]:
    return {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in of_type(template, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    }


# -- the template ------------------------------------------------------------
def test_cfn_lint_reports_no_errors(packaged):
    done = _run([str(Path(sys.executable).parent / "cfn-lint"), str(packaged / "sam.json")])
    print(done.stdout, done.stderr)  # warnings are shown, not failed on
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational; 1 means it could not lint.
    assert done.returncode & 3 == 0, done.stdout + done.stderr


def test_every_work_queue_has_a_dead_letter_queue(template):
    queues = of_type(template, "AWS::SQS::Queue")
    dlqs = dead_letter_queues(template)
    assert dlqs and dlqs <= set(queues)
    for name, queue in queues.items():
        if name not in dlqs:
            policy = queue["Properties"].get("RedrivePolicy")
            assert policy and policy["maxReceiveCount"] >= 1, f"{name} has no dead-letter queue"


def test_sqs_triggers_read_the_real_queue_and_report_partial_failures(template):
    functions = of_type(template, "AWS::Serverless::Function")
    events = {
        (fn, name): event
        for fn, f in functions.items()
        for name, event in f["Properties"].get("Events", {}).items()
        if event["Type"] == "SQS"
    }
    assert {fn for fn, _ in events} >= {"ProcessReadings"}
    queues = of_type(template, "AWS::SQS::Queue")
    for (fn, name), event in events.items():
        props = event["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], (fn, name)
        (queue,) = re.fullmatch(r"\$\{(\w+)\.Arn\}", props["Queue"]["Fn::Sub"]).groups()
        assert queue in queues and queue not in dead_letter_queues(template), (fn, queue)
        # Lambda refuses a trigger whose queue hides messages for less than the function may run.
        assert queues[queue]["Properties"]["VisibilityTimeout"] >= functions[fn]["Properties"]["Timeout"], (fn, queue)


def iam_statements(template: dict):
    for name, role in of_type(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement


def test_no_iam_statement_has_a_wildcard_action_or_resource(template):
    statements = list(iam_statements(template))
    assert statements
    for role, statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), (role, statement)
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources, (role, statement)


def test_each_function_has_its_own_role_scoped_to_its_own_resources(template):
    functions = of_type(template, "AWS::Serverless::Function")
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(functions)

    def grants(role: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for name, statement in iam_statements(template):
            if name == role:
                target = json.dumps(statement["Resource"])
                for logical_id in re.findall(r'"(\w+)", "Arn"|\$\{(\w+)\.Arn\}', target):
                    out.setdefault("".join(logical_id), set()).update(statement["Action"])
        return out

    api, process = grants("ApiHandlerRole"), grants("ProcessReadingsRole")
    assert "dynamodb:PutItem" not in api.get("ReadingsTable", set())  # only the processor stores readings
    assert process["ReadingsQueue"] == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
    assert "DepartmentsTable" not in process and "UploadsBucket" not in process
    for role in roles:  # each writes its own log group, and no other
        log_groups = [k for k in grants(role) if k.endswith("LogGroup")]
        assert log_groups == [role.removesuffix("Role") + "LogGroup"], (role, log_groups)


def test_alarms_watch_every_dead_letter_queue_and_every_function(template):
    alarms = of_type(template, "AWS::CloudWatch::Alarm").values()
    topics = of_type(template, "AWS::SNS::Topic")

    def watched(namespace: str, metric: str) -> set[str]:
        found = set()
        for alarm in alarms:
            props = alarm["Properties"]
            if (props["Namespace"], props["MetricName"]) == (namespace, metric):
                assert props["Threshold"] == 0 and props["ComparisonOperator"] == "GreaterThanThreshold"
                assert all(a["Ref"] in topics for a in props["AlarmActions"]) and props["AlarmActions"]
                value = props["Dimensions"][0]["Value"]
                found.add(value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0])
        return found

    assert watched("AWS/SQS", "ApproximateNumberOfMessagesVisible") == dead_letter_queues(template)
    assert watched("AWS/Lambda", "Errors") == set(of_type(template, "AWS::Serverless::Function"))


def test_buckets_and_tables_protect_their_data(template):
    buckets = of_type(template, "AWS::S3::Bucket")
    assert buckets
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}, name
        assert len(props["PublicAccessBlockConfiguration"]) == 4, name
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        assert bucket["DeletionPolicy"] == "Retain", name
    tables = of_type(template, "AWS::DynamoDB::Table")
    for name, table in tables.items():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert table["DeletionPolicy"] == "Retain", name
    # The tables whose items are written with an expiry (readings, rejections, Powertools idempotency).
    for name, attribute in {
        "ReadingsTable": "expires_at",
        "RejectionsTable": "expires_at",
        "IdempotencyTable": "expiration",
    }.items():
        assert tables[name]["Properties"]["TimeToLiveSpecification"] == {"AttributeName": attribute, "Enabled": True}


def test_functions_get_every_resource_in_their_environment(template):
    from citybrain.core.config import env_name
    from infra.template import load_resources

    outputs = load_resources()["Outputs"]
    for name, function in of_type(template, "AWS::Serverless::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        for logical_id, output in outputs.items():
            assert variables[env_name(logical_id)] == output["Value"], (name, logical_id)


# -- the zips, as Lambda runs them ---------------------------------------------
def _runtime_version(template: dict) -> str:
    runtimes = {f["Properties"]["Runtime"] for f in of_type(template, "AWS::Serverless::Function").values()}
    layer = next(iter(of_type(template, "AWS::Serverless::LayerVersion").values()))
    assert len(runtimes) == 1 and set(layer["Properties"]["CompatibleRuntimes"]) == runtimes
    (runtime,) = runtimes
    match = re.fullmatch(r"python(3)\.(\d+)", runtime)
    assert match and int(match[2]) >= 12, runtime
    return f"{match[1]}.{match[2]}"


def _find_python(version: str) -> str:
    """The interpreter for the template's runtime, looked for as the Makefile does."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable
    candidates = [
        shutil.which(f"python{version}"),
        *map(str, Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}")),
        f"/usr/local/bin/python{version}",
        f"/usr/bin/python{version}",
    ]
    for candidate in filter(None, candidates):
        if Path(candidate).exists():
            return candidate
    pytest.fail(f"python{version} (the template's runtime) is not installed")


def _boto3_pin() -> str:
    """The runtime's boto3: the version pinned for development (requirements-dev.txt)."""
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        if line.strip().startswith("boto3=="):
            return line.strip()
    raise AssertionError("requirements-dev.txt pins no boto3")


@pytest.fixture(scope="module")
def runtime_python(template) -> Path:
    """A venv of the runtime's Python with nothing but boto3, as Lambda provides; cached in build/."""
    version = _runtime_version(template)
    venv = ROOT / "build" / f"lambda-runtime-python{version}"
    marker = venv / "citybrain-runtime.txt"
    pin = _boto3_pin()
    if not (marker.exists() and marker.read_text() == pin):
        shutil.rmtree(venv, ignore_errors=True)
        done = _run([_find_python(version), "-m", "venv", str(venv)])
        assert done.returncode == 0, done.stderr
        done = _run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", pin]
        )
        assert done.returncode == 0, done.stdout + done.stderr
        marker.write_text(pin)
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def unpacked(packaged, tmp_path_factory) -> tuple[Path, Path]:
    """Function code at a task root, the layer under an opt dir: Lambda's layout, far from the repo."""
    base = tmp_path_factory.mktemp("lambda")
    task_root, opt = base / "var" / "task", base / "opt"
    zipfile.ZipFile(packaged / "deployment.zip").extractall(task_root)
    zipfile.ZipFile(packaged / "layer-deployment.zip").extractall(opt)
    return task_root, opt


DRIVER = r"""
import importlib, json, logging, os, sys

records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
batch_log = logging.getLogger("aws_lambda_powertools.utilities.batch")
batch_log.setLevel(logging.DEBUG)
batch_log.addHandler(Keep())

class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = "$LATEST"
    memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    invoked_function_arn = "arn:aws:lambda:ap-east-1:123456789012:function:" + function_name
    aws_request_id = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "2026/11/27/[$LATEST]0123456789abcdef"
    def get_remaining_time_in_millis(self):
        return 30000

module, name = sys.argv[1].rsplit(".", 1)
handler = getattr(importlib.import_module(module), name)
result = handler(json.load(open(sys.argv[2], encoding="utf-8")), Context())
from citybrain.core.config import get_settings
get_settings()  # the template's variables satisfy the settings
files = sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)})
print(json.dumps({"result": result, "batch_log": records, "files": files}))
"""


def invoke(template, unpacked, runtime_python, function: str, event: Path) -> dict:
    task_root, opt = unpacked
    props = template["Resources"][function]["Properties"]
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        # Lambda's sys.path for a Python runtime: the task root, then the layers' two folders.
        "PYTHONPATH": os.pathsep.join(
            [
                str(task_root),
                str(opt / "python" / "lib" / f"python{_runtime_version(template)}" / "site-packages"),
                str(opt / "python"),
            ]
        ),
        "LAMBDA_TASK_ROOT": str(task_root),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{props['Runtime']}",
        "AWS_REGION": "ap-east-1",
        "AWS_DEFAULT_REGION": "ap-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": f"citybrain-prod-{function}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props["MemorySize"]),
    }
    for name, value in props["Environment"]["Variables"].items():
        # What CloudFormation resolves a Ref to: here a name shaped like a generated one.
        env[name] = value if isinstance(value, str) else f"citybrain-prod-{value['Ref']}-1EXAMPLE2ID"
    done = _run([str(runtime_python), "-s", "-c", DRIVER, props["Handler"], str(event)], env=env, cwd=task_root)
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    runtime_venv = str(runtime_python.parent.parent)
    strays = [f for f in out["files"] if f.startswith(str(ROOT)) and not f.startswith(runtime_venv)]
    assert not strays, f"modules loaded from the repository, not the artifact: {strays[:5]}"
    assert any(f.startswith(f"{task_root}/") for f in out["files"])  # chalice, and app.py for the API
    assert any(f.startswith(f"{opt}/python/lib/") for f in out["files"])  # citybrain, functions, wheels
    return out


def test_the_layer_carries_wheels_for_the_runtime(packaged, template):
    version = _runtime_version(template).replace(".", "")
    arch = template["Resources"]["APIHandler"]["Properties"]["Architectures"][0]
    names = zipfile.ZipFile(packaged / "layer-deployment.zip").namelist()
    cores = [n for n in names if re.search(r"/pydantic_core/_pydantic_core\..*\.so$", n)]
    assert cores and all(f"cpython-{version}-{arch}-linux-gnu" in n for n in cores), cores
    assert not [n for n in names if "__pycache__" in n or n.split("/")[4:5] == ["boto3"]]


def test_the_api_handler_answers_health_as_deployed(template, unpacked, runtime_python):
    out = invoke(template, unpacked, runtime_python, "APIHandler", EVENTS / "apigw-health.json")
    response = out["result"]
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"]) == {"status": "ok"}


def test_the_api_handler_serves_the_dashboard_page_and_its_assets_from_the_layer(
    packaged, template, unpacked, runtime_python
):
    from citybrain.dashboard.page import ASSETS, PAGE, SAFETY_PAGE

    names = set(zipfile.ZipFile(packaged / "layer-deployment.zip").namelist())
    static = f"python/lib/python{_runtime_version(template)}/site-packages/citybrain/dashboard/static"
    assert {f"{static}/{name}" for name in (PAGE, SAFETY_PAGE, *ASSETS)} <= names
    out = invoke(template, unpacked, runtime_python, "APIHandler", EVENTS / "apigw-dashboard.json")
    response = out["result"]
    assert response["statusCode"] == 200, response
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "城市运行总览" in response["body"] and 'data-refresh-seconds="30"' in response["body"]
    assert any(f.endswith("/citybrain/dashboard/page.py") and "/opt/python/" in f for f in out["files"])


def test_the_readings_processor_gathers_batches_of_messages(template):
    """Batches of up to 50 messages, gathered for up to 5 s: one chunk per device-hour per batch."""
    source = template["Resources"]["ProcessReadings"]["Properties"]["Events"]["ProcessReadingsSqsEventSource"]
    assert source["Properties"]["BatchSize"] == 50
    assert source["Properties"]["MaximumBatchingWindowInSeconds"] == 5


def test_the_readings_processor_reports_a_poison_message_as_a_batch_item_failure(template, unpacked, runtime_python):
    event = json.loads((EVENTS / "sqs-readings-poison.json").read_text())
    out = invoke(template, unpacked, runtime_python, "ProcessReadings", EVENTS / "sqs-readings-poison.json")
    assert out["result"] == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    # It failed for being unreadable, before any AWS call (there is no network here).
    assert any("PoisonMessage" in line for line in out["batch_log"]), out["batch_log"]


# -- deploy, without AWS -----------------------------------------------------------
def _deploy(env: dict[str, str], stage: str = "prod", out: Path = OUT):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CITYBRAIN_", "AWS_REGION", "AWS_DEFAULT_REGION", "DRY_RUN"))
    }
    return _run(
        ["bash", str(ROOT / "infra" / "deploy.sh"), stage, str(out)],
        cwd=ROOT,
        env={**clean, "PATH": _venv_path(), **env},
    )


def test_deploy_dry_run_prints_the_cloudformation_commands(packaged):
    done = _deploy(
        {
            "DRY_RUN": "1",
            "CITYBRAIN_ARTIFACTS_BUCKET": "citybrain-artifacts-ap-east-1",
            "AWS_REGION": "ap-east-1",
            "CITYBRAIN_ALARM_EMAIL": "ops@example.gov.cn",
        }
    )
    assert done.returncode == 0, done.stderr
    package, deploy, admin = done.stdout.strip().splitlines()
    assert package.startswith("aws cloudformation package ") and f"--template-file {packaged}/sam.json" in package
    assert "--s3-bucket citybrain-artifacts-ap-east-1" in package
    assert deploy.startswith("aws cloudformation deploy ") and "--stack-name citybrain-prod" in deploy
    assert "--s3-bucket citybrain-artifacts-ap-east-1" in deploy  # the template is too big to pass inline
    assert "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND" in deploy and "--region ap-east-1" in deploy
    assert "AlarmEmail=ops@example.gov.cn" in deploy
    assert admin == "python -m infra.deploy ensure-admin --stack citybrain-prod --region ap-east-1"


def test_deploy_names_the_settings_it_misses(packaged):
    done = _deploy({"DRY_RUN": "1"})
    assert done.returncode == 2 and done.stdout == ""
    assert "CITYBRAIN_ARTIFACTS_BUCKET" in done.stderr and "AWS_REGION" in done.stderr


# -- the government network: the gov stage, in China's regions ----------------------------------------------
GOV_OUT = ROOT / "build" / "test-package" / "gov"
CHINA = ("cn-north-1", "cn-northwest-1")


@pytest.fixture(scope="module")
def packaged_gov(packaged) -> Path:
    """`make package STAGE=gov` as an operator in Beijing runs it (AWS_REGION=cn-north-1). The prod
    build's dependency zips are reused: the same requirements make the same layer."""
    cache, reused = packaged / ".src" / ".chalice" / "deployments", GOV_OUT / ".src" / ".chalice" / "deployments"
    if cache.is_dir() and not reused.exists():
        shutil.copytree(cache, reused)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = _run(
        ["bash", str(ROOT / "infra" / "package.sh"), "gov", str(GOV_OUT)],
        cwd=ROOT,
        env={**env, "PATH": _venv_path(), "AWS_REGION": CHINA[0]},
    )
    assert done.returncode == 0, f"package.sh gov failed:\n{done.stdout}\n{done.stderr}"
    return GOV_OUT


@pytest.fixture(scope="module")
def gov_template(packaged_gov) -> dict:
    return json.loads((packaged_gov / "sam.json").read_text())


@pytest.mark.parametrize("stage", ["prod", "gov"])
def test_cfn_lint_reports_no_errors_for_chinas_regions(stage, request):
    built = request.getfixturevalue("packaged" if stage == "prod" else "packaged_gov")
    done = _run([str(Path(sys.executable).parent / "cfn-lint"), str(built / "sam.json"), "--regions", *CHINA])
    print(done.stdout, done.stderr)
    assert done.returncode & 3 == 0, done.stdout + done.stderr


@pytest.mark.parametrize("stage", ["prod", "gov"])
def test_no_arn_names_a_partition_literally(stage, request):
    built = request.getfixturevalue("packaged" if stage == "prod" else "packaged_gov")
    text = (built / "sam.json").read_text()
    assert re.findall(r"arn:aws[-a-z]*:", text) == []
    assert "${AWS::Partition}" in text


def test_the_gov_api_is_private_to_the_extranet_endpoint(gov_template):
    parameters, resources = gov_template["Parameters"], gov_template["Resources"]
    assert {"ApiVpcEndpointId", "S3VpcEndpointId"} <= set(parameters)
    api = resources["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api"
    assert api["Properties"]["EndpointConfiguration"] == {
        "Type": "PRIVATE",
        "VPCEndpointIds": [{"Ref": "ApiVpcEndpointId"}],
    }
    body = api["Properties"]["DefinitionBody"]
    statements = body["x-amazon-apigateway-policy"]["Statement"]
    # Chalice's own default policy (aws:SourceVpce: null) is gone: every statement names the parameter.
    assert len(statements) == 2 and all(
        next(iter(s["Condition"].values())) == {"aws:SourceVpce": {"Ref": "ApiVpcEndpointId"}} for s in statements
    )
    assert "/dashboard" in body["paths"]  # the page and its assets come from the app, over the same endpoint
    assert "ExtranetEndpointURL" in gov_template["Outputs"]


def test_the_gov_buckets_admit_objects_only_through_the_s3_endpoint(gov_template):
    resources = gov_template["Resources"]
    buckets = {name for name, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    policies = {r["Properties"]["Bucket"]["Ref"]: r for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"}
    assert buckets and set(policies) == buckets
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Deny"
            assert statement["Condition"]["StringNotEquals"] == {"aws:sourceVpce": {"Ref": "S3VpcEndpointId"}}


def test_the_prod_template_stays_public_and_without_endpoint_parameters(template):
    assert template["Resources"]["RestAPI"]["Properties"]["EndpointConfiguration"] == "EDGE"
    assert "ApiVpcEndpointId" not in template.get("Parameters", {})
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"]


def test_gov_deploy_needs_the_extranets_endpoints_and_passes_them(packaged_gov):
    base = {"DRY_RUN": "1", "CITYBRAIN_ARTIFACTS_BUCKET": "citybrain-artifacts-cn-north-1", "AWS_REGION": CHINA[0]}
    refused = _deploy(base, "gov", packaged_gov)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "CITYBRAIN_API_VPC_ENDPOINT" in refused.stderr and "CITYBRAIN_S3_VPC_ENDPOINT" in refused.stderr

    endpoints = {"CITYBRAIN_API_VPC_ENDPOINT": "vpce-0a1b2c3d4e5f60718", "CITYBRAIN_S3_VPC_ENDPOINT": "vpce-0f1e2d3c"}
    done = _deploy({**base, **endpoints}, "gov", packaged_gov)
    assert done.returncode == 0, done.stderr
    _, deploy, _ = done.stdout.strip().splitlines()
    assert "--stack-name citybrain-gov" in deploy and "--region cn-north-1" in deploy
    assert "ApiVpcEndpointId=vpce-0a1b2c3d4e5f60718" in deploy and "S3VpcEndpointId=vpce-0f1e2d3c" in deploy
