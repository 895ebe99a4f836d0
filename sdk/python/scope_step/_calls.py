"""Host interfaces whose failures are Python exceptions.

componentize-py raises a failed call as `componentize_py_types.Err(call-error)`;
`Interface` wraps a generated interface module so the same functions raise
`errors.Denied`, `errors.CloudError` … instead, while its records, enums and
resources pass through untouched."""

import functools
import inspect

from componentize_py_types import Err

from ._contract import raise_call_error


class Interface:
    """One host interface (`lambda_`, `tagging` …): the generated module's
    functions, raising typed errors."""

    def __init__(self, module):
        self._module = module
        self.__doc__ = module.__doc__

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        if not inspect.isfunction(attr):
            return attr
        wrapped = _raising_typed_errors(attr)
        setattr(self, name, wrapped)  # wrap each function once
        return wrapped

    def __repr__(self):
        return f"<scope_step interface {self._module.__name__.rsplit('.', 1)[-1]}>"


def _raising_typed_errors(function):
    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Err as err:
            raise_call_error(err)

    return call
