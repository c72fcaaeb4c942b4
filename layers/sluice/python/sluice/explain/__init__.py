"""Per-prediction explanations: each feature's additive contribution to the model's raw output.

``model`` (NumPy only) is what the endpoint runs; ``build`` (scikit-learn) extracts it from a fitted pipeline at
training time, and the result travels inside the ONNX artifact (its metadata, covered by the artifact's sha256).
"""
