//! deploy/kubernetes/: the manifests an operator applies for a fleet of agents,
//! checked by kubernetes-validate (PyPI) against the Kubernetes API's own JSON
//! schemas, and against the binary they run.

use scope_host_tests::agent::AgentProcess;
use scope_host_tests::{lambda_service, scope_host_command, target_dir};
use serde_yaml_ng::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The oldest Kubernetes the manifests are for (the preStop `sleep` action is on by
/// default from 1.30) and the newest whose schemas kubernetes-validate 1.37.0 bundles.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.30.0", "1.37.0"];

fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes")
}

/// Every manifest file, in the order `kubectl apply -f` takes them.
fn manifest_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no manifest in {}", deploy_dir().display());
    files
}

/// Every YAML document of `file` (separated by `---` lines), empty ones left out.
fn documents_of(file: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut documents = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            documents.push(String::new());
        } else {
            let last = documents.last_mut().unwrap();
            last.push_str(line);
            last.push('\n');
        }
    }
    documents
        .iter()
        .map(|d| serde_yaml_ng::from_str::<Value>(d).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
        .filter(|v| !v.is_null())
        .collect()
}

/// Every resource of the directory.
fn resources() -> Vec<Value> {
    manifest_files().iter().flat_map(|f| documents_of(f)).collect()
}

/// The resource of `kind` named `name`.
fn resource(kind: &str, name: &str) -> Value {
    resources()
        .into_iter()
        .find(|r| r["kind"] == kind && r["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} `{name}` in {}", deploy_dir().display()))
}

/// The one resource of `kind`.
fn the(kind: &str) -> Value {
    let mut of_kind: Vec<Value> = resources().into_iter().filter(|r| r["kind"] == kind).collect();
    assert_eq!(of_kind.len(), 1, "expected one {kind} in {}", deploy_dir().display());
    of_kind.remove(0)
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

/// The keys of a mapping (`data`, `stringData`, labels).
fn keys(v: &Value) -> BTreeSet<String> {
    v.as_mapping()
        .unwrap_or_else(|| panic!("not a mapping: {v:?}"))
        .keys()
        .map(|k| text(k).to_owned())
        .collect()
}

/// The Deployment's `agent` container.
fn agent_container(deployment: &Value) -> Value {
    deployment["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "agent")
        .expect("a container named agent")
        .clone()
}

/// The container's command line: command, then args.
fn command_line(container: &Value) -> Vec<String> {
    ["command", "args"]
        .iter()
        .filter_map(|k| container[*k].as_sequence())
        .flatten()
        .map(|a| text(a).to_owned())
        .collect()
}

/// The value the command line gives `flag` (`--flag VALUE` or `--flag=VALUE`).
fn flag_value(line: &[String], flag: &str) -> String {
    let inline = format!("{flag}=");
    line.iter()
        .enumerate()
        .find_map(|(i, a)| {
            if a == flag {
                line.get(i + 1).cloned()
            } else {
                a.strip_prefix(&inline).map(str::to_owned)
            }
        })
        .unwrap_or_else(|| panic!("the Deployment does not pass {flag}: {line:?}"))
}

/// A size in bytes: a Kubernetes quantity (`1536Mi`, `2G`) or the agent's (`256MiB`).
fn bytes(size: &str) -> u64 {
    let digits = size.find(|c: char| !c.is_ascii_digit()).unwrap_or(size.len());
    let (number, unit) = size.split_at(digits);
    let number: u64 = number.parse().unwrap_or_else(|_| panic!("not a size: {size}"));
    let factor: u64 = match unit.trim().trim_end_matches('B') {
        "" => 1,
        "k" | "K" => 1000,
        "M" => 1000 * 1000,
        "G" => 1000 * 1000 * 1000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        other => panic!("unknown unit `{other}` in {size}"),
    };
    number * factor
}

/// The words of `text` shaped like `--long-flag`.
fn long_flags(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_owned)
        .collect()
}

/// The words of `text` shaped like an environment variable's name.
fn env_names(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .filter(|w| w.len() > 2 && w.contains('_'))
        .map(str::to_owned)
        .collect()
}

fn agent_help() -> String {
    let out = scope_host_command().args(["agent", "--help"]).output().unwrap();
    assert!(out.status.success(), "{}", scope_host_tests::output_text(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn validator() -> PathBuf {
    let path = target_dir().join("kubernetes-validate-venv/bin/kubernetes-validate");
    assert!(
        path.exists(),
        "{} is missing: scripts/linters installs it (scripts/test runs it)",
        path.display()
    );
    path
}

/// kubernetes-validate --strict on `files` against `version`: exit code and output.
fn validate(files: &[PathBuf], version: &str) -> (Option<i32>, String) {
    let out = std::process::Command::new(validator())
        .args(["--strict", "--kubernetes-version", version])
        .args(files)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (out.status.code(), scope_host_tests::output_text(&out))
}

#[test]
fn every_manifest_validates_strictly_against_the_kubernetes_schemas() {
    let files = manifest_files();
    let documents: usize = files.iter().map(|f| documents_of(f).len()).sum();
    for version in KUBERNETES_VERSIONS {
        let (code, output) = validate(&files, version);
        assert_eq!(code, Some(0), "kubernetes-validate against {version}:\n{output}");
        // Each document checked, none skipped: one `passed` line each.
        assert_eq!(
            output.matches(" passed for resource ").count(),
            documents,
            "against {version}:\n{output}"
        );
    }
    let kinds: BTreeSet<String> = resources().iter().map(|r| text(&r["kind"]).to_owned()).collect();
    for kind in [
        "ConfigMap",
        "Deployment",
        "PodDisruptionBudget",
        "Secret",
        "Service",
        "ServiceAccount",
    ] {
        assert!(kinds.contains(kind), "no {kind} among {kinds:?}");
    }
}

/// The check is real: the Deployment broken in ways `kubectl apply` would refuse is
/// rejected, with what is wrong.
#[test]
fn a_broken_deployment_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let deployment = the("Deployment");
    let mut string_for_integer = deployment.clone();
    string_for_integer["spec"]["replicas"] = Value::from("three");
    // A misspelt probe, which Kubernetes would drop without a word: no readiness check.
    let mut unknown_field = deployment.clone();
    let container = unknown_field["spec"]["template"]["spec"]["containers"][0].as_mapping_mut().unwrap();
    let probe = container.remove("readinessProbe").expect("a readiness probe");
    container.insert(Value::from("readinesProbe"), probe);
    let mut no_selector = deployment.clone();
    no_selector["spec"].as_mapping_mut().unwrap().remove("selector");
    for (name, broken, says) in [
        ("string-for-integer", &string_for_integer, "'three' is not of type 'integer'"),
        ("unknown-field", &unknown_field, "'readinesProbe' was unexpected"),
        ("no-selector", &no_selector, "'selector' is a required property"),
    ] {
        let file = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&file, serde_yaml_ng::to_string(broken).unwrap()).unwrap();
        for version in KUBERNETES_VERSIONS {
            let (code, output) = validate(std::slice::from_ref(&file), version);
            assert_eq!(code, Some(1), "{name} against {version} is rejected:\n{output}");
            assert!(output.contains(says), "{name} against {version}:\n{output}");
        }
    }
}

#[test]
fn the_deployment_agrees_with_the_binary_it_runs() {
    let deployment = the("Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = agent_container(&deployment);
    let line = command_line(&container);
    assert_eq!(line[..2], ["scope-host", "agent"], "{line:?}");
    let help = agent_help();

    // Every flag passed is one the agent has.
    let known = long_flags(&help);
    let passed: Vec<&str> = line
        .iter()
        .filter(|a| a.starts_with("--"))
        .map(|a| a.split('=').next().unwrap())
        .collect();
    assert!(passed.len() >= 8, "{passed:?}");
    for flag in &passed {
        assert!(
            known.contains(*flag),
            "the Deployment passes {flag}, which `scope-host agent --help` does not name"
        );
    }

    // Every environment variable set (the settings, the Secret, the container's own)
    // is one the agent reads.
    let named = env_names(&help);
    let mut set = keys(&resource("ConfigMap", "scope-host-settings")["data"]);
    set.extend(keys(&resource("Secret", "scope-host")["stringData"]));
    set.extend(
        container["env"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|e| text(&e["name"]).to_owned()),
    );
    assert!(
        set.contains("SCOPE_HOST_DATABASE") && set.contains("SCOPE_HOST_AGENT_TOKENS"),
        "{set:?}"
    );
    for name in &set {
        assert!(
            named.contains(name),
            "{name} is set for the agent, but `scope-host agent --help` does not name it"
        );
    }

    // SIGTERM comes after the preStop pause; then the running steps have --grace, and
    // the agent up to 5 s more to close its connections, before the kubelet's SIGKILL.
    let grace = humantime::parse_duration(&flag_value(&line, "--grace")).unwrap();
    let pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64().unwrap_or(0);
    let termination = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        Duration::from_secs(termination) > Duration::from_secs(pre_stop + 5) + grace,
        "terminationGracePeriodSeconds {termination} must exceed the preStop pause ({pre_stop}s), --grace ({grace:?}) and 5 s"
    );

    // The probes ask the agent's endpoints on the port it listens on.
    let listen: std::net::SocketAddr = flag_value(&line, "--listen").parse().unwrap();
    assert!(listen.ip().is_unspecified(), "every interface of the pod: {listen}");
    let port_of = |port: &Value| -> u64 {
        match port.as_str() {
            Some(name) => container["ports"]
                .as_sequence()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("no container port named {name}"))["containerPort"]
                .as_u64()
                .unwrap(),
            None => port.as_u64().unwrap(),
        }
    };
    for (probe, path) in [
        ("startupProbe", "/healthz"),
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ] {
        let get = &container[probe]["httpGet"];
        assert_eq!(text(&get["path"]), path, "{probe}");
        assert_eq!(
            port_of(&get["port"]),
            u64::from(listen.port()),
            "{probe} asks the port --listen binds"
        );
    }
    // The Service sends its traffic there too.
    let service = the("Service");
    let service_port = &service["spec"]["ports"][0];
    assert_eq!(service_port["name"], "http");
    assert_eq!(port_of(&service_port["targetPort"]), u64::from(listen.port()));

    // Each of --concurrency runs may have a step using --memory.
    let per_step = bytes(&flag_value(&line, "--memory"));
    let concurrency: u64 = flag_value(&line, "--concurrency").parse().unwrap();
    let limit = bytes(text(&container["resources"]["limits"]["memory"]));
    let request = bytes(text(&container["resources"]["requests"]["memory"]));
    assert!(
        request > per_step * concurrency && limit >= request,
        "memory request {request} and limit {limit} for {concurrency} steps of {per_step} bytes and the host"
    );

    // The compile cache is on a writable volume (the root filesystem is read-only).
    let cache = flag_value(&line, "--cache-dir");
    let mounts = container["volumeMounts"].as_sequence().unwrap();
    let writable = |path: &str| {
        mounts
            .iter()
            .any(|m| Path::new(path).starts_with(text(&m["mountPath"])) && m["readOnly"].as_bool() != Some(true))
    };
    assert!(writable(&cache) && writable("/tmp"), "{mounts:?}");
}

#[test]
fn the_pods_run_unprivileged_and_the_manifests_refer_to_each_other() {
    let deployment = the("Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = agent_container(&deployment);
    let security = &container["securityContext"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["capabilities"]["drop"], Value::from(vec!["ALL"]));
    assert!(pod["securityContext"]["runAsUser"].as_u64().unwrap() > 0);

    // A fleet that a node, a drain or a rollout never takes down.
    assert!(deployment["spec"]["replicas"].as_u64().unwrap() >= 2);
    let rolling = &deployment["spec"]["strategy"]["rollingUpdate"];
    assert!(rolling["maxUnavailable"].as_u64().unwrap() <= 1, "{rolling:?}");
    let spread = pod["topologySpreadConstraints"].as_sequence().unwrap();
    assert!(
        spread
            .iter()
            .any(|c| c["topologyKey"] == "kubernetes.io/hostname" && c["whenUnsatisfiable"] == "DoNotSchedule"),
        "{spread:?}"
    );

    // The pod template carries the labels everything selects it by.
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let selects = |selector: &Value, who: &str| {
        let wanted = selector.as_mapping().unwrap_or_else(|| panic!("{who}: no selector"));
        assert!(!wanted.is_empty(), "{who}");
        for (k, v) in wanted {
            assert_eq!(&labels[k], v, "{who} selects {k:?}={v:?}, which the pods do not carry");
        }
    };
    selects(&deployment["spec"]["selector"]["matchLabels"], "the Deployment");
    selects(&the("Service")["spec"]["selector"], "the Service");
    selects(
        &the("PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        "the PodDisruptionBudget",
    );
    for constraint in spread {
        selects(&constraint["labelSelector"]["matchLabels"], "a topology spread constraint");
    }

    // What the Deployment names is here.
    let account = resource("ServiceAccount", text(&pod["serviceAccountName"]));
    let role = text(&account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]);
    assert!(role.starts_with("arn:aws:iam::") && role.contains(":role/"), "{role}");
    for from in container["envFrom"].as_sequence().unwrap() {
        if let Some(name) = from["configMapRef"]["name"].as_str() {
            resource("ConfigMap", name);
        }
        if let Some(name) = from["secretRef"]["name"].as_str() {
            resource("Secret", name);
        }
    }
    for volume in pod["volumes"].as_sequence().unwrap() {
        if let Some(name) = volume["configMap"]["name"].as_str() {
            resource("ConfigMap", name);
        }
    }
}

#[test]
fn the_secrets_placeholders_cannot_open_the_api() {
    let secret = resource("Secret", "scope-host");
    let data = &secret["stringData"];
    assert_eq!(
        keys(data),
        BTreeSet::from(["NP_API_KEY", "SCOPE_HOST_AGENT_TOKENS", "SCOPE_HOST_DATABASE"].map(String::from))
    );
    for key in keys(data) {
        assert!(text(&data[key.as_str()]).contains("REPLACE"), "{key} is marked to replace");
    }
    assert!(text(&data["SCOPE_HOST_DATABASE"]).starts_with("postgres://"));
    // Not a hash of anything: an untouched Secret stops the agent at start, rather
    // than admitting whoever knows a token published here.
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("agent.db").display());
    let service = lambda_service();
    let (code, log) = AgentProcess::refused(
        &["--database", &database, "--service-path", service.to_str().unwrap()],
        &[("SCOPE_HOST_AGENT_TOKENS", text(&data["SCOPE_HOST_AGENT_TOKENS"]))],
    );
    assert_ne!(code, Some(0), "{log}");
    assert!(log.contains("SCOPE_HOST_AGENT_TOKENS") && log.contains("64 hex digits"), "{log}");
    assert!(!dir.path().join("agent.db").exists(), "nothing was opened");
}

/// The hash of the token the test's agent admits (`printf %s deploy-test-token | sha256sum`).
const TOKEN_HASH: &str = "19e8916f6ba87578cd12068c9d83a3ecc7ea36471c5f73779db37878a66f471d";

/// The Deployment's command line and the ConfigMap's files, on the simulated cloud
/// and a SQLite store (the pods' cloud, store and paths are the cluster's): the
/// binary takes them, answers the probes without a token, and stops within the
/// grace period.
#[test]
fn the_agent_started_as_the_deployment_starts_it_answers_its_probes() {
    let deployment = the("Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = agent_container(&deployment);
    let line = command_line(&container);
    // `AgentProcess` starts `scope-host agent --listen 127.0.0.1:0`; the compile cache
    // is the tests' shared one.
    let mut args: Vec<&str> = Vec::new();
    let mut rest = line[2..].iter();
    while let Some(arg) = rest.next() {
        if arg == "--listen" || arg == "--cache-dir" {
            rest.next();
        } else {
            args.push(arg);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let files = resource("ConfigMap", "scope-host-files");
    for name in keys(&files["data"]) {
        std::fs::write(dir.path().join(&name), text(&files["data"][name.as_str()])).unwrap();
    }
    let settings = &resource("ConfigMap", "scope-host-settings")["data"];
    let in_dir = |key: &str| {
        let file = Path::new(text(&settings[key])).file_name().unwrap();
        dir.path().join(file).display().to_string()
    };
    let (policy, providers) = (in_dir("SCOPE_HOST_POLICY"), in_dir("SCOPE_HOST_PROVIDERS"));
    let database = format!("sqlite:{}", dir.path().join("agent.db").display());
    let service = lambda_service().display().to_string();
    let mut agent = AgentProcess::start(
        dir.path(),
        &args,
        &[
            ("SCOPE_HOST_DATABASE", database.as_str()),
            ("SCOPE_HOST_SERVICE_PATH", service.as_str()),
            ("SCOPE_HOST_POLICY", policy.as_str()),
            ("SCOPE_HOST_PROVIDERS", providers.as_str()),
            ("SCOPE_HOST_AGENT_TOKENS", TOKEN_HASH),
        ],
    );
    // The kubelet's probes carry no token.
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        let path = text(&container[probe]["httpGet"]["path"]);
        let answer = agent.get(path);
        assert_eq!(answer.status, 200, "{probe} {path}: {answer:?}\n{}", agent.log_text());
    }
    assert_eq!(agent.get("/v1/runs").status, 401, "the tokens are in force");
    let authorized = agent.request("GET", "/v1/runs", &[("Authorization", "Bearer deploy-test-token")], "");
    assert_eq!(authorized.status, 200, "{authorized:?}");
    // After the preStop pause, what is left of the grace period.
    let termination = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    let pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64().unwrap_or(0);
    let code = agent.terminate(Duration::from_secs(termination - pre_stop));
    assert_eq!(code, Some(0), "{}", agent.log_text());
    // --log-format json: the log is JSON lines (the address line is for whoever started it).
    let log = agent.log_text();
    let json_lines = log.lines().filter(|l| l.starts_with('{')).count();
    assert!(json_lines > 0, "{log}");
}
