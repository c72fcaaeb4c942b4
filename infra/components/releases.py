"""Safe releases: the notifications topic and the alarms that roll a model back at any time.

Every alarm is declared in sluice.wiring.alarms (the local stack provisions the same ones). Per model, beside
the endpoint's request alarms (infra/components/endpoint.py), this construct holds the prediction-shift and
live-accuracy alarms, the throttle alarm (notifies, never rolls back) and the ``health`` composite that notifies
once per incident. Every rollback alarm is named ``<prefix>-<model>-…``, so its ALARM reaches rollback_model
(the wiring's endpoint-alarm route); rollback_model acts once per incident and notifies on the topic.
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.components.alarms import composite_alarm, metric_alarm
from infra.components.endpoint import Endpoints
from sluice.wiring.alarms import SHIFT_KIND, StageAlarms


class Notifications(Construct):
    """The SNS topic releases, rollbacks and the health alarms publish to (TLS only, encrypted with a key
    CloudWatch may use: alarm actions cannot publish to a topic under the AWS-managed SNS key)."""

    def __init__(self, scope: Construct, construct_id: str, *, topic_name: str, removal_policy: RemovalPolicy
                 ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(self, "Key", description=f"Encrypts {topic_name}", enable_key_rotation=True,
                           removal_policy=removal_policy)
        self.key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))
        self.topic = sns.Topic(self, "Topic", topic_name=topic_name, display_name="sluice releases and rollbacks",
                               enforce_ssl=True, master_key=self.key)

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """sns:Publish on the topic and the two key actions it needs (no wildcard actions)."""
        iam.Grant.add_to_principal(grantee=grantee, actions=["sns:Publish"], resource_arns=[self.topic.topic_arn])
        iam.Grant.add_to_principal(grantee=grantee, actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                   resource_arns=[self.key.key_arn])


class ReleaseAlarms(Construct):
    """The alarms of every model the endpoint does not hold (sluice.wiring.alarms); ``health[model]`` is the
    composite of its rollback alarms, the one that notifies; the throttle alarm notifies on its own."""

    def __init__(self, scope: Construct, construct_id: str, *, alarms: StageAlarms, endpoints: Endpoints,
                 topic: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        self.health: dict[str, cloudwatch.CompositeAlarm] = {}
        self.alarms: dict[str, list[cloudwatch.IAlarm]] = {}
        for composite in alarms.composites:
            endpoint = endpoints.by_model[composite.model]
            by_name: dict[str, cloudwatch.IAlarm] = {
                spec.name: endpoint.alarms[spec.kind] for spec in alarms.of_model(composite.model)
                if spec.kind in endpoint.alarms}
            for spec in alarms.of_model(composite.model):
                if spec.name not in by_name:  # the shift alarm keeps the bare CfnAlarm (and logical id) it had
                    by_name[spec.name] = metric_alarm(self, f"{_camel(composite.model)}{_camel(spec.kind)}", spec,
                                                      topic=topic, level1=spec.kind == SHIFT_KIND)
            self.health[composite.model] = composite_alarm(self, f"{_camel(composite.model)}Health", composite,
                                                           by_name, topic=topic)
            self.alarms[composite.model] = [by_name[name] for name in composite.members]


def _camel(name: str) -> str:
    return "".join(word.capitalize() for word in name.split("-"))
