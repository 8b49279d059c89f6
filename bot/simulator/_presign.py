"""Presigned download links: HMAC-SHA256 over the file path and the expiry time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

__all__ = ["LinkRejected", "Presigner"]

_ALGORITHM = "AWS4-HMAC-SHA256"


class LinkRejected(Exception):
    """A download link was refused; ``code`` and ``message`` mirror S3's error XML."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message

    def to_xml(self, resource: str) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{self.message}</Message>"
            f"<Resource>{resource}</Resource></Error>"
        )


class Presigner:
    """Mints and checks links like ``/files/<job>/<name>?X-Amz-Expires=…&X-Amz-Signature=…``.

    ``X-Amz-Expires`` carries the absolute expiry in epoch microseconds (the signed value),
    so a link is refused once the simulator clock reaches it, and any edit breaks the signature.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        return "Presigner(secret=<hidden>)"

    @staticmethod
    def path_for(job_id: str, file_name: str) -> str:
        return f"/files/{quote(job_id, safe='')}/{quote(file_name, safe='')}"

    def url(self, origin: str, path: str, expires_at: datetime) -> str:
        """A presigned URL for ``path`` on ``origin`` (e.g. ``http://127.0.0.1:8080``)."""
        expires = str(_micros(expires_at))
        query = urlencode(
            {
                "X-Amz-Algorithm": _ALGORITHM,
                "X-Amz-Expires": expires,
                "X-Amz-Signature": self._sign(path, expires),
            }
        )
        return f"{origin.rstrip('/')}{path}?{query}"

    def check(self, path: str, query: Mapping[str, str], now: datetime) -> None:
        """Raise LinkRejected unless ``query`` is a valid, unexpired signature for ``path``."""
        expires = query.get("X-Amz-Expires", "")
        signature = query.get("X-Amz-Signature", "")
        if not expires or not signature:
            raise LinkRejected(
                403, "AccessDenied", "Query-string authentication requires the Signature and "
                "Expires parameters",
            )  # fmt: skip
        if not expires.isdigit() or not hmac.compare_digest(signature, self._sign(path, expires)):
            raise LinkRejected(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if _micros(now) >= int(expires):
            raise LinkRejected(403, "AccessDenied", "Request has expired")

    def _sign(self, path: str, expires: str) -> str:
        message = f"{path}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)
