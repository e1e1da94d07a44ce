"""AWS-shaped errors of the emulator's Lambda API.

Each error carries what the HTTP layer needs to answer exactly as Lambda does, so that boto3 raises
the modelled exception: the status, the error code (sent in the `x-amzn-ErrorType` header and as
the body's shape), and a JSON body with `Type` ("User" or "Service") and the message under the key
the botocore model names for that shape (`Message` for ResourceNotFoundException, `message` for the
others). TooManyRequestsException also carries `Reason` and a `Retry-After` header.
"""

from __future__ import annotations

import json


class LambdaApiError(Exception):
    """An error the Lambda API answers with. `code` is the AWS error code (the exception name)."""

    status = 400
    code = "ServiceException"
    message_key = "message"
    error_type = "User"

    def __init__(self, message: str, **extra: str):
        super().__init__(message)
        self.message = message
        self.extra = extra

    def headers(self) -> dict[str, str]:
        return {"x-amzn-ErrorType": self.code, "Content-Type": "application/json"}

    def body(self) -> bytes:
        doc: dict[str, str] = {"Type": self.error_type, self.message_key: self.message}
        doc.update(self.extra)
        return json.dumps(doc).encode("utf-8")


class ResourceNotFound(LambdaApiError):
    status = 404
    code = "ResourceNotFoundException"
    message_key = "Message"


class ResourceConflict(LambdaApiError):
    status = 409
    code = "ResourceConflictException"


class InvalidParameterValue(LambdaApiError):
    status = 400
    code = "InvalidParameterValueException"


class InvalidRequestContent(LambdaApiError):
    """A request body (e.g. an Invoke payload) that is not valid JSON."""

    status = 400
    code = "InvalidRequestContentException"


class ValidationError(LambdaApiError):
    """Constraint violations: of the API model (handler pattern, memory above the model's maximum...),
    which Lambda's front end words the Smithy way ("1 validation error detected: Value '40000' at
    'memorySize' failed to satisfy constraint: ..."), and of the function limits within the model
    (memory above 10240, timeout above 900), which the service words "'MemorySize' value failed to
    satisfy constraint: ...". Both are `ValidationException`; the shape is not in botocore's Lambda
    model, so boto3 raises a plain ClientError with that code.
    """

    status = 400
    code = "ValidationException"


class Serialization(LambdaApiError):
    """A body that cannot be read into the operation's input shape: not JSON, or a value of the wrong
    JSON type. Lambda's deserializer answers this before any validation; the shape is not in botocore's
    Lambda model, so boto3 raises a plain ClientError with this code."""

    status = 400
    code = "SerializationException"


class PreconditionFailed(LambdaApiError):
    status = 412
    code = "PreconditionFailedException"


class RequestTooLarge(LambdaApiError):
    """Invoke payload above the synchronous limit. Lambda answers 413 with this code."""

    status = 413
    code = "RequestEntityTooLargeException"


class TooManyRequests(LambdaApiError):
    status = 429
    code = "TooManyRequestsException"

    def __init__(self, reason: str, message: str = "Rate Exceeded."):
        super().__init__(message, Reason=reason)
        self.reason = reason

    def headers(self) -> dict[str, str]:
        headers = super().headers()
        headers["Retry-After"] = "1"
        return headers


class UnknownOperation(LambdaApiError):
    """A request the emulator does not implement: the answer names the operation."""

    status = 501
    code = "NotImplementedException"
    error_type = "Service"


class UnknownRoute(UnknownOperation):
    """A method and path that no Lambda operation has: AWS answers 404 UnknownOperationException."""

    status = 404
    code = "UnknownOperationException"
    error_type = "User"


class ServiceError(LambdaApiError):
    status = 500
    code = "ServiceException"
    message_key = "Message"
    error_type = "Service"


def function_not_found(arn: str) -> ResourceNotFound:
    return ResourceNotFound(f"Function not found: {arn}")


def validation_error(field: str, value: object, constraint: str) -> ValidationError:
    """Smithy's wording, e.g. field 'memorySize', constraint 'Member must have value less than or
    equal to 10240'."""
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
    )
