"""Lambda function references: a name, a partial ARN or a full ARN, split into their parts.

The one place that knows how a function is named (scenario validation, the sweep's preflight and the
copy's name all read it from here). Dependency-free, so the emulator may import it too.

Lambda accepts, for FunctionName: `name`, `name:qualifier`, `account:function:name[:qualifier]` and
`arn:<partition>:lambda:<region>:<account>:function:name[:qualifier]` (API reference, GetFunction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# CreateFunction FunctionName: 1-64 of letters, digits, '-' and '_'.
NAME_MAX_CHARS = 64
_NAME = r"[A-Za-z0-9_-]{1,64}"
# A version number, $LATEST or an alias name (1-128, starting with a letter or digit... AWS allows '-', '_').
_QUALIFIER = r"(\$LATEST|[A-Za-z0-9_-]{1,128})"
_REGION = r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+"
NAME_RE = re.compile(rf"^{_NAME}$")
REGION_RE = re.compile(rf"^{_REGION}$")
_ARN_RE = re.compile(
    rf"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>{_REGION}):(?P<account>\d{{12}}):function:"
    rf"(?P<name>{_NAME})(:(?P<qualifier>{_QUALIFIER}))?$"
)
_PARTIAL_RE = re.compile(rf"^(?P<account>\d{{12}}):function:(?P<name>{_NAME})(:(?P<qualifier>{_QUALIFIER}))?$")
_QUALIFIED_NAME_RE = re.compile(rf"^(?P<name>{_NAME}):(?P<qualifier>{_QUALIFIER})$")


@dataclass(frozen=True)
class FunctionRef:
    """What a function reference says; None where it does not say it."""

    text: str  # as given
    name: str
    region: str | None = None
    account: str | None = None
    partition: str | None = None
    qualifier: str | None = None

    @property
    def is_arn(self) -> bool:
        return self.text.startswith("arn:")

    @property
    def unqualified(self) -> str:
        """The reference without its :qualifier (an ARN stays an ARN)."""
        if self.qualifier is None:
            return self.text
        return self.text[: -(len(self.qualifier) + 1)]


def parse_function(text: str) -> FunctionRef | None:
    """Split a function name or ARN; None when `text` is neither."""
    match = _ARN_RE.match(text)
    if match:
        return FunctionRef(text=text, name=match["name"], region=match["region"], account=match["account"],
                           partition=match["partition"], qualifier=match["qualifier"])
    match = _PARTIAL_RE.match(text)
    if match:
        return FunctionRef(text=text, name=match["name"], account=match["account"], qualifier=match["qualifier"])
    match = _QUALIFIED_NAME_RE.match(text)
    if match:
        return FunctionRef(text=text, name=match["name"], qualifier=match["qualifier"])
    if NAME_RE.match(text):
        return FunctionRef(text=text, name=text)
    return None


def derived_name(name: str, suffix: str) -> str:
    """`name` + `suffix`, the name cut so the whole fits Lambda's 64 characters."""
    if len(suffix) >= NAME_MAX_CHARS:
        raise ValueError(f"suffix {suffix!r} leaves no room for a name")
    return name[: NAME_MAX_CHARS - len(suffix)] + suffix


__all__ = ["FunctionRef", "NAME_MAX_CHARS", "NAME_RE", "REGION_RE", "derived_name", "parse_function"]
