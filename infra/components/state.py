"""DynamoDB: the tables the manifest declares (sluice.wiring.tables): the registry and the idempotency store."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from sluice.wiring.tables import TABLES, Key, TableSpec

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER,
          "B": dynamodb.AttributeType.BINARY}


def _attribute(key: Key | None) -> dynamodb.Attribute | None:
    return None if key is None else dynamodb.Attribute(name=key.name, type=_TYPES[key.type])


class StateTables(Construct):
    """On-demand, encrypted, point-in-time recovery; the system of record (the registry) is always retained."""

    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy,
                 tables: tuple[TableSpec, ...] = TABLES) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.Table] = {}
        for spec in tables:
            table = dynamodb.Table(
                self,
                spec.role.capitalize(),
                partition_key=dynamodb.Attribute(name=spec.partition_key.name, type=_TYPES[spec.partition_key.type]),
                sort_key=_attribute(spec.sort_key),
                time_to_live_attribute=spec.ttl_attribute,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                deletion_protection=(removal_policy == RemovalPolicy.RETAIN) if spec.system_of_record else None,
                removal_policy=RemovalPolicy.RETAIN if spec.system_of_record else removal_policy,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(index_name=index.name,
                                                 partition_key=dynamodb.Attribute(
                                                     name=index.partition_key.name,
                                                     type=_TYPES[index.partition_key.type]),
                                                 sort_key=_attribute(index.sort_key))
            self.tables[spec.role] = table
        self.registry_table = self.tables["registry"]
        self.idempotency_table = self.tables["idempotency"]
