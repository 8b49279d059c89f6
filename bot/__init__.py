"""peaka-exports-bot: a Slack chat-ops bot for Peaka export jobs."""

__version__ = "0.1.0"
