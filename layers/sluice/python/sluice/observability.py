"""Logger, Metrics and Tracer: created once per process and shared by every handler.

The tracer is made on first access (PEP 562): the X-Ray SDK it loads is a noticeable share of a cold start, and
the predict function, whose request path is all in-process compute, is traced by Lambda's active tracing alone.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

    tracer: Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "sluice")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "sluice"), service=SERVICE)


def __getattr__(name: str) -> Any:
    if name != "tracer":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from aws_lambda_powertools import Tracer

    # X-Ray patches only botocore (sluice's one client library): the default patches every library it finds
    # installed (requests, httpx, SQLAlchemy, ...), importing each one at cold start for calls sluice never makes
    made = Tracer(service=SERVICE, patch_modules=("botocore",))
    globals()["tracer"] = made
    return made
