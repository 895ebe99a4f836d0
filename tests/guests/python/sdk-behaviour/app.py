"""Test guest: each MODE exercises one promise of the Python SDK (see
tests/tests/sdk_errors.rs)."""

import scope_step as scope


def owner_of(tags: dict) -> str:
    return tags["owner"]


def run():
    mode = scope.require_var("MODE")
    if mode == "outputs":
        return [scope.output("STEP", scope.step_name()), scope.secret_output("TOKEN", "tok-0123456789"),
                scope.output("VARS", ",".join(sorted(scope.variables())))]
    if mode == "unexpected-exception":
        return {"OWNER": owner_of({"team": "payments"})}
    if mode == "missing-input":
        scope.require_var("NOT_GIVEN")
    if mode == "uncaught-cloud-error":
        scope.lambda_.get_function("absent-function", None)
    if mode == "caught-cloud-error":
        try:
            scope.lambda_.get_function("absent-function", None)
        except scope.CloudError as e:
            return {"CODE": e.code, "KIND": e.kind, "OPERATION": e.operation, "RETRYABLE": str(e.retryable)}
    if mode == "denied":
        try:
            scope.iam.get_role("lambda-exec")
        except scope.Denied as e:
            scope.log.warn(f"caught the denial of {e.action}")
            raise
    if mode == "step-failed":
        raise scope.StepFailed("the deployment window is closed")
    if mode == "not-a-string":
        return {"COUNT": 3}
    if mode == "leak-secret":
        password = scope.context()["parameters"]["results"][0]["values"][0]["value"]
        raise RuntimeError(f"cannot connect with password {password}")
    if mode == "exit":
        raise SystemExit(4)
    return None


WitWorld = scope.define_step(run)
