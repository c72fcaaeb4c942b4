"""The predict endpoint: KServe/TF-Serving V1 JSON over a Function URL, served from a pinned ONNX model.

Imports neither pandas, pyarrow nor scipy: the predict package stays slim and starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.lazy import lazy_exports

if TYPE_CHECKING:
    from sluice.predict.capture import CaptureBuffer, FirehoseSink, buffer_from_env
    from sluice.predict.http import HttpError, HttpRequest, json_response, parse_http_event
    from sluice.predict.service import PredictService

__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__)
