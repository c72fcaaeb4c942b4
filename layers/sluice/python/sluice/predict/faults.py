"""Report a server fault of the predict function: log it with its request id, count it per model version.

The function answers such a request 500 instead of raising, so Lambda's ``Errors`` metric no longer sees it;
``ServerFaults`` (EMF, sluice namespace) carries it instead, under the serving version's dimensions (what the
bake check reads) and the model's (what the server-faults alarm watches). Client errors (4xx) are never counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sluice.deployment import signals
from sluice.endpoint import PinnedModel
from sluice.predict.release import Emitter, emf_emitter
from sluice.predict.service import FaultReporter

FaultLog = Callable[[str, dict[str, Any], BaseException], None]


def fault_reporter(model: str, pinned: PinnedModel | None, log: FaultLog, *,
                   emit: Emitter | None = None) -> FaultReporter:
    """A reporter that logs ``(message, fields, exception)`` and emits ``ServerFaults`` = 1 for the fault."""
    emitter = emit or emf_emitter()

    def report(request_id: str, error: BaseException) -> None:
        version = pinned.version if pinned is not None else None
        log("predict request failed", {"request_id": request_id, "model": model, "model_version": version,
                                       "error": f"{type(error).__name__}: {error}"}, error)
        faults = {signals.SERVER_FAULTS: [1.0]}
        if version is not None:
            emitter(signals.SERVER_FAULTS, signals.version_dimensions(model, version), faults)
        emitter(signals.SERVER_FAULTS, signals.model_dimensions(model), faults)

    return report
