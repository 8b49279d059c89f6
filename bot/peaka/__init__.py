"""Async client for Peaka's export-jobs API."""

from bot.peaka._models import (
    SERVER_FILTERABLE,
    TERMINAL,
    Compression,
    ExportFile,
    ExportFormat,
    ExportJob,
    ExportJobCreated,
    ExportRequest,
    Status,
    format_timestamp,
    parse_timestamp,
)

__all__ = [
    "SERVER_FILTERABLE",
    "TERMINAL",
    "Compression",
    "ExportFile",
    "ExportFormat",
    "ExportJob",
    "ExportJobCreated",
    "ExportRequest",
    "Status",
    "format_timestamp",
    "parse_timestamp",
]
