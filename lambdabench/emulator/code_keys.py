"""The customer managed KMS key a function's .zip deployment package is encrypted with (`SourceKMSKeyArn`).

CreateFunction takes it in `Code.SourceKMSKeyArn`, UpdateFunctionCode as a top-level `SourceKMSKeyArn`,
and GetFunction answers it in `Code.SourceKMSKeyArn`. As on Lambda (API reference, FunctionCode), a
package uploaded without one is encrypted with an AWS owned key: so an UpdateFunctionCode that leaves
it out clears the key (the behaviour that made an architecture switch silently drop a user's key).
Nothing is encrypted here; the emulator only keeps which key Lambda would have used, for $LATEST.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from lambdabench.emulator import errors as E

# botocore's KMSKeyArn shape: pattern (arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|(), at most 10,000 characters.
_KEY_ARN = re.compile(r"^(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)?$")
KEY_ARN_MAX_CHARS = 10_000


class CodeKeyStore:
    """SourceKMSKeyArn of each function's $LATEST code, by function name (absent: an AWS owned key)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, str] = {}

    @staticmethod
    def check(key: Any) -> str | None:
        if key is None or key == "":
            return None
        if not isinstance(key, str) or len(key) > KEY_ARN_MAX_CHARS or not _KEY_ARN.match(key):
            raise E.validation_error("sourceKMSKeyArn", key, "Member must satisfy regular expression pattern: "
                                     "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()")
        return key

    def set(self, name: str, key: Any) -> None:
        """The key of a package just uploaded: `key`, or none (an AWS owned key) when it is not given."""
        key = self.check(key)
        with self._lock:
            if key is None:
                self._keys.pop(name, None)
            else:
                self._keys[name] = key

    def code_fields(self, name: str) -> dict[str, str]:
        """What GetFunction's `Code` says about the key."""
        with self._lock:
            key = self._keys.get(name)
        return {"SourceKMSKeyArn": key} if key else {}

    def forget(self, name: str) -> None:
        with self._lock:
            self._keys.pop(name, None)
