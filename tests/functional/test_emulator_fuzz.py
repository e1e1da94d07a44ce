"""Malformed requests never answer HTTP 500: thousands of them against one real emulator, then a normal invoke.

Every request goes over one keep-alive connection (http.client): every Lambda operation in botocore's model
(implemented or not) with every method, Logs operations by X-Amz-Target, paths of random bytes, bodies of
random JSON, of values of the wrong type for the operation's members, of huge values and of random bytes,
and path, query and header values that are bad names. Each answer is checked for a status below 500
(an operation of the model the emulator does not implement answers 501 NotImplementedException, which names
it) and for the `x-amzn-RequestId` and `Date` headers.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any

import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdabench.emulator import Emulator

REQUESTS_PER_EXAMPLE = 25
EXAMPLES = 210  # 5,250 requests

HANDLER = """
def handler(event, context):
    return {"ok": True}
"""

LAMBDA = botocore.session.get_session().get_service_model("lambda")
LOGS = botocore.session.get_session().get_service_model("logs")
LAMBDA_OPS = [(LAMBDA.operation_model(n).http["method"], LAMBDA.operation_model(n).http["requestUri"],
               LAMBDA.operation_model(n).input_shape) for n in LAMBDA.operation_names]
# The operations the emulator implements today get most of the requests; the rest of the model is fuzzed too.
IMPLEMENTED = ["CreateFunction", "ListFunctions", "GetFunction", "DeleteFunction", "GetFunctionConfiguration",
               "UpdateFunctionConfiguration", "UpdateFunctionCode", "PublishVersion", "ListVersionsByFunction",
               "CreateAlias", "ListAliases", "GetAlias", "UpdateAlias", "DeleteAlias", "Invoke",
               "PutFunctionConcurrency", "GetFunctionConcurrency", "DeleteFunctionConcurrency", "GetAccountSettings"]
IMPLEMENTED_OPS = [op for name, op in zip(LAMBDA.operation_names, LAMBDA_OPS) if name in IMPLEMENTED]
LOGS_OPS = [(n, LOGS.operation_model(n).input_shape) for n in LOGS.operation_names] + [("NoSuchOperation", None)]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


def _member_names(model) -> list[str]:
    names: set[str] = set()
    for op in model.operation_names:
        shape = model.operation_model(op).input_shape
        stack = [shape] if shape is not None else []
        seen: set[str] = set()
        while stack:
            s = stack.pop()
            if s.name in seen:
                continue
            seen.add(s.name)
            if s.type_name == "structure":
                names.update(s.members)
                stack.extend(s.members.values())
            elif s.type_name == "list":
                stack.append(s.member)
            elif s.type_name == "map":
                stack.append(s.value)
    return sorted(names)


KEYS = st.sampled_from(_member_names(LAMBDA) + _member_names(LOGS) + ["", "\x00", "x" * 300])
NAMES = st.one_of(
    st.sampled_from(["fz", "fz", "fz", "nope", "", "a" * 65, "a" * 5000, "bad name!", "fz:1", "fz:$LATEST", "$LATEST", "..",
                     "arn:aws:lambda:us-east-1:123456789012:function:fz", "arn:aws:lambda:xx:1:function:fz:9:9",
                     "\x00", "%00", "fz/../fz", "-1", "0", "99999999999999999999", "true", "null"]),
    st.text(max_size=20),
)
HUGE = st.sampled_from(["x" * 70_000, 10**300, -(10**300), 1e308, -1e308, [0] * 3000, {"k" * 5000: 1}])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), NAMES, HUGE,
                    st.sampled_from([128, 10240, 10241, 0, -1, 900, 901, 2**31, 2**63, 1.5, "128", "RequestResponse",
                                     "Event", "DryRun", "Tail", "python3.12", "x86_64", "app.handler",
                                     "arn:aws:iam::123456789012:role/r", "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==",
                                     "not base64!"]))
JSON = st.recursive(SCALARS, lambda children: st.one_of(st.lists(children, max_size=4),
                                                        st.dictionaries(KEYS, children, max_size=4)),
                    max_leaves=8)


@st.composite
def typed(draw, shape, depth: int = 0) -> Any:
    """A value of the member's own type with random content (so requests get past type checks into the
    operations), or, one time in five, any JSON value."""
    if draw(st.integers(0, 4)) == 0 or depth > 3:
        return draw(JSON)
    kind = shape.type_name
    if kind == "structure":
        names = [n for n in shape.members if shape.members[n].serialization.get("location") is None]
        chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names))) if names else []
        return {n: draw(typed(shape.members[n], depth + 1)) for n in chosen}
    if kind == "list":
        return draw(st.lists(typed(shape.member, depth + 1), max_size=3))
    if kind == "map":
        return draw(st.dictionaries(NAMES, typed(shape.value, depth + 1), max_size=3))
    if kind in ("integer", "long"):
        return draw(st.one_of(st.integers(-5, 20000), st.sampled_from([2**31, -(2**63), 10**30])))
    if kind in ("float", "double"):
        return draw(st.floats(allow_nan=False))
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "timestamp":
        return draw(st.one_of(st.integers(-1, 2**40), NAMES))
    if kind == "blob":
        return draw(st.sampled_from(["UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==", "not base64!", "", "AAAA"]))
    enum = shape.metadata.get("enum")
    return draw(st.one_of(st.sampled_from(enum), NAMES) if enum else NAMES)


@st.composite
def bodies(draw, shape) -> bytes:
    kind = draw(st.sampled_from(["typed", "typed", "typed", "shaped", "json", "bytes", "empty", "truncated"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "empty":
        return b""
    if kind == "json":
        return json.dumps(draw(JSON)).encode()
    if kind in ("typed", "truncated") and shape is not None:
        text = json.dumps(draw(typed(shape))).encode()
    else:
        members = list(shape.members) if shape is not None and shape.members else ["X"]
        text = json.dumps(draw(st.dictionaries(st.sampled_from(members), JSON, max_size=len(members)))).encode()
    return text[: draw(st.integers(0, len(text)))] if kind == "truncated" else text


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


@st.composite
def lambda_requests(draw) -> tuple[str, str, dict[str, str], bytes]:
    method, uri, shape = draw(st.sampled_from(IMPLEMENTED_OPS if draw(st.integers(0, 3)) else LAMBDA_OPS))
    if draw(st.integers(0, 9)) == 0:
        method = draw(st.sampled_from(METHODS))
    path, _, fixed_query = uri.partition("?")
    for member in (shape.members.values() if shape is not None else []):
        location = member.serialization.get("location")
        if location == "uri":
            path = path.replace("{" + member.serialization["name"] + "}", _quote(draw(NAMES)))
            path = path.replace("{" + member.serialization["name"] + "+}", _quote(draw(NAMES)))
    query = [fixed_query] if fixed_query else []
    headers: dict[str, str] = {}
    for member in (shape.members.values() if shape is not None else []):
        location = member.serialization.get("location")
        if location == "querystring" and draw(st.booleans()):
            query.append(f"{member.serialization['name']}={_quote(str(draw(SCALARS))[:300])}")
        elif location == "header" and draw(st.booleans()):
            headers[member.serialization["name"]] = draw(st.text(
                st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40))
    if draw(st.integers(0, 14)) == 0:  # a path no operation has, random bytes included
        path = "/" + _quote(draw(st.binary(max_size=30)).decode("latin-1"))
    target = path + ("?" + "&".join(query) if query else "")
    return method, target, headers, draw(bodies(shape))


@st.composite
def logs_requests(draw) -> tuple[str, str, dict[str, str], bytes]:
    name, shape = draw(st.sampled_from(LOGS_OPS))
    headers = {"X-Amz-Target": f"Logs_20140328.{name}", "Content-Type": "application/x-amz-json-1.1"}
    return "POST", "/", headers, draw(bodies(shape))


REQUESTS = st.one_of(lambda_requests(), lambda_requests(), logs_requests())


@pytest.fixture(scope="module")
def emulator(emulator_helpers):
    with Emulator(cpu_limit="none", keep_alive_s=30, account_concurrency=8) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "fz", HANDLER)
        emulator_helpers.create(client, "keeper", HANDLER)  # never named by the fuzzer
        yield emu, client


def test_thousands_of_malformed_requests_never_answer_500_and_invoke_still_works(emulator):
    emu, client = emulator
    host, port = emu.endpoint.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    sent: list[int] = [0]
    bad: list[str] = []

    def send(method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        nonlocal conn
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (http.client.HTTPException, OSError):
            conn.close()  # the server closed a connection it answered 400 on; open another
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        sent[0] += 1
        # 501 NotImplementedException names an operation of the model the emulator does not have: not a fault.
        unimplemented = response.status == 501 and response.getheader("x-amzn-ErrorType") == "NotImplementedException"
        if (response.status >= 500 and not unimplemented) or not response.getheader("x-amzn-RequestId") \
                or not response.getheader("Date"):
            bad.append(f"{method} {target[:200]} {body[:200]!r} -> {response.status} {payload[:300]!r}")
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=60)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(st.lists(REQUESTS, min_size=REQUESTS_PER_EXAMPLE, max_size=REQUESTS_PER_EXAMPLE))
    def run(requests: list[Any]) -> None:
        for request in requests:
            send(*request)

    try:
        run()
    finally:
        conn.close()
    assert bad == [], f"{len(bad)} of {sent[0]} bad:\n" + "\n".join(bad[:20])
    assert sent[0] >= 5000
    response = client.invoke(FunctionName="keeper", Payload=b'{"a": 1}')
    assert response["StatusCode"] == 200 and json.loads(response["Payload"].read()) == {"ok": True}
    assert response["ResponseMetadata"]["RequestId"]
