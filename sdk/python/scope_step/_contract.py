"""The bridge to componentize-py's generated bindings (the `wit_world` package it
generates from the contract at build time): host errors become Python exceptions
and Python exceptions become the contract's `step-error`. Nothing else in the SDK
touches the bindings' error types."""

import traceback

from componentize_py_types import Err
from wit_world.imports import types

from . import errors


def raise_call_error(err: Err) -> None:
    """Raises the `errors.CallError` for a `call-error` the host returned."""
    e = err.value
    if isinstance(e, types.CallError_Denied):
        raise errors.Denied(e.value.action, e.value.resource, e.value.reason) from None
    if isinstance(e, types.CallError_Cloud):
        c = e.value
        kind = c.kind.name.lower().replace("_", "-")
        raise errors.CloudError(c.service, c.operation, c.code, c.message, c.request_id, c.retryable, kind) from None
    if isinstance(e, types.CallError_InvalidInput):
        raise errors.InvalidArgument(e.value) from None
    if isinstance(e, types.CallError_Limit):
        raise errors.LimitReached(e.value) from None
    raise errors.StepFailed(f"the host returned an error this SDK does not know: {e!r}") from None


def to_step_error(exc: BaseException) -> Err:
    """The contract's `step-error` for an exception that ended the step."""
    if isinstance(exc, errors.Denied):
        return Err(types.StepError_Denied(types.Denial(exc.action, exc.resource, exc.reason)))
    if isinstance(exc, errors.CloudError):
        return Err(
            types.StepError_Cloud(
                types.CloudError(
                    exc.service, exc.operation, exc.code, _error_kind(exc.kind), exc.message, exc.request_id, exc.retryable
                )
            )
        )
    if isinstance(exc, (errors.InvalidInput, errors.InvalidArgument)):
        return Err(types.StepError_InvalidInput(str(exc)))
    if isinstance(exc, errors.StepError):
        return Err(types.StepError_Failed(str(exc)))
    return Err(types.StepError_Failed(describe_unexpected(exc)))


def _error_kind(kind: str) -> "types.ErrorKind":
    """The contract's `error-kind` for the SDK's spelling ("not-found"); an
    unknown spelling is "other"."""
    return getattr(types.ErrorKind, str(kind).upper().replace("-", "_"), types.ErrorKind.OTHER)


def _author_frames(exc: BaseException) -> traceback.StackSummary:
    """The traceback without the SDK's own frames: the author's code is what matters."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/scope_step/" not in f.filename]
    return traceback.StackSummary.from_list(frames)


def format_traceback(exc: BaseException) -> str:
    """The traceback as Python prints it, less the SDK's frames."""
    lines = ["Traceback (most recent call last):\n", *_author_frames(exc).format()]
    lines += traceback.format_exception_only(exc)
    return "".join(lines).rstrip()


def describe_unexpected(exc: BaseException) -> str:
    """`KeyError: 'Owner' (at app.py:12, in run)`: what a traceback's last line and
    innermost frame say, in one line for the operator."""
    frames = _author_frames(exc)
    where = ""
    if frames:
        last = frames[-1]
        where = f" (at {last.filename.rsplit('/', 1)[-1]}:{last.lineno}, in {last.name})"
    text = str(exc)
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"
