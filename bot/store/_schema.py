"""The tables (SQLAlchemy Core). Changing one means adding a migration in ``_migrations.py``."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from bot.store._types import UtcDateTime

__all__ = [
    "METADATA",
    "alert_log",
    "channel_mutes",
    "connect_invites",
    "dm_preferences",
    "done_requests",
    "job_states",
    "linked_keys",
    "project_leases",
    "project_states",
    "replicas",
    "schema_version",
    "single_instance",
    "subscriptions",
]

METADATA = MetaData()

schema_version = Table(
    "schema_version",
    METADATA,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UtcDateTime, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    METADATA,
    Column("channel_id", String, nullable=False),
    Column("project_id", String, nullable=False),
    Column("statuses", String, nullable=False),  # "FAILED,SUCCEEDED"
    Column("created_by", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("broken_reason", Text, nullable=True),
    PrimaryKeyConstraint("channel_id", "project_id"),
    Index("ix_subscriptions_project", "project_id"),
)

channel_mutes = Table(
    "channel_mutes",
    METADATA,
    Column("channel_id", String, primary_key=True),
    Column("muted_until", UtcDateTime, nullable=False),
)

job_states = Table(
    "job_states",
    METADATA,
    Column("project_id", String, nullable=False),
    Column("job_id", String, nullable=False),
    Column("status", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("user_name", String, nullable=True),
    PrimaryKeyConstraint("project_id", "job_id"),
    Index("ix_job_states_status", "project_id", "status", "created_at"),
    Index("ix_job_states_created", "project_id", "created_at"),
)

project_states = Table(
    "project_states",
    METADATA,
    Column("project_id", String, primary_key=True),
    Column("baseline_at", UtcDateTime, nullable=True),
    Column("newest_created_at", UtcDateTime, nullable=True),
    Column("newest_seen_ids", Text, nullable=False),  # JSON list, sorted
    Column("last_polled_at", UtcDateTime, nullable=True),
    # A fresh random token set by every write of the project's poll state or job states
    # (None: not written since migration 2): a poller's copy of the job states is current
    # while the token is the one it read or wrote with that copy.
    Column("revision", String, nullable=True),
)

alert_log = Table(
    "alert_log",
    METADATA,
    Column("job_id", String, nullable=False),
    Column("status", String, nullable=False),
    Column("target", String, nullable=False),  # a channel id, or "dm:U123"
    Column("project_id", String, nullable=False),
    Column("state", String, nullable=False),  # claimed | sent | failed | suppressed
    Column("claimed_by", String, nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("slack_channel", String, nullable=True),
    Column("slack_ts", String, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    PrimaryKeyConstraint("job_id", "status", "target", name="pk_alert_log"),
    Index("ix_alert_log_state", "state", "claimed_at"),
)

linked_keys = Table(
    "linked_keys",
    METADATA,
    Column("slack_user_id", String, primary_key=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("key_prefix", String, nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),
)

dm_preferences = Table(
    "dm_preferences",
    METADATA,
    Column("user_id", String, primary_key=True),
    Column("dm_enabled", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

connect_invites = Table(
    "connect_invites",
    METADATA,
    Column("user_id", String, primary_key=True),
    Column("sent_at", UtcDateTime, nullable=False),
)

done_requests = Table(
    "done_requests",
    METADATA,
    Column("project_id", String, nullable=False),
    Column("job_id", String, nullable=False),
    Column("user_id", String, nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("project_id", "job_id", "user_id"),
)

project_leases = Table(
    "project_leases",
    METADATA,
    Column("project_id", String, primary_key=True),
    Column("holder", String, nullable=True),  # None: free
    Column("expires_at", UtcDateTime, nullable=True),
)

replicas = Table(
    "replicas",
    METADATA,
    Column("replica_id", String, primary_key=True),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
)

single_instance = Table(
    "single_instance",
    METADATA,
    Column("slot", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("instance_id", String, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
