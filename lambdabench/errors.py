"""The project's own errors. The CLI maps them to exit statuses; library code raises them.

UsageError  -> exit 2: the user gave something wrong (flag, scenario, file, unknown function).
RunError    -> exit 1: the run itself failed (restore failed, gate crossed is not an error).
Both carry a message that names what was wrong and a hint saying how to fix it.
"""

from __future__ import annotations


class LambdabenchError(Exception):
    """Base class. `hint` is one sentence telling the user what to do next."""

    exit_status = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(LambdabenchError):
    """Bad input: flags, scenario files, log files, unknown regions or functions."""

    exit_status = 2


class RunError(LambdabenchError):
    """The run could not finish as asked (for example a restore that left a difference)."""

    exit_status = 1
