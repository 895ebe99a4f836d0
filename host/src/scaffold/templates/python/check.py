"""{{name}}: a diagnose check that the Lambda function named by LAMBDA_FUNCTION_NAME
exists and is Active.

A check returns a verdict (pass, fail, warning or skipped) with the evidence it rests
on and what the operator could do; raising means it could not run at all. It reaches
the cloud only through the host: every call below is checked against step.toml (and
the operator's policy) before it leaves. The SDK is scope-step/sdk/python/scope_step.
"""

import scope_step as scope


def check():
    name = scope.require_var("LAMBDA_FUNCTION_NAME")
    try:
        config = scope.lambda_.get_function(name, None).configuration
    except scope.CloudError as e:
        # A missing function is the check's answer, not a failure to check.
        if e.kind == "not-found":
            return scope.verdict(
                "fail",
                f"function {name} does not exist",
                {"function": name},
                ["deploy the scope again, or check LAMBDA_FUNCTION_NAME"],
            )
        raise  # throttled …: the check could not run; the host says why, as for a denial
    state = scope.aws_name(config.state)  # "Active", as AWS spells it
    scope.log.info(f"{name} is {state}")
    if state == "Active":
        return scope.verdict(
            "pass",
            f"function {name} is Active",
            {"state": state, "last_update_status": scope.aws_name(config.last_update_status)},
        )
    return scope.verdict(
        "fail",
        f"function {name} is {state}, not Active",
        {"state": state, "state_reason": config.state_reason or ""},
        ["look at the state reason; deploy again once its cause is fixed"],
    )


WitWorld = scope.define_check(check)
