"""The deploy's last step, the bootstrap admin key, against a stack on the emulated AWS."""

from __future__ import annotations

import os
from unittest import mock

import pytest

from citybrain.departments.models import ADMIN_DEPARTMENT

STACK = "citybrain-test"  # the stack the aws_stack fixture provisions


@pytest.fixture
def deploy(aws_stack, monkeypatch):
    from infra import deploy

    monkeypatch.delenv("CITYBRAIN_ADMIN_KEY", raising=False)
    with mock.patch.dict(os.environ):  # ensure_admin exports the stack's outputs
        yield deploy


def _authenticate(key):
    from citybrain.composition import departments

    return departments().authenticate(key)


def test_a_first_deploy_generates_an_admin_key_and_prints_it_once(deploy, capsys):
    key = deploy.ensure_admin(STACK, os.environ["AWS_DEFAULT_REGION"], None)
    assert key and key in capsys.readouterr().out
    principal = _authenticate(key)
    assert principal.is_admin and principal.department_id == ADMIN_DEPARTMENT

    # Redeploying without a key neither prints nor adds one.
    assert deploy.ensure_admin(STACK, os.environ["AWS_DEFAULT_REGION"], None) is None
    assert "already set up" in capsys.readouterr().out


def test_a_given_admin_key_is_installed(deploy, monkeypatch, capsys):
    monkeypatch.setenv("CITYBRAIN_ADMIN_KEY", "cb_operator_chosen_key_0123456789abcdefghijkl")
    assert deploy.main(["ensure-admin", "--stack", STACK, "--region", os.environ["AWS_DEFAULT_REGION"]]) == 0
    out = capsys.readouterr().out
    assert "cb_operator_chosen_key" not in out  # a key the operator chose is not echoed
    assert _authenticate("cb_operator_chosen_key_0123456789abcdefghijkl").is_admin
