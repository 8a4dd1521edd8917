"""One Logger and one Metrics for the whole app (Powertools).

The namespace comes from CITYBRAIN_METRICS_NAMESPACE (POWERTOOLS_METRICS_NAMESPACE
wins if set); the service name from POWERTOOLS_SERVICE_NAME.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "citybrain"))
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
    or os.environ.get("CITYBRAIN_METRICS_NAMESPACE", "CityBrain"),
)
