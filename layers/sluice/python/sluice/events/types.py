"""Event names: PascalCase facts in the past tense."""

from __future__ import annotations

from enum import StrEnum


class DetailType(StrEnum):
    DATASET_ACCEPTED = "DatasetAccepted"
    DATASET_REJECTED = "DatasetRejected"
    MODEL_TRAINED = "ModelTrained"
    TRAINING_FAILED = "TrainingFailed"
    TRAINING_SKIPPED = "TrainingSkipped"
    """A retrain on the same data with the same config as an existing version: no new version."""
    MODEL_EVALUATED = "ModelEvaluated"
    APPROVAL_REQUESTED = "ApprovalRequested"
    """A version the gate approved waits for a human (``deployment.approval = "manual"``)."""
    APPROVAL_DECIDED = "ApprovalDecided"
    """A human's or an automation's decision on a pending version (approve or reject, reason, actor)."""
    APPROVAL_EXPIRED = "ApprovalExpired"
    DEPLOYMENT_STARTED = "DeploymentStarted"
    DEPLOYMENT_QUEUED = "DeploymentQueued"
    DEPLOYMENT_PROGRESSED = "DeploymentProgressed"
    AB_TEST_CONCLUDED = "AbTestConcluded"
    MODEL_DEPLOYED = "ModelDeployed"
    DEPLOYMENT_ABORTED = "DeploymentAborted"
    MODEL_ROLLED_BACK = "ModelRolledBack"
    ROLLBACK_SKIPPED = "RollbackSkipped"
    DRIFT_DETECTED = "DriftDetected"
    LIVE_QUALITY_MEASURED = "LiveQualityMeasured"
