"""Logger, Metrics and Tracer: created once per process and shared by every handler."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "sluice")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "sluice"), service=SERVICE)
# X-Ray patches only botocore (sluice's one client library): the default patches every library it finds installed
# (requests, httpx, SQLAlchemy, sqlite3, ...), importing each one at cold start for calls sluice never makes
tracer = Tracer(service=SERVICE, patch_modules=("botocore",))
