"""``POST /v1/models/<model>:explain``: the prediction and each feature's contribution to it, per instance."""

from __future__ import annotations

import math
from typing import Any

from sluice.predict.http import HttpError
from sluice.serving import InvalidInstances, ServedModel, read_instances


def explain_document(model: ServedModel, instances: Any) -> dict[str, Any]:
    """The explain answer for ``instances`` (already a list within the request bounds); refusals are HttpError."""
    from sluice.explain.model import MAX_EXPLAIN_INSTANCES  # the first :explain request, not the function's init

    if not isinstance(instances, list):
        raise HttpError(400, '"instances" must be a list of feature objects')
    if len(instances) > MAX_EXPLAIN_INSTANCES:
        raise HttpError(413, f"explain takes at most {MAX_EXPLAIN_INSTANCES} instances per request "
                             f"(got {len(instances)}); send them in batches")
    explainer = model.explainer()
    if explainer is None:
        raise HttpError(501, "this version has no explainer: it is served by its scikit-learn fallback "
                             "(its ONNX export disagreed), which is predicted but not explained")
    try:
        prediction = model.predict(instances)
        tensors = read_instances(instances, model.signature).tensors
    except InvalidInstances as error:
        raise HttpError(400, str(error)) from error
    explanations = explainer.explain(tensors, prediction.outputs)
    for index, explanation in enumerate(explanations):
        numbers = [explanation.base, explanation.value, *explanation.contributions.values()]
        if not all(math.isfinite(number) for number in numbers):
            raise HttpError(400, f"instance {index}: the contributions are not finite numbers for these feature "
                                 "values; they are outside the range the model can explain")
    document: dict[str, Any] = {
        "predictions": prediction.outputs,
        "explanations": [explanation.to_dict() for explanation in explanations],
        "method": ("exact linear contributions" if explainer.method == "linear"
                   else "tree path contributions (Saabas): exact sums, per-feature credit approximate"),
    }
    if prediction.probabilities is not None:
        document["probabilities"] = prediction.probabilities
    return document
