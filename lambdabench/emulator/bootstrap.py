"""The built-in Lambda runtime client, used where `awslambdaric` cannot be imported (macOS, musl).

Run as a script inside a sandbox: `python bootstrap.py <module.function>`, with the Lambda
environment set (AWS_LAMBDA_RUNTIME_API, LAMBDA_TASK_ROOT, ...). It imports only the standard library,
so it works with any Python 3.9+ interpreter and never needs the lambdabench package.

It follows the official Python runtime's observable behaviour: the same error types and messages for a
bad handler (Runtime.MalformedHandlerName, Runtime.ImportModuleError, Runtime.UserCodeSyntaxError,
Runtime.HandlerNotFound), the same error payload `{"errorMessage", "errorType", "requestId",
"stackTrace"}` (stackTrace from `traceback.format_list`, this file's frames removed), the `[ERROR]` log
line with the traceback joined by carriage returns (one log event), exit status 1 after an init error,
and a context object with the usual attributes. One keep-alive HTTP connection with TCP_NODELAY.
(Response headers are matched case-sensitively as the emulator's Runtime API spells them.)
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import sys
import time
import traceback

_ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_API_PREFIX = "/2018-06-01/runtime"


class _Fault(Exception):
    def __init__(self, error_type: str, message: str, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


class _Fields:
    """An object with the given attributes, each None unless the source dict has it (as the official
    runtime builds ClientContext, Client and CognitoIdentity)."""

    def __init__(self, names, source):
        source = source if isinstance(source, dict) else {}
        for name in names:
            setattr(self, name, source.get(name))

    def __repr__(self):
        return f"{type(self).__name__}({self.__dict__})"


def _client_context(value):
    if value is None:
        return None
    context = _Fields(("client", "custom", "env"), value)
    if context.client is not None:
        context.client = _Fields(("installation_id", "app_title", "app_version_name", "app_version_code",
                                  "app_package_name"), context.client)
    return context


class LambdaContext:
    def __init__(self, request_id, deadline_ms, invoked_arn, client_context, identity):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.client_context = _client_context(client_context)
        identity = identity if isinstance(identity, dict) else {}
        self.identity = _Fields((), {})
        self.identity.cognito_identity_id = identity.get("cognitoIdentityId")
        self.identity.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.tenant_id = None

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self._deadline_ms - time.time() * 1000), 0)


class _Client:
    """A minimal keep-alive HTTP/1.1 client for the Runtime API (http.client alone costs more import
    time than the whole rest of this runtime). Requests go out in one write; the emulator's Runtime API
    always answers with Content-Length."""

    def __init__(self, address: str):
        host, _, port = address.rpartition(":")
        self._address = (host, int(port))
        self._sock = None
        self._rfile = None

    def _connect(self) -> None:
        sock = socket.create_connection(self._address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._rfile = sock, sock.makefile("rb")

    def call(self, method: str, path: str, body: bytes | None = None, headers=None):
        if self._sock is None:
            self._connect()
        head = [f"{method} {_API_PREFIX}{path} HTTP/1.1", f"Host: {self._address[0]}"]
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}")
        if body is not None:
            head.append(f"Content-Length: {len(body)}")
        self._sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b""))
        status_line = self._rfile.readline()
        if not status_line:
            raise ConnectionError("the Runtime API closed the connection")
        status = int(status_line.split()[1])
        response_headers = {}
        while True:
            line = self._rfile.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            response_headers[name.strip()] = value.strip()
        length = int(response_headers.get("Content-Length", "0"))
        data = self._rfile.read(length) if length else b""
        return status, response_headers, data

    def next(self):
        status, headers, body = self.call("GET", "/invocation/next")
        if status != 200:
            raise RuntimeError(f"Runtime API /invocation/next answered {status}: {body!r}")
        return headers, body

    def post(self, path: str, payload: bytes, headers=None) -> None:
        status, _, body = self.call("POST", path, payload, headers)
        if status != 202:
            raise RuntimeError(f"Runtime API {path} answered {status}: {body!r}")


_JSON_LOGS = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
_REQUEST_ID = None


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _REQUEST_ID
        return True


class _JsonFormatter(logging.Formatter):
    """The official runtime's JSON application log record (AWS_LAMBDA_LOG_FORMAT=JSON)."""

    def format(self, record):
        exc = record.exc_info
        doc = {
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%SZ"),
            "level": record.levelname,
            "message": record.msg if isinstance(record.msg, dict) and not record.args else record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None),
        }
        if exc:
            doc.update(stackTrace=traceback.format_tb(exc[2]), errorType=exc[0].__name__, errorMessage=str(exc[1]),
                       location=f"{record.pathname}:{record.funcName}:{record.lineno}")
        return json.dumps(doc, default=str)


def _setup_logging() -> None:
    """Root logger as the official runtime sets it up: a stdout handler with Lambda's text format
    (`[LEVEL]\t<time>\t<request id>\t<message>`) or JSON records; AWS_LAMBDA_LOG_LEVEL in JSON mode."""
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    if _JSON_LOGS:
        handler.setFormatter(_JsonFormatter())
        level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
        if level in logging._nameToLevel:
            logging.getLogger().setLevel(level)
    else:
        handler.terminator = ""
        handler.setFormatter(logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _error(message, error_type, stack_trace, request_id=None) -> dict:
    return {"errorMessage": message or "", "errorType": error_type or "",
            "requestId": request_id if request_id is not None else "", "stackTrace": stack_trace or []}


def _log_error(error: dict) -> None:
    if _JSON_LOGS:
        record = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "ERROR", **error}
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()
        return
    lines = ["[ERROR] " + (error["errorType"] + ": " if error["errorType"] else "") + error["errorMessage"]]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    # Carriage returns keep the whole traceback in one log event, as the official runtime does.
    sys.stdout.write("\r".join(lines) + "\n")
    sys.stdout.flush()


def _user_frames(tb) -> list[str]:
    frames = traceback.extract_tb(tb)
    this_file = os.path.abspath(__file__)
    frames = [f for f in frames if os.path.abspath(f.filename) != this_file]
    return traceback.format_list(frames)


def _load_handler(name: str):
    try:
        module_name, function_name = name.rsplit(".", 1)
    except ValueError as exc:
        raise _Fault("Runtime.MalformedHandlerName", f"Bad handler '{name}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise _Fault("Runtime.BuiltInModuleConflict",
                     f"Cannot use built-in module {module_name} as a handler module")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _Fault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        trace = ['  File "%s" Line %s\n    %s' % (exc.filename, exc.lineno, exc.text)]
        raise _Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}",
                     trace) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise _Fault("Runtime.HandlerNotFound",
                     f"Handler '{function_name}' missing on module '{module_name}'") from None


def _decode(text, what):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _Fault("Runtime.LambdaContextUnmarshalError", f"Unable to parse {what} JSON: {exc}") from None


def _handle(client: _Client, handler, headers: dict, body: bytes) -> None:
    global _REQUEST_ID
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
    _REQUEST_ID = request_id
    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        context = LambdaContext(request_id, int(headers.get("Lambda-Runtime-Deadline-Ms") or 0),
                                headers.get("Lambda-Runtime-Invoked-Function-Arn"),
                                _decode(headers.get("Lambda-Runtime-Client-Context"), "Client Context"),
                                _decode(headers.get("Lambda-Runtime-Cognito-Identity"), "Cognito Identity"))
        try:
            event = json.loads(body) if body else None
        except ValueError as exc:
            raise _Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from None
        result = handler(event, context)
        try:
            payload = json.dumps(result).encode("utf-8") if not isinstance(result, (bytes, bytearray)) \
                else bytes(result)
        except (TypeError, ValueError) as exc:
            raise _Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None
    except _Fault as fault:
        error = _error(fault.message, fault.error_type, fault.trace, request_id)
    except Exception as exc:  # the handler's own exception: report it, keep the sandbox
        error = _error(str(exc), type(exc).__name__, _user_frames(exc.__traceback__), request_id)
    else:
        client.post(f"/invocation/{request_id}/response", payload, {"Content-Type": "application/json"})
        return
    _log_error(error)
    client.post(f"/invocation/{request_id}/error", json.dumps(error).encode("utf-8"),
                {_ERROR_TYPE_HEADER: error["errorType"], "Content-Type": "application/json"})


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write("usage: bootstrap.py <module.function>\n")
        return 2
    client = _Client(os.environ["AWS_LAMBDA_RUNTIME_API"])
    _setup_logging()
    task_root = os.environ.get("LAMBDA_TASK_ROOT")
    if task_root and task_root not in sys.path:
        sys.path.insert(0, task_root)
    try:
        handler = _load_handler(argv[1])
    except _Fault as fault:
        error = _error(fault.message, fault.error_type, fault.trace)
    except Exception as exc:  # the module's top level raised
        error = _error(str(exc), type(exc).__name__, _user_frames(exc.__traceback__))
    else:
        error = None
    if error is not None:
        _log_error(error)
        client.post("/init/error", json.dumps(error).encode("utf-8"), {_ERROR_TYPE_HEADER: error["errorType"]})
        return 1
    while True:
        headers, body = client.next()
        _handle(client, handler, headers, body)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
