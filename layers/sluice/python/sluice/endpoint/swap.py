"""Publish a predict version pinned to a model and move alias ``live`` (never CloudFormation's job)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sluice.endpoint.pinning import ENV_MODEL_VERSION, PinnedModel
from sluice.naming import LIVE_ALIAS


class SwapError(RuntimeError):
    """The endpoint could not be changed."""


class EndpointSwapper:
    """Operates on one model's predict function."""

    def __init__(self, lambda_client: Any, function_name: str) -> None:
        self._lambda = lambda_client
        self.function_name = function_name

    def publish_pinned(self, pinned: PinnedModel) -> str:
        """A published version whose environment pins ``pinned``; reuses one published earlier.

        Lambda gives a function a new RevisionId when an update settles (LastUpdateStatus InProgress →
        Successful), so the version is published against the revision read after the wait, once that
        revision is seen to still pin ``pinned`` (another writer in between is refused, not published).
        """
        existing = self._published_version_for(pinned)
        if existing is not None:
            return existing
        current = self._lambda.get_function_configuration(FunctionName=self.function_name)
        if current.get("LastUpdateStatus") == "InProgress":  # e.g. a stack update still settling
            self._wait_until_updated()
            current = self._lambda.get_function_configuration(FunctionName=self.function_name)
        variables = {**(current.get("Environment") or {}).get("Variables", {}), **pinned.to_env()}
        update: dict[str, Any] = {"FunctionName": self.function_name, "Environment": {"Variables": variables},
                                  "Description": f"sluice {pinned.model} v{pinned.version}"}
        if current.get("RevisionId"):
            update["RevisionId"] = current["RevisionId"]
        self._lambda.update_function_configuration(**update)
        self._wait_until_updated()
        settled = self._lambda.get_function_configuration(FunctionName=self.function_name)
        if PinnedModel.from_env((settled.get("Environment") or {}).get("Variables", {})) != pinned:
            raise SwapError(f"{self.function_name} was reconfigured while {pinned.model} v{pinned.version} "
                            "was being pinned")
        publish: dict[str, Any] = {"FunctionName": self.function_name,
                                   "Description": f"sluice {pinned.model} v{pinned.version}"}
        if settled.get("RevisionId"):
            publish["RevisionId"] = settled["RevisionId"]
        version: str = self._lambda.publish_version(**publish)["Version"]
        return version

    def live_version(self) -> str | None:
        alias = self._get_alias()
        if alias is None or alias.get("FunctionVersion") == "$LATEST":
            return None
        return str(alias["FunctionVersion"])

    def move_live(self, function_version: str) -> None:
        """Point ``live`` wholly at ``function_version`` (create the alias if it is missing)."""
        alias = self._get_alias()
        if alias is None:
            self._lambda.create_alias(FunctionName=self.function_name, Name=LIVE_ALIAS,
                                      FunctionVersion=function_version)
            return
        update: dict[str, Any] = {"FunctionName": self.function_name, "Name": LIVE_ALIAS,
                                  "FunctionVersion": function_version,
                                  "RoutingConfig": {"AdditionalVersionWeights": {}}}
        if alias.get("RevisionId"):
            update["RevisionId"] = alias["RevisionId"]
        self._update_alias(update)

    def shift(self, live_version: str, candidate_version: str, weight: float) -> None:
        """Serve ``weight`` of ``live`` from ``candidate_version`` and the rest from ``live_version``."""
        if not 0 < weight < 1:
            raise SwapError(f"a traffic weight must be between 0 and 1, not {weight}")
        alias = self._get_alias()
        if alias is None:
            raise SwapError(f"{self.function_name} has no alias {LIVE_ALIAS} to shift traffic on")
        update: dict[str, Any] = {"FunctionName": self.function_name, "Name": LIVE_ALIAS,
                                  "FunctionVersion": live_version,
                                  "RoutingConfig": {"AdditionalVersionWeights": {candidate_version: weight}}}
        if alias.get("RevisionId"):
            update["RevisionId"] = alias["RevisionId"]
        self._update_alias(update)

    def _update_alias(self, update: dict[str, Any]) -> None:
        try:
            self._lambda.update_alias(**update)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "PreconditionFailedException":
                raise SwapError(f"alias {LIVE_ALIAS} of {self.function_name} changed concurrently") from error
            raise

    def _get_alias(self) -> dict[str, Any] | None:
        try:
            alias: dict[str, Any] = self._lambda.get_alias(FunctionName=self.function_name, Name=LIVE_ALIAS)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        return alias

    def _published_version_for(self, pinned: PinnedModel) -> str | None:
        paginator = self._lambda.get_paginator("list_versions_by_function")
        for page in paginator.paginate(FunctionName=self.function_name):
            for version in page.get("Versions", []):
                if version.get("Version") == "$LATEST":
                    continue
                variables = (version.get("Environment") or {}).get("Variables", {})
                if PinnedModel.from_env(variables) == pinned and variables.get(ENV_MODEL_VERSION):
                    return str(version["Version"])
        return None

    def _wait_until_updated(self) -> None:
        waiter = self._lambda.get_waiter("function_updated_v2")
        waiter.wait(FunctionName=self.function_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
