"""The emulator's in-memory CloudWatch Logs store: shapes, ordering, tokens, pagination, bounds, threads."""

from __future__ import annotations

import threading

import pytest

from lambdabench.emulator.logstore import (
    InvalidParameter,
    LogStore,
    ResourceAlreadyExists,
    ResourceNotFound,
)

GROUP = "/aws/lambda/demo"
STREAM = "2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef"


class Clock:
    """A clock the test moves by hand (epoch ms)."""

    def __init__(self, now_ms: int = 1_800_000_000_000):
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> LogStore:
    return LogStore(clock_ms=clock)


def messages(result: dict) -> list[str]:
    return [e["message"] for e in result["events"]]


def test_put_creates_group_and_stream_with_aws_shapes(store, clock):
    store.put_log_events(GROUP, STREAM, [(1000, "START"), (1005, "END")])
    assert store.describe_log_groups() == {
        "logGroups": [
            {
                "logGroupName": GROUP,
                "creationTime": clock.now_ms,
                "metricFilterCount": 0,
                "arn": f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}:*",
                "storedBytes": (5 + 26) + (3 + 26),
                "logGroupClass": "STANDARD",
                "logGroupArn": f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}",
            }
        ]
    }
    assert store.describe_log_streams(GROUP) == {
        "logStreams": [
            {
                "logStreamName": STREAM,
                "creationTime": clock.now_ms,
                "firstEventTimestamp": 1000,
                "lastEventTimestamp": 1005,
                "lastIngestionTime": clock.now_ms,
                "arn": f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}:log-stream:{STREAM}",
                "storedBytes": 0,
            }
        ]
    }


def test_empty_stream_has_no_event_timestamps(store):
    store.create_log_group(GROUP)
    store.create_log_stream(GROUP, "empty")
    (stream,) = store.describe_log_streams(GROUP)["logStreams"]
    assert set(stream) == {"logStreamName", "creationTime", "arn", "storedBytes"}


def test_create_twice_and_missing_resources_raise_aws_errors(store):
    store.create_log_group(GROUP)
    with pytest.raises(ResourceAlreadyExists, match="The specified log group already exists"):
        store.create_log_group(GROUP)
    store.create_log_stream(GROUP, "s")
    with pytest.raises(ResourceAlreadyExists, match="The specified log stream already exists"):
        store.create_log_stream(GROUP, "s")
    with pytest.raises(ResourceNotFound, match="The specified log group does not exist."):
        store.create_log_stream("/aws/lambda/none", "s")
    with pytest.raises(ResourceNotFound, match="The specified log stream does not exist."):
        store.get_log_events(GROUP, "other")
    with pytest.raises(ResourceNotFound) as err:
        store.put_log_events(GROUP, "other", [(1, "x")], create_missing=False)
    assert err.value.code == "ResourceNotFoundException"


def test_delete_log_group_removes_it_and_missing_group_is_not_found(store):
    store.put_log_events(GROUP, STREAM, [(1, "x")])
    store.delete_log_group(GROUP)
    assert store.describe_log_groups() == {"logGroups": []}
    with pytest.raises(ResourceNotFound):
        store.delete_log_group(GROUP)


def test_get_log_events_default_returns_latest_events_oldest_first(store, clock):
    store.put_log_events(GROUP, STREAM, [(1000 + i, f"m{i}") for i in range(10)])
    result = store.get_log_events(GROUP, STREAM, limit=3)
    assert result["events"] == [
        {"timestamp": 1007, "message": "m7", "ingestionTime": clock.now_ms},
        {"timestamp": 1008, "message": "m8", "ingestionTime": clock.now_ms},
        {"timestamp": 1009, "message": "m9", "ingestionTime": clock.now_ms},
    ]
    assert result["nextForwardToken"] == "f/" + "0" * 54 + "10/s"
    assert result["nextBackwardToken"] == "b/" + "0" * 55 + "7/s"


def test_forward_paging_reads_everything_once_and_returns_same_token_at_the_end(store):
    store.put_log_events(GROUP, STREAM, [(1000 + i, f"m{i}") for i in range(7)])
    seen: list[str] = []
    result = store.get_log_events(GROUP, STREAM, start_from_head=True, limit=3)
    seen += messages(result)
    token = result["nextForwardToken"]
    while True:
        result = store.get_log_events(GROUP, STREAM, next_token=token, limit=3)
        seen += messages(result)
        if result["nextForwardToken"] == token:
            assert result["events"] == []
            break
        token = result["nextForwardToken"]
    assert seen == [f"m{i}" for i in range(7)]
    # New events appear behind the end token.
    store.put_log_events(GROUP, STREAM, [(2000, "late")])
    assert messages(store.get_log_events(GROUP, STREAM, next_token=token)) == ["late"]


def test_backward_paging_walks_to_the_start_and_returns_same_token_there(store):
    store.put_log_events(GROUP, STREAM, [(1000 + i, f"m{i}") for i in range(5)])
    result = store.get_log_events(GROUP, STREAM, limit=2)
    assert messages(result) == ["m3", "m4"]
    result = store.get_log_events(GROUP, STREAM, next_token=result["nextBackwardToken"], limit=2)
    assert messages(result) == ["m1", "m2"]
    result = store.get_log_events(GROUP, STREAM, next_token=result["nextBackwardToken"], limit=2)
    assert messages(result) == ["m0"]
    token = result["nextBackwardToken"]
    again = store.get_log_events(GROUP, STREAM, next_token=token, limit=2)
    assert again["events"] == [] and again["nextBackwardToken"] == token


def test_get_log_events_time_range_start_inclusive_end_exclusive(store):
    store.put_log_events(GROUP, STREAM, [(t, f"t{t}") for t in (10, 20, 30, 40)])
    result = store.get_log_events(GROUP, STREAM, start_time=20, end_time=40, start_from_head=True)
    assert messages(result) == ["t20", "t30"]


def test_events_written_out_of_order_are_kept_in_timestamp_order(store):
    store.put_log_events(GROUP, STREAM, [(30, "c"), (10, "a")])
    store.put_log_events(GROUP, STREAM, [(20, "b")])
    assert messages(store.get_log_events(GROUP, STREAM, start_from_head=True)) == ["a", "b", "c"]


def test_page_holds_at_most_one_megabyte(store):
    big = "x" * 400_000
    store.put_log_events(GROUP, STREAM, [(i, big) for i in range(5)])
    result = store.get_log_events(GROUP, STREAM, start_from_head=True)
    assert len(result["events"]) == 2  # 3 × (400,000 + 26) bytes would pass 1,048,576
    page = store.filter_log_events(GROUP)
    assert len(page["events"]) == 2 and "nextToken" in page


def test_an_event_near_the_size_maximum_still_comes_back_alone(store):
    huge = "y" * 1_048_576  # PutLogEvents' largest event: with its 26 bytes it exceeds a 1 MB page
    store.put_log_events(GROUP, STREAM, [(1, huge), (2, "small")])
    first = store.get_log_events(GROUP, STREAM, start_from_head=True)
    assert [len(m) for m in messages(first)] == [1_048_576]
    assert messages(store.get_log_events(GROUP, STREAM, next_token=first["nextForwardToken"])) == ["small"]
    page = store.filter_log_events(GROUP)
    assert [len(m) for m in messages(page)] == [1_048_576]
    assert messages(store.filter_log_events(GROUP, next_token=page["nextToken"])) == ["small"]
    latest = store.get_log_events(GROUP, STREAM, limit=2)
    assert messages(latest) == ["small"]  # backward from the end: the huge one would overflow the page


def test_filter_interleaves_streams_by_timestamp_with_stream_names_and_event_ids(store, clock):
    store.put_log_events(GROUP, "a", [(10, "a10"), (30, "a30")])
    store.put_log_events(GROUP, "b", [(20, "b20"), (40, "b40")])
    result = store.filter_log_events(GROUP)
    assert [(e["logStreamName"], e["message"]) for e in result["events"]] == [
        ("a", "a10"),
        ("b", "b20"),
        ("a", "a30"),
        ("b", "b40"),
    ]
    ids = [e["eventId"] for e in result["events"]]
    assert all(len(i) == 56 and i.isdigit() for i in ids) and len(set(ids)) == 4
    assert result["searchedLogStreams"] == []
    assert "nextToken" not in result
    assert result["events"][0]["ingestionTime"] == clock.now_ms


def test_filter_by_pattern_streams_and_time_both_inclusive(store):
    store.put_log_events(GROUP, "a", [(10, "START a"), (20, "REPORT a"), (30, "REPORT a2")])
    store.put_log_events(GROUP, "b", [(20, "REPORT b")])
    assert messages(store.filter_log_events(GROUP, filter_pattern="REPORT")) == ["REPORT a", "REPORT b", "REPORT a2"]
    assert messages(store.filter_log_events(GROUP, stream_names=["b"], filter_pattern="REPORT")) == ["REPORT b"]
    assert messages(store.filter_log_events(GROUP, stream_prefix="a", start_time=20, end_time=30)) == ["REPORT a", "REPORT a2"]
    assert messages(store.filter_log_events(GROUP, stream_names=["missing"])) == []


def test_filter_pagination_with_limit_one_returns_each_event_once(store):
    for s in range(3):
        store.put_log_events(GROUP, f"s{s}", [(t, f"s{s}-{t}") for t in (5, 5, 7)])
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        result = store.filter_log_events(GROUP, limit=1, next_token=token)
        seen += messages(result)
        pages += 1
        token = result.get("nextToken")
        if token is None:
            break
    assert sorted(seen) == sorted(f"s{s}-{t}" for s in range(3) for t in (5, 5, 7))
    assert len(seen) == 9 and pages == 9


def test_filter_newest_first_when_start_from_head_is_false(store):
    store.put_log_events(GROUP, "a", [(t, f"m{t}") for t in (1, 2, 3, 4, 5)])
    first = store.filter_log_events(GROUP, limit=2, start_from_head=False)
    assert messages(first) == ["m5", "m4"]
    second = store.filter_log_events(GROUP, limit=2, next_token=first["nextToken"])
    assert messages(second) == ["m3", "m2"]
    third = store.filter_log_events(GROUP, limit=2, next_token=second["nextToken"])
    assert messages(third) == ["m1"] and "nextToken" not in third


def test_filter_rejects_bad_input(store):
    store.put_log_events(GROUP, "a", [(1, "x")])
    with pytest.raises(InvalidParameter, match="Cannot specify both logStreamNames and logStreamNamePrefix"):
        store.filter_log_events(GROUP, stream_names=["a"], stream_prefix="a")
    with pytest.raises(InvalidParameter, match="it must end with"):
        store.filter_log_events(GROUP, filter_pattern="{ $.a = 1")
    with pytest.raises(InvalidParameter, match="The specified nextToken is invalid."):
        store.filter_log_events(GROUP, next_token="garbage!")
    with pytest.raises(InvalidParameter, match="less than or equal to 10000"):
        store.filter_log_events(GROUP, limit=10001)
    with pytest.raises(InvalidParameter, match="greater than or equal to 1"):
        store.get_log_events(GROUP, "a", limit=0)
    with pytest.raises(InvalidParameter, match="The specified nextToken is invalid."):
        store.get_log_events(GROUP, "a", next_token="f/12/s")
    with pytest.raises(ResourceNotFound):
        store.filter_log_events("/aws/lambda/none")


def test_describe_streams_orders_by_last_event_time_and_pages(store):
    store.put_log_events(GROUP, "a", [(300, "x")])
    store.put_log_events(GROUP, "b", [(100, "x")])
    store.put_log_events(GROUP, "c", [(200, "x")])
    by_time = store.describe_log_streams(GROUP, order_by="LastEventTime", descending=True)
    assert [s["logStreamName"] for s in by_time["logStreams"]] == ["a", "c", "b"]
    first = store.describe_log_streams(GROUP, limit=2)
    assert [s["logStreamName"] for s in first["logStreams"]] == ["a", "b"]
    rest = store.describe_log_streams(GROUP, limit=2, next_token=first["nextToken"])
    assert [s["logStreamName"] for s in rest["logStreams"]] == ["c"] and "nextToken" not in rest
    assert [s["logStreamName"] for s in store.describe_log_streams(GROUP, prefix="b")["logStreams"]] == ["b"]
    with pytest.raises(InvalidParameter, match="Cannot order by LastEventTime with a logStreamNamePrefix"):
        store.describe_log_streams(GROUP, prefix="a", order_by="LastEventTime")
    with pytest.raises(InvalidParameter, match="enum value set"):
        store.describe_log_streams(GROUP, order_by="Size")
    with pytest.raises(InvalidParameter, match="less than or equal to 50"):
        store.describe_log_streams(GROUP, limit=51)


def test_describe_groups_by_prefix_with_pages(store):
    for name in ("/aws/lambda/b", "/aws/lambda/a", "/other/c"):
        store.create_log_group(name)
    first = store.describe_log_groups(prefix="/aws/lambda/", limit=1)
    assert [g["logGroupName"] for g in first["logGroups"]] == ["/aws/lambda/a"]
    second = store.describe_log_groups(prefix="/aws/lambda/", limit=1, next_token=first["nextToken"])
    assert [g["logGroupName"] for g in second["logGroups"]] == ["/aws/lambda/b"]
    assert "nextToken" not in second


def test_byte_cap_drops_the_oldest_written_events_and_keeps_tokens_valid(clock):
    store = LogStore(clock_ms=clock, max_bytes_per_group=10 * (26 + 2))
    store.put_log_events(GROUP, "a", [(i, f"a{i}") for i in range(5)])
    head = store.get_log_events(GROUP, "a", start_from_head=True, limit=2)
    store.put_log_events(GROUP, "b", [(100 + i, f"b{i}") for i in range(7)])  # 12 events, room for 10
    assert messages(store.get_log_events(GROUP, "a", start_from_head=True)) == ["a2", "a3", "a4"]
    assert store.describe_log_groups()["logGroups"][0]["storedBytes"] == 10 * 28
    # The forward token taken before the drop still points at a2 (events a0, a1 are gone).
    assert messages(store.get_log_events(GROUP, "a", next_token=head["nextForwardToken"])) == ["a2", "a3", "a4"]


def test_concurrent_writers_lose_no_event(store):
    def writer(n: int) -> None:
        for i in range(200):
            store.put_log_events(GROUP, f"s{n}", [(i, f"{n}-{i}")])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = store.filter_log_events(GROUP)
    assert sorted(messages(result)) == sorted(f"{n}-{i}" for n in range(8) for i in range(200))
    assert len({e["eventId"] for e in result["events"]}) == 1600
