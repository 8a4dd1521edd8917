"""boto3 clients, created on first use and never at import time.

Clients made at import time would escape moto's `mock_aws` in tests and cost
cold-start time in Lambda; `AWS_ENDPOINT_URL` (read by boto3 itself) points
them at the emulated AWS of the local stack.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Requests are built by our own code and AWS validates them again anyway; botocore's
    # client-side check of DynamoDB transactions costs a third of the processing CPU.
    return boto3.client(
        service,
        config=Config(retries={"mode": "standard", "max_attempts": 5}, parameter_validation=service != "dynamodb"),
    )


def reset_clients() -> None:
    client.cache_clear()
