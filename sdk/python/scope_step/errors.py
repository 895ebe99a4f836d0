"""The errors of a step, as Python exceptions.

Raise `InvalidInput` or `StepFailed` to fail the step with that kind. A host call
that does not succeed raises a `CallError` (`Denied`, `CloudError`, `InvalidArgument`
or `LimitReached`); left uncaught, it fails the step with the same kind the contract
gives it. Any other exception fails the step as `failed`, with its type, message and
where it was raised.
"""

from typing import Optional


class StepError(Exception):
    """Base of every error that fails a step with a kind."""


class InvalidInput(StepError):
    """The step's inputs (variables, context) are missing or malformed."""


class StepFailed(StepError):
    """The step failed for a reason of its own; the message is for the operator."""


class CallError(StepError):
    """A host call (a cloud operation, assume-role, providers …) did not succeed."""


class Denied(CallError):
    """The host refused the call before it left: no grant covers it."""

    def __init__(self, action: str, resource: str, reason: str):
        super().__init__(f"denied: {action} on {resource}: {reason}")
        self.action = action
        self.resource = resource
        self.reason = reason


class CloudError(CallError):
    """The cloud answered with an error; `code` is the AWS error code and `kind`
    its portable kind, the same on every service: "not-found", "conflict",
    "throttled", "access-denied", "invalid-parameter", "expired-credentials" or
    "other"."""

    def __init__(
        self,
        service: str,
        operation: str,
        code: str,
        message: str,
        request_id: Optional[str],
        retryable: bool,
        kind: str = "other",
    ):
        super().__init__(f"{service} {operation} failed: {code}: {message}")
        self.service = service
        self.operation = operation
        self.code = code
        self.kind = kind
        self.message = message
        self.request_id = request_id
        self.retryable = retryable


class InvalidArgument(CallError):
    """An argument of the call was malformed (bad ARN, empty name …); nothing was sent."""


class LimitReached(CallError):
    """A host limit stopped the call: a waiter's deadline, a handle limit."""
