"""Serve one pinned model: route V1 requests, load the verified artifact once per container."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sluice.endpoint import PinnedModel
from sluice.predict.bounds import RequestRefused, check_instance_count
from sluice.predict.capture import CaptureBuffer
from sluice.predict.explaining import explain_document
from sluice.predict.http import HttpError, json_response, parse_http_event, parse_json_body
from sluice.serving import InvalidInstances, Prediction, ServedModel, ValueViolation
from sluice.serving.reading import capture_kinds, captured_instances

PREDICT_PATH = re.compile(r"^/v1/models/(?P<model>[A-Za-z0-9_.-]+)(?P<verb>:predict|:explain)?/?$")
ModelLoader = Callable[[PinnedModel], ServedModel]
PredictionObserver = Callable[[list[dict[str, Any]], Prediction, ServedModel], None]
ViolationCounter = Callable[[tuple[ValueViolation, ...]], None]
FaultReporter = Callable[[str, BaseException], None]
"""Told of every unexpected failure inside a request: (request id, the exception)."""
Defer = Callable[[Callable[[], None]], None]
"""Runs a task after the response (``AfterResponse.defer``); the default runs it at once."""

_log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")


class PredictService:
    """The predict endpoint of one model; ``pinned`` is None until a model is deployed."""

    def __init__(self, model_name: str, pinned: PinnedModel | None, loader: ModelLoader, *,
                 capture: CaptureBuffer | None = None, observer: PredictionObserver | None = None,
                 on_fault: FaultReporter | None = None, on_violations: ViolationCounter | None = None,
                 defer: Defer | None = None) -> None:
        self._model_name = model_name
        self._defer: Defer = defer or _now
        self.on_fault = on_fault or _log_fault
        self.observer = observer
        self.on_violations = on_violations
        self.capture = capture
        self._pinned = pinned
        self._loader = loader
        self._model: ServedModel | None = None
        self.load_seconds: float | None = None

    def warm(self) -> None:
        """Load the pinned model now (called at init so the first request is fast)."""
        if self._pinned is not None and self._model is None:
            started = time.perf_counter()
            self._model = self._loader(self._pinned)
            self.load_seconds = time.perf_counter() - started

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """Answer one HTTP event; never raises.

        What the caller can fix is a 4xx with a message (503 until a model is deployed); anything unexpected is
        reported to ``on_fault`` with its request id and answered 500 with that id, a server fault.
        """
        try:
            return self._route(event)
        except HttpError as error:
            return json_response(error.status, {"error": error.message})
        except Exception as error:  # the safety net: a fault is answered and counted, never raised to Lambda
            return self._fault(event, error)

    def _fault(self, event: Any, error: Exception) -> dict[str, Any]:
        request_id = _request_id(event)
        try:
            self.on_fault(request_id, error)
        except Exception:  # a failing reporter must not turn the answer into a function error
            _log.exception("the fault reporter failed for request %s", request_id)
        return json_response(500, {"error": f"internal error ({type(error).__name__}) while serving "
                                            f"{self._model_name!r}; quote the request id when reporting it",
                                   "request_id": request_id})

    def _route(self, event: dict[str, Any]) -> dict[str, Any]:
        request = parse_http_event(event)
        match = PREDICT_PATH.match(request.path)
        if match is None:
            raise HttpError(404, f"no route for {request.path}; use POST /v1/models/{self._model_name}:predict")
        if match["model"] != self._model_name:
            raise HttpError(404, f"model {match['model']!r} is not served here (this endpoint serves "
                                 f"{self._model_name!r})")
        if match["verb"] is None:
            if request.method != "GET":
                raise HttpError(405, f"use GET /v1/models/{self._model_name} for metadata")
            return json_response(200, self._metadata())
        if request.method != "POST":
            raise HttpError(405, f"use POST for /v1/models/{self._model_name}{match['verb']}, not {request.method}")
        document = parse_json_body(request.body)
        if not isinstance(document, dict) or "instances" not in document:
            raise HttpError(400, 'the body must be a JSON object with "instances": a list of feature objects')
        _refuse_as_http(check_instance_count, document["instances"])
        model = self._loaded()
        if match["verb"] == ":explain":
            assert self._pinned is not None
            return json_response(200, {**explain_document(model, document["instances"]),
                                       "model_name": self._model_name, "model_version": str(self._pinned.version)})
        try:
            prediction = model.predict(document["instances"])
        except InvalidInstances as error:
            raise HttpError(400, str(error)) from error
        assert self._pinned is not None
        response: dict[str, Any] = {"predictions": prediction.outputs, "model_name": self._model_name,
                                    "model_version": str(self._pinned.version)}
        if prediction.probabilities is not None:
            response["probabilities"] = prediction.probabilities
        violations = [violation.to_dict() for violation in prediction.violations]
        if violations:
            response["violations"] = violations
            if self.on_violations is not None:
                self.on_violations(prediction.violations)
        response["request_id"] = request_id = _request_id(event)
        # after the response: release telemetry (incl. shadow scoring) and the capture never delay the answer
        instances = document["instances"]
        if self.observer is not None:
            observer = self.observer
            self._defer(lambda: observer(instances, prediction, model))
        capture = self.capture
        if capture is not None and capture.sampled():
            version = response["model_version"]
            self._defer(lambda: _capture(capture, request_id, version, instances, prediction, model, violations))
        return json_response(200, response)

    def _metadata(self) -> dict[str, Any]:
        if self._pinned is None:
            return {"name": self._model_name, "ready": False}
        signature = self._loaded().signature
        return {"name": self._model_name, "ready": True, "model_version": str(self._pinned.version),
                "task": signature.task, "inputs": [{"name": i.name, "kind": i.kind} for i in signature.inputs],
                "optional": [column.name for column in signature.others],
                "classes": list(signature.classes) if signature.classes else None}

    def _loaded(self) -> ServedModel:
        if self._pinned is None:
            raise HttpError(503, f"no version of {self._model_name!r} is deployed yet")
        self.warm()
        assert self._model is not None
        return self._model


def _now(task: Callable[[], None]) -> None:
    task()


def _capture(capture: CaptureBuffer, request_id: str, version: str, instances: list[dict[str, Any]],
             prediction: Prediction, model: ServedModel, violations: Sequence[dict[str, Any]]) -> None:
    capture.record(request_id=request_id, model_version=version,
                   instances=captured_instances(instances, model.signature), outputs=prediction.outputs,
                   probabilities=prediction.probabilities, kinds=capture_kinds(model.signature),
                   violations=violations)


def _request_id(event: Any) -> str:
    """The caller's ``X-Request-Id`` (feedback joins on it), else the request id of the HTTP event, else a new id.

    Only printable ASCII without spaces is kept (at most 128 characters): the id is written to logs, captures and
    responses, so a value that cannot be written there is replaced rather than failing the request.
    """
    event = event if isinstance(event, dict) else {}
    raw_headers = event.get("headers")
    headers = ({str(key).lower(): value for key, value in raw_headers.items()} if isinstance(raw_headers, dict)
               else {})
    context = event.get("requestContext")
    for given in (headers.get("x-request-id"), context.get("requestId") if isinstance(context, dict) else None):
        if isinstance(given, str) and _REQUEST_ID.fullmatch(given[:128]):
            return given[:128]
    return str(uuid.uuid4())


def _refuse_as_http(check: Callable[[Any], None], value: Any) -> None:
    try:
        check(value)
    except RequestRefused as refused:
        raise HttpError(refused.status, refused.message) from refused


def _log_fault(request_id: str, error: BaseException) -> None:
    _log.error("request %s failed: %s: %s", request_id, type(error).__name__, error, exc_info=error)
