"""Prometheus metrics, one registry for the whole process (served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = Counter(
    "exports_bot_commands_total",
    "Slash commands and DMs handled, by command kind and outcome",
    ["command", "outcome"],
    registry=REGISTRY,
)
PEAKA_REQUESTS = Counter(
    "exports_bot_peaka_requests_total",
    "Requests to the Peaka API, by operation and outcome",
    ["operation", "outcome"],
    registry=REGISTRY,
)
ALERTS_SENT = Counter(
    "exports_bot_alerts_sent_total",
    "Alerts posted to Slack, by kind (channel, digest, dm)",
    ["kind"],
    registry=REGISTRY,
)
ALERTS_DEDUPLICATED = Counter(
    "exports_bot_alerts_deduplicated_total",
    "Alerts not sent because they were already logged, by where the duplicate was caught",
    ["layer"],
    registry=REGISTRY,
)
POLL_CYCLE_SECONDS = Histogram(
    "exports_bot_poll_cycle_seconds",
    "Wall time of one poll cycle over every subscribed project",
    registry=REGISTRY,
)
POLL_LAST_CYCLE = Gauge(
    "exports_bot_poll_last_cycle_timestamp_seconds",
    "Unix time at which the last poll cycle finished",
    registry=REGISTRY,
)
SLACK_API_ERRORS = Counter(
    "exports_bot_slack_api_errors_total",
    "Slack Web API calls that failed, by method and error code",
    ["method", "error"],
    registry=REGISTRY,
)
