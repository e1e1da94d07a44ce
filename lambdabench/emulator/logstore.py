"""The emulator's CloudWatch Logs: a thread-safe in-memory store of log groups, streams and events.

Sandboxes write into it; the Logs JSON API (`logs_api.py`) reads it. Every read returns plain dicts in
the exact shape of the CloudWatch Logs API response (botocore model logs/2014-03-28), so the API layer
only serialises them.

INTERFACE (the sandbox code calls `put_log_events`; everything else is for the API layer and tests):

    store = LogStore(clock_ms=lambda: int(time.time() * 1000))
    store.put_log_events("/aws/lambda/fn", "2026/11/27/[$LATEST]0123...", [(timestamp_ms, "message"), ...])
        # creates the group and the stream when missing; events may arrive in any order (kept sorted
        # by timestamp inside their stream); sets ingestionTime (clock) and a 56-digit eventId.
    store.describe_log_groups(prefix=None, limit=50, next_token=None)         -> {"logGroups", "nextToken"?}
    store.describe_log_streams(group, prefix=None, order_by="LogStreamName", descending=False,
                               limit=50, next_token=None)                      -> {"logStreams", "nextToken"?}
    store.get_log_events(group, stream, start_time=None, end_time=None, start_from_head=False,
                         limit=10000, next_token=None)     -> {"events", "nextForwardToken", "nextBackwardToken"}
    store.filter_log_events(group, stream_names=None, stream_prefix=None, start_time=None, end_time=None,
                            filter_pattern=None, limit=10000, next_token=None, start_from_head=True)
                                                           -> {"events", "searchedLogStreams", "nextToken"?}
    store.create_log_group(group), store.create_log_stream(group, stream), store.delete_log_group(group)

Failures raise `LogsError` subclasses carrying the AWS error code and message
(ResourceNotFoundException, ResourceAlreadyExistsException, InvalidParameterException).

Semantics kept from AWS:
- GetLogEvents tokens are `f/<56 digits>/s` and `b/<56 digits>/s`; at the end of the stream the call
  answers with the very token it was given. Without a token, start_from_head=False returns the latest
  events (still oldest-first inside the page). startTime is inclusive, endTime exclusive.
- FilterLogEvents merges the chosen streams by (timestamp, arrival); startTime and endTime are both
  inclusive; `nextToken` appears only while more matching events remain; `searchedLogStreams` is an
  empty list, as AWS has answered since May 2020.
- A page holds at most `limit` events and at most 1 MB (message UTF-8 bytes + 26 per event, AWS's count).

Memory bound: each log group keeps at most `max_bytes_per_group` (default 64 MiB, counted as AWS counts
event size) — when a write goes over, the group's oldest-written events are dropped first, like a
retention period measured in bytes. Streams and groups themselves are kept until deleted.
"""

from __future__ import annotations

import base64
import bisect
import collections
import heapq
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lambdabench.emulator import filter_pattern as _filter_pattern

# AWS counts an event's size as its UTF-8 message bytes plus 26 bytes of overhead (PutLogEvents docs).
EVENT_OVERHEAD_BYTES = 26
# A GetLogEvents / FilterLogEvents page holds at most 1 MB of events (API reference of both operations).
PAGE_MAX_BYTES = 1_048_576
EVENTS_LIMIT_MAX = 10_000
DESCRIBE_LIMIT_MAX = 50
DEFAULT_MAX_BYTES_PER_GROUP = 64 * 1024 * 1024

_TOKEN_RE = re.compile(r"^([fb])/(\d{56})/s$")


class LogsError(Exception):
    """A CloudWatch Logs error: `code` is the AWS error code, `message` its text, status 400."""

    code = "ServiceUnavailableException"
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ResourceNotFound(LogsError):
    code = "ResourceNotFoundException"


class ResourceAlreadyExists(LogsError):
    code = "ResourceAlreadyExistsException"


class InvalidParameter(LogsError):
    code = "InvalidParameterException"


# One event: sorted by (timestamp, seq); seq is store-wide and unique, so the tuple comparison never
# reaches the message. (timestamp,) sorts before every event of that timestamp, which bisect relies on.
_Event = tuple  # (timestamp_ms, seq, ingestion_ms, message, size_bytes)


@dataclass
class _Stream:
    name: str
    creation_ms: int
    events: list = field(default_factory=list)
    dropped: int = 0  # events removed from the head by the byte cap: keeps token positions stable
    last_ingestion_ms: int | None = None


@dataclass
class _Group:
    name: str
    creation_ms: int
    streams: dict[str, _Stream] = field(default_factory=dict)
    stored_bytes: int = 0
    # Write order of every event held, for dropping the oldest-written first under the byte cap.
    write_order: collections.deque = field(default_factory=collections.deque)


def _event_id(timestamp_ms: int, seq: int) -> str:
    # AWS event ids are 56-digit decimal strings; ours: 20 digits of timestamp then 36 of sequence.
    return f"{timestamp_ms:020d}{seq:036d}"


def _encode_token(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, kind: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise InvalidParameter("The specified nextToken is invalid.") from None
    if not isinstance(payload, dict) or payload.get("k") != kind:
        raise InvalidParameter("The specified nextToken is invalid.")
    return payload


def _check_limit(limit: int | None, maximum: int, default: int) -> int:
    if limit is None:
        return default
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        bound = f"less than or equal to {maximum}" if isinstance(limit, int) and limit > maximum else "greater than or equal to 1"
        raise InvalidParameter(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
            f"Member must have value {bound}"
        )
    return limit


class LogStore:
    """Thread-safe in-memory CloudWatch Logs (see the module docstring for the interface)."""

    def __init__(
        self,
        clock_ms: Callable[[], int] | None = None,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        max_bytes_per_group: int = DEFAULT_MAX_BYTES_PER_GROUP,
    ):
        if max_bytes_per_group < 1:
            raise ValueError("max_bytes_per_group must be positive")
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.region = region
        self.account_id = account_id
        self.max_bytes_per_group = max_bytes_per_group
        self._groups: dict[str, _Group] = {}
        self._seq = 0
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        """The store's clock (epoch ms), as used for ingestionTime."""
        return int(self._clock_ms())

    # ----- writes -------------------------------------------------------------------------------
    def create_log_group(self, group: str) -> None:
        with self._lock:
            if group in self._groups:
                raise ResourceAlreadyExists("The specified log group already exists")
            self._groups[group] = _Group(group, self._clock_ms())

    def create_log_stream(self, group: str, stream: str) -> None:
        with self._lock:
            g = self._group(group)
            if stream in g.streams:
                raise ResourceAlreadyExists("The specified log stream already exists")
            g.streams[stream] = _Stream(stream, self._clock_ms())

    def delete_log_group(self, group: str) -> None:
        with self._lock:
            if self._groups.pop(group, None) is None:
                raise ResourceNotFound("The specified log group does not exist.")

    def has_group(self, group: str) -> bool:
        with self._lock:
            return group in self._groups

    def put_log_events(
        self,
        group: str,
        stream: str,
        events: Iterable[tuple[int, str]],
        *,
        create_missing: bool = True,
    ) -> None:
        """Append events (timestamp ms, message). Missing group/stream: created, or
        ResourceNotFound when `create_missing` is False (the PutLogEvents API's behaviour)."""
        with self._lock:
            now = self._clock_ms()
            g = self._groups.get(group)
            if g is None:
                if not create_missing:
                    raise ResourceNotFound("The specified log group does not exist.")
                g = self._groups[group] = _Group(group, now)
            s = g.streams.get(stream)
            if s is None:
                if not create_missing:
                    raise ResourceNotFound("The specified log stream does not exist.")
                s = g.streams[stream] = _Stream(stream, now)
            written = 0
            for timestamp_ms, message in events:
                written += 1
                self._seq += 1
                size = len(message.encode("utf-8")) + EVENT_OVERHEAD_BYTES
                ev = (int(timestamp_ms), self._seq, now, message, size)
                if not s.events or s.events[-1] <= ev:
                    s.events.append(ev)  # the usual case: a sandbox writes in time order
                else:
                    bisect.insort(s.events, ev)
                g.write_order.append((s, ev))
                g.stored_bytes += size
            if written:
                s.last_ingestion_ms = now
            self._enforce_cap(g)

    def _enforce_cap(self, g: _Group) -> None:
        while g.stored_bytes > self.max_bytes_per_group and g.write_order:
            s, ev = g.write_order.popleft()
            if s.events and s.events[0] is ev:
                del s.events[0]
            else:  # written out of time order: find it where it was sorted in
                i = bisect.bisect_left(s.events, ev)
                del s.events[i]
            s.dropped += 1
            g.stored_bytes -= ev[4]

    # ----- reads --------------------------------------------------------------------------------
    def _group(self, group: str) -> _Group:
        g = self._groups.get(group)
        if g is None:
            raise ResourceNotFound("The specified log group does not exist.")
        return g

    def _group_dict(self, g: _Group) -> dict[str, Any]:
        arn = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{g.name}"
        return {
            "logGroupName": g.name,
            "creationTime": g.creation_ms,
            "metricFilterCount": 0,
            "arn": arn + ":*",
            "storedBytes": g.stored_bytes,
            "logGroupClass": "STANDARD",
            "logGroupArn": arn,
        }

    def _stream_dict(self, group: str, s: _Stream) -> dict[str, Any]:
        out: dict[str, Any] = {"logStreamName": s.name, "creationTime": s.creation_ms}
        if s.events:
            out["firstEventTimestamp"] = s.events[0][0]
            out["lastEventTimestamp"] = s.events[-1][0]
        if s.last_ingestion_ms is not None:
            out["lastIngestionTime"] = s.last_ingestion_ms
        out["arn"] = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{group}:log-stream:{s.name}"
        out["storedBytes"] = 0  # AWS has reported 0 for streams since June 2019
        return out

    def describe_log_groups(
        self, prefix: str | None = None, limit: int | None = None, next_token: str | None = None
    ) -> dict[str, Any]:
        limit = _check_limit(limit, DESCRIBE_LIMIT_MAX, DESCRIBE_LIMIT_MAX)
        after = _decode_token(next_token, "g")["n"] if next_token else None
        with self._lock:
            names = sorted(n for n in self._groups if prefix is None or n.startswith(prefix))
            if after is not None:
                names = names[bisect.bisect_right(names, after):]
            page = names[:limit]
            out: dict[str, Any] = {"logGroups": [self._group_dict(self._groups[n]) for n in page]}
        if len(names) > limit:
            out["nextToken"] = _encode_token({"k": "g", "n": page[-1]})
        return out

    def describe_log_streams(
        self,
        group: str,
        prefix: str | None = None,
        order_by: str = "LogStreamName",
        descending: bool = False,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        if order_by not in ("LogStreamName", "LastEventTime"):
            raise InvalidParameter(
                f"1 validation error detected: Value '{order_by}' at 'orderBy' failed to satisfy "
                "constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"
            )
        if order_by == "LastEventTime" and prefix is not None:
            raise InvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        limit = _check_limit(limit, DESCRIBE_LIMIT_MAX, DESCRIBE_LIMIT_MAX)
        after = _decode_token(next_token, "s")["key"] if next_token else None
        with self._lock:
            g = self._group(group)
            if order_by == "LogStreamName":
                keyed = [([s.name], s) for s in g.streams.values() if prefix is None or s.name.startswith(prefix)]
            else:
                keyed = [([s.events[-1][0] if s.events else 0, s.name], s) for s in g.streams.values()]
            keyed.sort(key=lambda ks: ks[0], reverse=descending)
            if after is not None:
                keyed = [ks for ks in keyed if (ks[0] < after if descending else ks[0] > after)]
            page = keyed[:limit]
            out: dict[str, Any] = {"logStreams": [self._stream_dict(group, s) for _, s in page]}
        if len(keyed) > limit:
            out["nextToken"] = _encode_token({"k": "s", "key": page[-1][0]})
        return out

    def get_log_events(
        self,
        group: str,
        stream: str,
        start_time: int | None = None,
        end_time: int | None = None,
        start_from_head: bool = False,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        limit = _check_limit(limit, EVENTS_LIMIT_MAX, EVENTS_LIMIT_MAX)
        direction = None
        position = 0
        if next_token is not None:
            m = _TOKEN_RE.match(next_token)
            if not m:
                raise InvalidParameter("The specified nextToken is invalid.")
            direction, position = m.group(1), int(m.group(2))
        with self._lock:
            g = self._group(group)
            s = g.streams.get(stream)
            if s is None:
                raise ResourceNotFound("The specified log stream does not exist.")
            evs = s.events
            lo = bisect.bisect_left(evs, (start_time,)) if start_time is not None else 0
            hi = bisect.bisect_left(evs, (end_time,)) if end_time is not None else len(evs)
            hi = max(lo, hi)
            if direction is None:
                direction = "f" if start_from_head else "b"
                index = lo if start_from_head else hi
            else:
                index = min(max(position - s.dropped, lo), hi)
            if direction == "f":
                first, last = index, index
                size = 0
                # At least one event per page, so an event near the 1 MB maximum is still readable.
                while last < hi and last - first < limit and (last == first or size + evs[last][4] <= PAGE_MAX_BYTES):
                    size += evs[last][4]
                    last += 1
            else:
                first, last = index, index
                size = 0
                while first > lo and last - first < limit and (last == first or size + evs[first - 1][4] <= PAGE_MAX_BYTES):
                    size += evs[first - 1][4]
                    first -= 1
            page = evs[first:last]
            dropped = s.dropped
        forward = f"f/{last + dropped:056d}/s"
        backward = f"b/{first + dropped:056d}/s"
        if not page and next_token is not None:
            # At the end (in the token's direction) AWS hands back the token it was given.
            if direction == "f":
                forward = next_token
            else:
                backward = next_token
        return {
            "events": [{"timestamp": e[0], "message": e[3], "ingestionTime": e[2]} for e in page],
            "nextForwardToken": forward,
            "nextBackwardToken": backward,
        }

    def filter_log_events(
        self,
        group: str,
        stream_names: list[str] | None = None,
        stream_prefix: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        filter_pattern: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
        start_from_head: bool = True,
    ) -> dict[str, Any]:
        if stream_names is not None and stream_prefix is not None:
            raise InvalidParameter("Cannot specify both logStreamNames and logStreamNamePrefix.")
        limit = _check_limit(limit, EVENTS_LIMIT_MAX, EVENTS_LIMIT_MAX)
        try:
            matcher = _filter_pattern.compile_pattern(filter_pattern or "")
        except _filter_pattern.InvalidFilterPattern as exc:
            raise InvalidParameter(str(exc)) from None
        after: tuple[int, int] | None = None
        if next_token is not None:
            payload = _decode_token(next_token, "e")
            try:
                after = (int(payload["t"]), int(payload["s"]))
                start_from_head = bool(payload["h"])
            except (KeyError, TypeError, ValueError):
                raise InvalidParameter("The specified nextToken is invalid.") from None
        with self._lock:
            g = self._group(group)
            if stream_names is not None:
                streams = [g.streams[n] for n in dict.fromkeys(stream_names) if n in g.streams]
            else:
                streams = [s for s in g.streams.values() if stream_prefix is None or s.name.startswith(stream_prefix)]
            slices = []
            for s in streams:
                evs = s.events
                lo = bisect.bisect_left(evs, (start_time,)) if start_time is not None else 0
                hi = bisect.bisect_left(evs, (end_time + 1,)) if end_time is not None else len(evs)
                if after is not None:
                    if start_from_head:
                        # (t, seq, inf) sorts after the event (t, seq, ...) itself, before any later one
                        lo = max(lo, bisect.bisect_right(evs, (after[0], after[1], float("inf"))))
                    else:
                        hi = min(hi, bisect.bisect_left(evs, after))
                if lo < hi:
                    slices.append((s.name, evs[lo:hi]))  # a C-level copy: the lock is held briefly
        # Matching runs outside the lock on the private copies; events are paired with their stream
        # name lazily, so a page that stops at `limit` touches little more than it returns.
        merged: Iterator = _merge(slices, matcher, descending=not start_from_head)
        page: list[tuple[_Event, str]] = []
        size = 0
        more = False
        for ev, name in merged:
            if len(page) >= limit or (page and size + ev[4] > PAGE_MAX_BYTES):
                more = True
                break
            page.append((ev, name))
            size += ev[4]
        out: dict[str, Any] = {
            "events": [
                {
                    "logStreamName": name,
                    "timestamp": e[0],
                    "message": e[3],
                    "ingestionTime": e[2],
                    "eventId": _event_id(e[0], e[1]),
                }
                for e, name in page
            ],
            "searchedLogStreams": [],
        }
        if more:
            last = page[-1][0]
            out["nextToken"] = _encode_token({"k": "e", "t": last[0], "s": last[1], "h": int(start_from_head)})
        return out


def _merge(
    slices: list[tuple[str, list]], matcher: Callable[[str], bool], descending: bool
) -> Iterator[tuple[_Event, str]]:
    """Matching events of every slice, paired with their stream name, in (timestamp, arrival) order.
    Matching happens per stream before the merge, so the merge only orders what matched."""

    def matching(name: str, chunk: list) -> Iterator[tuple[_Event, str]]:
        for event in reversed(chunk) if descending else chunk:
            if matcher(event[3]):
                yield event, name

    streams = [matching(name, chunk) for name, chunk in slices]
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=lambda pair: pair[0][:2], reverse=descending)
