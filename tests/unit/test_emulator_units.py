"""Small pieces of the emulator: billing arithmetic, log tails, zip safety, routing, the Runtime API wire."""

from __future__ import annotations

import base64
import io
import socket
import zipfile

import pytest

from lambdabench.emulator import errors as E
from lambdabench.emulator import lambda_api
from lambdabench.emulator.backend import _safe_unzip, default_account_concurrency, unreserved_minimum
from lambdabench.emulator.runtime_api import RuntimeApiServer, answer, http_response
from lambdabench.emulator.sandbox import billed_duration_ms, log_tail
from lambdabench.emulator.server import region_of


@pytest.mark.parametrize("duration,init,billed", [
    (12.34, None, 13), (12.00, None, 12), (0.01, None, 1), (0.0, None, 1),
    (1.1, 2.2, 4),            # 3.30 → 4 exactly; float 1.1 + 2.2 = 3.3000000000000003 must not matter
    (0.7, 0.3, 1),            # 1.00 → 1, not 2
    (3000.0, 402.04, 3403),   # a real cold timeout line from the corpus
    (339.09, 243.44, 583),    # a real cold line: one ceiling of the sum
])
def test_billed_duration_is_one_ceiling_of_duration_plus_init(duration, init, billed):
    assert billed_duration_ms(duration, init) == billed


def test_log_tail_keeps_the_last_four_kilobytes():
    text = "START\n" + "x" * 5000 + "\nREPORT end\n"
    decoded = base64.b64decode(log_tail(text))
    assert len(decoded) == 4096 and decoded.endswith(b"x\nREPORT end\n")
    assert base64.b64decode(log_tail("short\n")) == b"short\n"


def _zip(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def test_safe_unzip_extracts_files_and_inner_symlinks(tmp_path):
    link = zipfile.ZipInfo("lib/alias.py")
    link.external_attr = 0o120777 << 16
    data = _zip([("app.py", "x = 1\n"), ("lib/real.py", "y = 2\n"), (link, "real.py")])
    _safe_unzip(data, tmp_path / "out")
    assert (tmp_path / "out" / "app.py").read_text() == "x = 1\n"
    assert (tmp_path / "out" / "lib" / "alias.py").read_text() == "y = 2\n"


@pytest.mark.parametrize("name,target", [("../up.py", None), ("/abs.py", None), ("ok/../../up.py", None),
                                         ("link", "/etc/passwd"), ("link", "../outside")])
def test_safe_unzip_refuses_escapes(tmp_path, name, target):
    info = zipfile.ZipInfo(name)
    if target is not None:
        info.external_attr = 0o120777 << 16
    with pytest.raises(E.InvalidParameterValue) as excinfo:
        _safe_unzip(_zip([(info, target or "x")]), tmp_path / "out")
    assert f"the entry '{name}' points outside the deployment package" in excinfo.value.message
    assert not (tmp_path / "up.py").exists()


def test_safe_unzip_refuses_links_chained_through_a_linked_folder(tmp_path):
    up = zipfile.ZipInfo("x/y")
    up.external_attr = 0o120777 << 16       # x/y -> the package root: inside, allowed
    chained = zipfile.ZipInfo("x/y/z")
    chained.external_attr = 0o120777 << 16  # written at root/z, so ".." from there is outside
    with pytest.raises(E.InvalidParameterValue):
        _safe_unzip(_zip([(up, ".."), (chained, "..")]), tmp_path / "out")
    assert not (tmp_path / "out" / "z").exists()


def test_safe_unzip_refuses_garbage(tmp_path):
    with pytest.raises(E.InvalidParameterValue):
        _safe_unzip(b"PK\x03\x04 not really", tmp_path / "out")


def test_routes_and_unimplemented_operations_are_named():
    func, params = lambda_api.route("POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012"
                                            "%3Afunction%3Afn/invocations")
    assert func is lambda_api.invoke and params == {"name": "arn:aws:lambda:us-east-1:123456789012:function:fn"}
    assert lambda_api.route("GET", "/2016-08-19/account-settings/")[0] is lambda_api.get_account_settings
    with pytest.raises(E.UnknownOperation) as excinfo:
        lambda_api.route("GET", "/2020-06-30/functions/f/code-signing-config")
    assert "GetFunctionCodeSigningConfig" in excinfo.value.message
    with pytest.raises(E.UnknownOperation) as excinfo:
        lambda_api.route("GET", "/nothing/here")
    assert "GET /nothing/here" in excinfo.value.message


def test_errors_are_shaped_for_botocore():
    throttle = E.TooManyRequests("ConcurrentInvocationLimitExceeded")
    assert throttle.status == 429 and throttle.headers()["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert throttle.body() == (b'{"Type": "User", "message": "Rate Exceeded.", '
                               b'"Reason": "ConcurrentInvocationLimitExceeded"}')
    assert E.function_not_found("arn:x").body() == b'{"Type": "User", "Message": "Function not found: arn:x"}'


def test_region_comes_from_the_signature_scope():
    auth = ("AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-3/lambda/aws4_request, SignedHeaders=host, "
            "Signature=abc")
    assert region_of({"authorization": auth}) == "eu-west-3"
    assert region_of({}) == "us-east-1"


def test_concurrency_defaults_scale_with_the_host():
    assert default_account_concurrency(1) == 4 and default_account_concurrency(2) == 8
    assert default_account_concurrency(16) == 64
    assert unreserved_minimum(1000) == 100 and unreserved_minimum(8) == 1 and unreserved_minimum(64) == 6
    assert unreserved_minimum(5000) == 100


class _Runtime:
    """A RuntimeHandler that hands one event over on the parked connection and records answers."""

    def __init__(self):
        self.responses = []
        self.errors = []
        self.lent_answers = []

    def park(self, conn):
        if self.lent_answers:
            return False  # one event only; then behave like a closing sandbox
        conn.send(http_response(200, b'{"k": 1}', {"Lambda-Runtime-Aws-Request-Id": "req-1"}))
        request = conn.read_request(timeout=10)  # the invoker reads the answer on the same connection
        self.lent_answers.append((request.method, request.route, request.body))
        conn.send(answer(self, request))
        return True

    def invocation_response(self, request_id, body, headers):
        if request_id != "req-1":
            return 400
        self.responses.append(body)
        return 202

    def invocation_error(self, request_id, body, headers):
        self.errors.append((body, headers.get("lambda-runtime-function-error-type")))
        return 202

    def init_error(self, body, headers):
        return 202


def _exchange(sock, data: bytes) -> bytes:
    if data:
        sock.sendall(data)
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(65536)
    head, _, body = reply.partition(b"\r\n\r\n")
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_runtime_api_speaks_keep_alive_chunked_and_expect_continue():
    handler = _Runtime()
    server = RuntimeApiServer(handler)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = _exchange(sock, b"")
            assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"Lambda-Runtime-Aws-Request-Id: req-1\r\n" in reply and reply.endswith(b'{"k": 1}')
            chunked = (b"POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\nHost: x\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n")
            assert _exchange(sock, chunked).startswith(b"HTTP/1.1 202 Accepted")
            assert handler.lent_answers == [("POST", "invocation/req-1/response", b'{"a":1}')]
            assert handler.responses == [b'{"a":1}']
            # Back on the connection thread: other requests are answered there.
            sock.sendall(b"POST /2018-06-01/runtime/invocation/req-1/error HTTP/1.1\r\nHost: x\r\n"
                         b"Lambda-Runtime-Function-Error-Type: Boom\r\nExpect: 100-continue\r\n"
                         b"Content-Length: 2\r\n\r\n")
            assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"
            assert _exchange(sock, b"{}").startswith(b"HTTP/1.1 202")
            assert handler.errors == [(b"{}", "Boom")]
            stale = b"POST /2018-06-01/runtime/invocation/other/response HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
            assert _exchange(sock, stale).startswith(b"HTTP/1.1 400")
    finally:
        server.close()


@pytest.mark.parametrize("given,qualifier,expected", [
    ("fn", None, ("fn", None)),
    ("fn:live", None, ("fn", "live")),
    ("arn:aws:lambda:us-east-1:123456789012:function:fn", None, ("fn", None)),
    ("arn:aws:lambda:us-east-1:123456789012:function:fn:7", None, ("fn", "7")),
    ("123456789012:function:fn:$LATEST", None, ("fn", "$LATEST")),
    ("fn", "3", ("fn", "3")),
])
def test_function_names_accept_names_partial_and_full_arns(given, qualifier, expected):
    from lambdabench.emulator.backend import Backend

    backend = Backend(region="us-east-1", pool=None, code_store=None, account_limit=8)
    assert backend._split_name(given, qualifier) == expected


def test_function_name_errors_use_awss_wording():
    from lambdabench.emulator.backend import Backend

    backend = Backend(region="us-east-1", pool=None, code_store=None, account_limit=8)
    with pytest.raises(E.InvalidParameterValue) as excinfo:
        backend._split_name("fn:live", "prod")
    assert excinfo.value.message == "The derived qualifier from the function name does not match the specified qualifier."
    with pytest.raises(E.ValidationError) as excinfo:
        backend._split_name("bad name", None)
    assert excinfo.value.message.startswith("1 validation error detected: Value 'bad name' at 'functionName' failed "
                                            "to satisfy constraint: Member must satisfy regular expression pattern:")


def _zip_one(content: bytes, method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("app.py", content)
    return buffer.getvalue()


def _corrupt_stored_content() -> bytes:  # the content no longer matches its CRC-32
    data = _zip_one(b"def handler(e, c):\n    return 1\n", zipfile.ZIP_STORED)
    return data.replace(b"return 1", b"return 2", 1)


def _corrupt_deflate_stream() -> bytes:  # the compressed bytes are not a deflate stream
    content = bytes(range(256)) * 64
    data = bytearray(_zip_one(content, zipfile.ZIP_DEFLATED))
    start = 30 + len("app.py")  # local header, then the compressed data
    data[start:start + 16] = b"\xff" * 16
    return bytes(data)


def _false_size() -> bytes:  # the central directory claims more bytes than the entry holds
    data = bytearray(_zip_one(b"x" * 100, zipfile.ZIP_STORED))
    central = data.index(b"PK\x01\x02")
    data[central + 20:central + 28] = (4000).to_bytes(4, "little") * 2  # compressed and uncompressed size
    return bytes(data)


@pytest.mark.parametrize("build", [_corrupt_stored_content, _corrupt_deflate_stream, _false_size],
                         ids=["bad-crc", "bad-deflate", "false-size"])
def test_safe_unzip_answers_invalid_parameter_for_a_corrupt_entry(tmp_path, build):
    with pytest.raises(E.InvalidParameterValue) as info:
        _safe_unzip(build(), tmp_path / "out")
    assert str(info.value).startswith("Could not unzip uploaded file. Please check your file, then try to upload again.")
