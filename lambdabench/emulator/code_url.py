"""GetFunction's `Code.Location`: a presigned download URL of a function's zip, served by the emulator.

On AWS, `Code.Location` is an S3 presigned URL "valid for up to 10 minutes" (API reference,
FunctionCodeLocation). Here it is an http URL on the emulator's own endpoint, shaped like S3's SigV4
query presign (`X-Amz-Date`, `X-Amz-Expires`, `X-Amz-Signature`), so code that downloads a function's
package works the same against both, including when the link is stale:

- expired (now > X-Amz-Date + X-Amz-Expires): 403 `AccessDenied` "Request has expired", as S3 answers;
- any part of the path or query altered: 403 `SignatureDoesNotMatch`, S3's wording;
- signed but the package is gone (function deleted, emulator restarted): 404 `NoSuchKey`.
S3 errors are XML, not Lambda's JSON. The signature is an HMAC of the path, date and expiry under a
key that lives only in this emulator process. The clock is passed in, so tests can age a URL.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

# AWS API reference "FunctionCodeLocation": "The URL is valid for up to 10 minutes."
CODE_URL_TTL_S = 600
PATH_PREFIX = "/_lambdabench/code/"
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

Response = tuple[int, dict[str, str], bytes]


class CodeLinks:
    """Signs and checks code download URLs for one emulator. `endpoint` is set once the server listens."""

    def __init__(self, zip_path: Callable[[str], Path | None], *, clock: Callable[[], float] = time.time,
                 ttl_s: int = CODE_URL_TTL_S, key: bytes | None = None):
        self._zip_path = zip_path
        self._clock = clock
        self.ttl_s = ttl_s
        self._key = key or secrets.token_bytes(32)
        self.endpoint = ""

    def url(self, region: str, sha256_hex: str) -> str:
        """A presigned URL of the zip whose SHA-256 (hex) is `sha256_hex`, valid for `ttl_s` from now."""
        path = f"{PATH_PREFIX}{region}/{sha256_hex}.zip"
        date = datetime.fromtimestamp(self._clock(), timezone.utc).strftime(_DATE_FORMAT)
        expires = str(self.ttl_s)
        credential = quote(f"lambdabench/{date[:8]}/{region}/s3/aws4_request", safe="")
        return (f"{self.endpoint}{path}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}"
                f"&X-Amz-Date={date}&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host"
                f"&X-Amz-Signature={self._sign(path, date, expires)}")

    def _sign(self, path: str, date: str, expires: str) -> str:
        return hmac.new(self._key, f"{path}\n{date}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def serve(self, path: str, query: dict[str, str]) -> Response:
        """Answer a GET of a code URL as S3 answers a presigned GET."""
        date, expires, signature = (query.get(k, "") for k in ("X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature"))
        if not (date and expires and signature):
            return _s3_error(403, "AccessDenied", "Access Denied")
        if not hmac.compare_digest(self._sign(path, date, expires), signature):
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                             "signature you provided. Check your key and signing method.")
        signed_at = datetime.strptime(date, _DATE_FORMAT).replace(tzinfo=timezone.utc).timestamp()
        now = self._clock()
        if now > signed_at + int(expires):
            return _s3_error(403, "AccessDenied", "Request has expired",
                             **{"X-Amz-Expires": expires, "Expires": _iso(signed_at + int(expires)),
                                "ServerTime": _iso(now)})
        sha_hex = path[len(PATH_PREFIX):].split("/", 1)[-1].removesuffix(".zip")
        zip_file = self._zip_path(sha_hex)
        if zip_file is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return 200, {"Content-Type": "application/zip"}, zip_file.read_bytes()


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _s3_error(status: int, code: str, message: str, **extra: str) -> Response:
    request_id = uuid.uuid4().hex[:16].upper()
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in extra.items())
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(message)}</Message>'
            f"{fields}<RequestId>{request_id}</RequestId><HostId>lambdabench</HostId></Error>")
    return status, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body.encode()
