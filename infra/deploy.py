"""What a deploy does after CloudFormation: make sure the bootstrap admin key exists.

    python -m infra.deploy ensure-admin --stack citybrain-prod --region ap-east-1

The stack's outputs name the tables (the same CITYBRAIN_* variables the functions
get). With CITYBRAIN_ADMIN_KEY set, that key is installed (again: it is
idempotent). Without it, a first deploy generates a key and prints it once; a
later deploy leaves the existing admin key alone, so redeploying never adds keys
behind the operator's back.
"""

from __future__ import annotations

import argparse
import os
import sys


def stack_outputs(stack: str, region: str) -> dict[str, str]:
    import boto3

    stacks = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def ensure_admin(stack: str, region: str, api_key: str | None) -> str | None:
    """Returns the key if this call generated it, else None."""
    from citybrain.composition import departments as department_service
    from citybrain.core import aws, config
    from citybrain.core.config import env_name
    from citybrain.departments.models import ADMIN_DEPARTMENT
    from citybrain.departments.service import new_key

    outputs = stack_outputs(stack, region)
    os.environ["AWS_DEFAULT_REGION"] = region
    for logical_id, value in outputs.items():
        os.environ[env_name(logical_id)] = value
    config.reset_settings()
    aws.reset_clients()

    departments = department_service()
    generated = None
    if not api_key:
        if departments.exists(ADMIN_DEPARTMENT):
            print(
                f"admin key: already set up in {outputs['DepartmentsTable']}; "
                "set CITYBRAIN_ADMIN_KEY to install another"
            )
            return None
        api_key = generated = new_key()
    departments.ensure_admin(api_key)
    if generated:
        print(f"admin key (shown once, keep it safe): {generated}")
    else:
        print(f"admin key: CITYBRAIN_ADMIN_KEY installed in {outputs['DepartmentsTable']}")
    return generated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("ensure-admin", help="install the bootstrap admin key in a deployed stack")
    admin.add_argument("--stack", required=True)
    admin.add_argument("--region", required=True)
    args = parser.parse_args(argv)
    ensure_admin(args.stack, args.region, os.environ.get("CITYBRAIN_ADMIN_KEY") or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
