"""scope_step: write scope-host steps and diagnose checks in Python.

A step is a plain function returning its outputs; a check returns a verdict.
Export it under the name componentize-py looks for::

    import scope_step as scope

    def run():
        who = scope.var("WHO", "world")
        scope.log.info(f"hello, {who}")
        return {"GREETING": f"hello, {who}"}

    WitWorld = scope.define_step(run)

Cloud calls go through the host (`scope.lambda_`, `scope.tagging`, `scope.ecr`,
`scope.iam`, `scope.logs`, `scope.secrets`, `scope.providers`, `scope.credentials`): the same
functions and records as componentize-py's generated `wit_world.imports.*`, but a
failed call raises `scope.Denied`, `scope.CloudError`, `scope.InvalidArgument` or
`scope.LimitReached`. Anything the function raises ends the step as a failure with
a message (never a trap): see `scope_step.errors`.

Build with `sdk/python/scope-step-build <folder> -o step.wasm` (the folder holds
`app.py` and `step.toml`).
"""

import json
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from wit_world.imports import apigateway as _apigateway
from wit_world.imports import cloudwatch as _cloudwatch
from wit_world.imports import context as _context
from wit_world.imports import credentials as _credentials
from wit_world.imports import ecr as _ecr
from wit_world.imports import elb as _elb
from wit_world.imports import iam as _iam
from wit_world.imports import lambda_ as _lambda
from wit_world.imports import logs as _logs
from wit_world.imports import platform as _platform
from wit_world.imports import providers as _providers
from wit_world.imports import route53 as _route53
from wit_world.imports import secrets as _secrets
from wit_world.imports import tagging as _tagging
from wit_world.imports import types as _types

from . import _contract, errors, log
from ._calls import Interface
from .errors import CallError, CloudError, Denied, InvalidArgument, InvalidInput, LimitReached, StepError, StepFailed

__all__ = [
    "define_step", "define_check", "verdict", "output", "secret_output",
    "var", "require_var", "variables", "context", "step_name", "log",
    "lambda_", "ecr", "iam", "logs", "cloudwatch", "apigateway", "elb", "route53", "platform", "secrets", "tagging", "providers", "credentials", "aws_name",
    "StepError", "InvalidInput", "StepFailed", "CallError", "Denied", "CloudError", "InvalidArgument", "LimitReached",
]

lambda_ = Interface(_lambda)
ecr = Interface(_ecr)
apigateway = Interface(_apigateway)
elb = Interface(_elb)
route53 = Interface(_route53)
iam = Interface(_iam)
# CloudWatch Logs (log groups); `log` is the step's own log lines.
logs = Interface(_logs)
# CloudWatch metrics.
cloudwatch = Interface(_cloudwatch)
# The platform the scope belongs to (metadata, domain, checks, live output).
platform = Interface(_platform)
secrets = Interface(_secrets)
tagging = Interface(_tagging)
providers = Interface(_providers)
credentials = Interface(_credentials)

Output = _types.Output
CheckResult = _types.CheckResult

# The contract's closed sets (function state, update status, provisioned-concurrency
# status, architecture, package type) are variants; AWS spells them differently per set.
_AWS_NAMES = {
    "FunctionState_Pending": "Pending",
    "FunctionState_Active": "Active",
    "FunctionState_Inactive": "Inactive",
    "FunctionState_Failed": "Failed",
    "UpdateStatus_InProgress": "InProgress",
    "UpdateStatus_Successful": "Successful",
    "UpdateStatus_Failed": "Failed",
    "ProvisionedConcurrencyStatus_InProgress": "IN_PROGRESS",
    "ProvisionedConcurrencyStatus_Ready": "READY",
    "ProvisionedConcurrencyStatus_Failed": "FAILED",
    "Architecture_X8664": "x86_64",
    "Architecture_Arm64": "arm64",
    "PackageType_Zip": "Zip",
    "PackageType_Image": "Image",
}


def aws_name(value) -> str:
    """A state, status, architecture or package type as AWS spells it
    (`aws_name(config.state)` is "Active"); a value the contract does not know yet
    (`other`) is AWS's own spelling already."""
    name = type(value).__name__
    if name.endswith("_Other"):
        return value.value
    if name in _AWS_NAMES:
        return _AWS_NAMES[name]
    raise TypeError(f"{name} is not one of the contract's closed sets")

# What a step function may return: {"NAME": "value"}, a list of `output(...)` /
# `secret_output(...)`, or None for no outputs.
Outputs = Union[None, Mapping[str, str], Iterable[_types.Output]]


# Inputs.

def var(name: str, default: Optional[str] = None) -> Optional[str]:
    """A variable's value (configuration, earlier steps' outputs, --var), or `default`."""
    value = _context.get_var(name)
    return default if value is None else value


def require_var(name: str) -> str:
    """A variable that must be set and non-empty; else the step fails as invalid input."""
    value = _context.get_var(name)
    if not value:
        raise InvalidInput(f"variable {name} is required but not set")
    return value


def variables() -> Dict[str, str]:
    """Every variable."""
    return dict(_context.list_vars())


def context() -> dict:
    """The built context (scope, deployment, asset, parameters …), parsed."""
    return json.loads(_context.built_context())


def step_name() -> str:
    """The step's name in the workflow."""
    return _context.step_name()


# Results.

def output(name: str, value: str) -> _types.Output:
    """An output later steps may read."""
    return _types.Output(name, value, False)


def secret_output(name: str, value: str) -> _types.Output:
    """An output the host redacts everywhere it could appear."""
    return _types.Output(name, value, True)


_STATUSES = {
    "pass": _types.CheckStatus.PASS,
    "fail": _types.CheckStatus.FAIL,
    "warning": _types.CheckStatus.WARNING,
    "skipped": _types.CheckStatus.SKIPPED,
}


def verdict(
    status: str,
    summary: str,
    evidence: Union[Mapping[str, str], Iterable[Tuple[str, str]]] = (),
    suggested_actions: Iterable[str] = (),
) -> _types.CheckResult:
    """A check's result: `status` is "pass", "fail", "warning" or "skipped"."""
    if status not in _STATUSES:
        raise ValueError(f"verdict status {status!r} is not one of {', '.join(_STATUSES)}")
    pairs = evidence.items() if isinstance(evidence, Mapping) else evidence
    return _types.CheckResult(_STATUSES[status], summary, [(str(k), str(v)) for k, v in pairs], list(suggested_actions))


# Exports.

def define_step(run: Callable[[], Outputs]) -> type:
    """The class componentize-py exports for the `step` world: assign it to
    `WitWorld` in the app module. `run` returns the outputs; whatever it raises
    fails the step with a message."""

    class WitWorld:
        def run(self) -> List[_types.Output]:
            return _guarded(lambda: _to_outputs(run()))

    return WitWorld


def define_check(check: Callable[[], _types.CheckResult]) -> type:
    """The class componentize-py exports for the `check` world: assign it to
    `WitWorld`. `check` returns `verdict(...)`; raising means the check could
    not run at all."""

    def checked() -> _types.CheckResult:
        result = check()
        if not isinstance(result, _types.CheckResult):
            raise TypeError(f"a check returns scope_step.verdict(...), not {type(result).__name__}")
        return result

    class WitWorld:
        def check(self) -> _types.CheckResult:
            return _guarded(checked)

    return WitWorld


def _guarded(body):
    # Everything the author's code raises becomes the contract's step-error:
    # componentize-py turns any other exception into a trap without a message.
    try:
        return body()
    except BaseException as exc:  # noqa: BLE001 - SystemExit included: a trap would say less
        if not isinstance(exc, StepError):
            log.error(_contract.format_traceback(exc))
        raise _contract.to_step_error(exc) from None


def _to_outputs(result: Outputs) -> List[_types.Output]:
    if result is None:
        return []
    if isinstance(result, Mapping):
        items = [output(name, value) for name, value in result.items()]
    else:
        items = list(result)
    for item in items:
        if not isinstance(item, _types.Output):
            raise TypeError(f"a step returns {{name: value}} or a list of scope_step.output(...), not a list holding {type(item).__name__}")
        if not isinstance(item.value, str):
            raise TypeError(f"output {item.name} is {type(item.value).__name__}; outputs are strings (use str(...))")
    return items
