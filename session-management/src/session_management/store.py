"""Sessions and WebSocket connections in DynamoDB.

Tables (names from the environment, so each stage can have its own):

| env var           | default        | key                                        |
|-------------------|----------------|--------------------------------------------|
| SESSIONS_TABLE    | ws-sessions    | sessionId (S)                              |
| CONNECTIONS_TABLE | ws-connections | connectionId (S); GSI bySession on         |
|                   |                | sessionId (S), projecting role             |
| RATE_LIMIT_TABLE  | ws-rate-limits | key (S) (see websocket_service.rate_limit) |

Session items: speakerConnectionId, state (ACTIVE/PAUSED/ENDED), muted, volume (0..100),
createdAt, endedAt. Connection items: sessionId, role (speaker/listener), connectedAt.
``expiresAt`` (epoch seconds) is each table's TTL attribute: connections whose $disconnect
was missed and old sessions disappear on their own.

`SessionStore` is the repository of the session model (`session_model`); its calls go
through `websocket_service.dynamodb`, so a failed call raises `StoreError` with the operation
and error code, which the handlers count as DynamoDBErrors; a failed condition ("the session
already exists") is a domain outcome, never an error. `create_tables` writes the schema
above (for emulators and tests; on AWS the CDK stack owns the tables).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from session_management.session_model import (
    DEFAULT_VOLUME,
    Connection,
    JoinOutcome,
    Role,
    Session,
    SessionState,
)
from websocket_service.dynamodb import (
    TTL_ATTRIBUTE,
    ConditionFailed,
    call_dynamodb,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SESSIONS_TABLE_ENV = "SESSIONS_TABLE"
CONNECTIONS_TABLE_ENV = "CONNECTIONS_TABLE"
RATE_LIMIT_TABLE_ENV = "RATE_LIMIT_TABLE"

# Global secondary index of the connections table: a session's connections.
CONNECTIONS_BY_SESSION_INDEX = "bySession"

# API Gateway closes a WebSocket connection after 2 hours at most; a connection item older
# than that belongs to a $disconnect that never arrived.
CONNECTION_TTL_SECONDS = 3 * 3600
# Sessions end with their speaker's connection (2 h at most); a day leaves time for support.
SESSION_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class TableNames:
    sessions: str = "ws-sessions"
    connections: str = "ws-connections"
    rate_limits: str = "ws-rate-limits"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TableNames:
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            sessions=env.get(SESSIONS_TABLE_ENV) or default.sessions,
            connections=env.get(CONNECTIONS_TABLE_ENV) or default.connections,
            rate_limits=env.get(RATE_LIMIT_TABLE_ENV) or default.rate_limits,
        )


class SessionStore:
    """Sessions and their connections. One instance per Lambda environment (warm reuse)."""

    def __init__(
        self,
        client: Any,
        tables: TableNames | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.tables = tables or TableNames()
        self._clock = clock

    # -- sessions ----------------------------------------------------------------------------

    def create_session(self, session_id: str, speaker_connection_id: str) -> bool:
        """Create a session with its speaker's connection; False if the id is taken."""
        now = self._clock()
        session_item = {
            "sessionId": {"S": session_id},
            "speakerConnectionId": {"S": speaker_connection_id},
            "state": {"S": SessionState.ACTIVE.value},
            "muted": {"BOOL": False},
            "volume": {"N": str(DEFAULT_VOLUME)},
            "createdAt": {"N": _number(now)},
            TTL_ATTRIBUTE: {"N": str(int(now) + SESSION_TTL_SECONDS)},
        }
        try:
            # One transaction: a session never exists without its speaker's connection.
            call_dynamodb(
                "TransactWriteItems",
                self.client.transact_write_items,
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.tables.sessions,
                            "Item": session_item,
                            "ConditionExpression": "attribute_not_exists(sessionId)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.tables.connections,
                            "Item": self._connection_item(
                                speaker_connection_id, session_id, Role.SPEAKER, now
                            ),
                        }
                    },
                ],
            )
        except ConditionFailed:
            return False
        return True

    def get_session(self, session_id: str) -> Session | None:
        response = call_dynamodb(
            "GetItem",
            self.client.get_item,
            TableName=self.tables.sessions,
            Key={"sessionId": {"S": session_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _session_from_item(item) if item else None

    def update_session(
        self,
        session_id: str,
        *,
        state: SessionState | None = None,
        muted: bool | None = None,
        volume: int | None = None,
    ) -> Session | None:
        """Change a live session; None if it does not exist or has ended (nothing changed)."""
        changes: dict[str, Any] = {}
        if state is not None:
            changes["state"] = {"S": state.value}
            if state is SessionState.ENDED:
                changes["endedAt"] = {"N": _number(self._clock())}
        if muted is not None:
            changes["muted"] = {"BOOL": muted}
        if volume is not None:
            changes["volume"] = {"N": str(volume)}
        if not changes:
            raise ValueError("update_session needs at least one change")
        # Placeholders for every name: some attribute names are DynamoDB reserved words.
        names = {f"#{name}": name for name in changes}
        names["#state"] = "state"
        values = {f":{name}": value for name, value in changes.items()}
        values[":ended"] = {"S": SessionState.ENDED.value}
        try:
            response = call_dynamodb(
                "UpdateItem",
                self.client.update_item,
                TableName=self.tables.sessions,
                Key={"sessionId": {"S": session_id}},
                UpdateExpression="SET " + ", ".join(f"#{n} = :{n}" for n in changes),
                ConditionExpression="attribute_exists(sessionId) AND #state <> :ended",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return None
        return _session_from_item(response["Attributes"])

    def end_session(self, session_id: str) -> Session | None:
        """Mark a session ENDED; None if it does not exist or had already ended."""
        return self.update_session(session_id, state=SessionState.ENDED)

    def live_sessions(self) -> Iterator[Session]:
        """Every session that has not ended.

        A Scan: ended sessions expire by TTL, so the table holds little more than the live
        sessions, and this runs once per status period, not per message.
        """
        kwargs: dict[str, Any] = {
            "TableName": self.tables.sessions,
            "FilterExpression": "#state <> :ended",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {":ended": {"S": SessionState.ENDED.value}},
        }
        while True:
            response = call_dynamodb("Scan", self.client.scan, **kwargs)
            for item in response.get("Items", []):
                yield _session_from_item(item)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    # -- connections -------------------------------------------------------------------------

    def join_session(self, session_id: str, listener_connection_id: str) -> JoinOutcome:
        """Register a listener's connection with a live session."""
        now = self._clock()
        try:
            # The check and the write in one transaction: no listener joins an ended session.
            call_dynamodb(
                "TransactWriteItems",
                self.client.transact_write_items,
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self.tables.sessions,
                            "Key": {"sessionId": {"S": session_id}},
                            "ConditionExpression": "attribute_exists(sessionId) AND "
                            "#state <> :ended",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": {
                                ":ended": {"S": SessionState.ENDED.value}
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.tables.connections,
                            "Item": self._connection_item(
                                listener_connection_id, session_id, Role.LISTENER, now
                            ),
                        }
                    },
                ],
            )
        except ConditionFailed:
            session = self.get_session(session_id)
            return JoinOutcome.SESSION_NOT_FOUND if session is None else JoinOutcome.SESSION_ENDED
        return JoinOutcome.JOINED

    def get_connection(self, connection_id: str) -> Connection | None:
        response = call_dynamodb(
            "GetItem",
            self.client.get_item,
            TableName=self.tables.connections,
            Key={"connectionId": {"S": connection_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _connection_from_item(item) if item else None

    def remove_connection(self, connection_id: str) -> Connection | None:
        """Forget a connection; returns what was stored (None if nothing was)."""
        response = call_dynamodb(
            "DeleteItem",
            self.client.delete_item,
            TableName=self.tables.connections,
            Key={"connectionId": {"S": connection_id}},
            ReturnValues="ALL_OLD",
        )
        item = response.get("Attributes")
        return _connection_from_item(item) if item else None

    def listener_connection_ids(self, session_id: str) -> list[str]:
        return [
            item["connectionId"]["S"]
            for item in self._session_connections(session_id)
            if item.get("role", {}).get("S") == Role.LISTENER.value
        ]

    def count_listeners(self, session_id: str) -> int:
        return len(self.listener_connection_ids(session_id))

    def _session_connections(self, session_id: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.tables.connections,
            "IndexName": CONNECTIONS_BY_SESSION_INDEX,
            "KeyConditionExpression": "sessionId = :sid",
            "ExpressionAttributeValues": {":sid": {"S": session_id}},
        }
        while True:
            response = call_dynamodb("Query", self.client.query, **kwargs)
            yield from response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    @staticmethod
    def _connection_item(
        connection_id: str, session_id: str, role: Role, now: float
    ) -> dict[str, Any]:
        return {
            "connectionId": {"S": connection_id},
            "sessionId": {"S": session_id},
            "role": {"S": role.value},
            "connectedAt": {"N": _number(now)},
            TTL_ATTRIBUTE: {"N": str(int(now) + CONNECTION_TTL_SECONDS)},
        }

    # -- tables (tests and local runs; the real ones are defined by infra) -------------------

    def create_tables(self) -> None:
        """Create the three tables as infra defines them (for emulators and local runs)."""
        simple = {"BillingMode": "PAY_PER_REQUEST"}
        self.client.create_table(
            TableName=self.tables.sessions,
            KeySchema=[{"AttributeName": "sessionId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "sessionId", "AttributeType": "S"}],
            **simple,
        )
        self.client.create_table(
            TableName=self.tables.connections,
            KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "connectionId", "AttributeType": "S"},
                {"AttributeName": "sessionId", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": CONNECTIONS_BY_SESSION_INDEX,
                    "KeySchema": [{"AttributeName": "sessionId", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["role"]},
                }
            ],
            **simple,
        )
        self.client.create_table(
            TableName=self.tables.rate_limits,
            KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
            **simple,
        )
        for table in self._all_tables():
            # Real DynamoDB refuses TTL changes while a table is still CREATING (seconds);
            # emulators answer ACTIVE at once.
            self.client.get_waiter("table_exists").wait(
                TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
            )
            self.client.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
            )

    def delete_tables(self) -> None:
        """Delete the three tables (a local run's own, on LocalStack or real AWS); tables
        that do not exist are skipped."""
        for table in self._all_tables():
            try:
                self.client.delete_table(TableName=table)
            except self.client.exceptions.ResourceNotFoundException:
                continue

    def _all_tables(self) -> tuple[str, str, str]:
        return (self.tables.sessions, self.tables.connections, self.tables.rate_limits)


def _number(value: float) -> str:
    # Milliseconds are plenty, and DynamoDB numbers must not carry float noise like 1e-07.
    return f"{value:.3f}"


def _session_from_item(item: Mapping[str, Any]) -> Session:
    ended_at = item.get("endedAt")
    return Session(
        session_id=item["sessionId"]["S"],
        speaker_connection_id=item["speakerConnectionId"]["S"],
        state=SessionState(item["state"]["S"]),
        muted=bool(item.get("muted", {}).get("BOOL", False)),
        volume=int(item.get("volume", {}).get("N", DEFAULT_VOLUME)),
        created_at=float(item["createdAt"]["N"]),
        ended_at=float(ended_at["N"]) if ended_at else None,
    )


def _connection_from_item(item: Mapping[str, Any]) -> Connection:
    return Connection(
        connection_id=item["connectionId"]["S"],
        session_id=item["sessionId"]["S"],
        role=Role(item["role"]["S"]),
        connected_at=float(item.get("connectedAt", {}).get("N", 0)),
    )
