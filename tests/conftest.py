"""Shared fixtures. Integration tests run against moto with the very resources
of infra/resources.json, created through moto's CloudFormation."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "ap-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CityBrainTest")
# A field a service returns that its route's response model does not list fails the request (a 500),
# so a response model that falls behind its service fails the tests (citybrain.core.responses).
os.environ.setdefault("CITYBRAIN_STRICT_RESPONSES", "1")


def _reset_caches():
    from citybrain import composition as services
    from citybrain.core import aws, config

    aws.reset_clients()
    config.reset_settings()
    services.reset()


@pytest.fixture
def bare_aws(monkeypatch):
    """A fresh, empty emulated AWS, with City Brain's fixes to the emulator."""
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    from infra import moto_fixes

    moto_fixes.apply()  # moto copies whole tables per transaction action otherwise
    with mock_aws():
        yield


@pytest.fixture
def aws_stack(bare_aws, monkeypatch):
    """A fresh emulated AWS with City Brain's resources; yields the CITYBRAIN_* env."""
    _reset_caches()
    from infra.provision import provision

    env = provision("citybrain-test")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _reset_caches()
    yield env
    _reset_caches()


ADMIN_KEY = "cb_test_admin_key_0000000000000000000000000000"


@pytest.fixture
def api(aws_stack):
    """A chalice test client plus an admin key, on the emulated stack."""
    from chalice.test import Client

    from app import app
    from citybrain.composition import departments

    departments().ensure_admin(ADMIN_KEY)
    with Client(app) as client:
        yield client
