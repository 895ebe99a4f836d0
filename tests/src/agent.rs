//! A `scope-host agent` process for tests: started on a free loopback port, waited
//! for until ready, spoken to over plain HTTP/1.1, killed for real (SIGKILL) or
//! stopped (SIGTERM), killed when dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct AgentProcess {
    child: Child,
    pub addr: SocketAddr,
    /// The agent's stderr (its log).
    pub log: PathBuf,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The store of the agent whose files are in `dir`: `sqlite:<dir>/agent.db`; or,
/// when `SCOPE_HOST_TEST_STORE=postgres`, a database of its own on the test
/// process's PostgreSQL server (the same one for the same `dir`, so an agent
/// restarted finds its runs).
pub fn database(dir: &Path) -> String {
    if !on_postgres() {
        return format!("sqlite:{}", dir.join("agent.db").display());
    }
    static BY_DIR: std::sync::Mutex<Vec<(PathBuf, String)>> = std::sync::Mutex::new(Vec::new());
    let mut known = BY_DIR.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, url)) = known.iter().find(|(d, _)| d == dir) {
        return url.clone();
    }
    let url = crate::postgres::shared().database(&format!("agent_{}", known.len()));
    known.push((dir.to_owned(), url.clone()));
    url
}

/// Whether the agent tests run on PostgreSQL (`SCOPE_HOST_TEST_STORE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("SCOPE_HOST_TEST_STORE").as_deref() == Ok("postgres")
}

/// The arguments of an agent running the Lambda service (plugins/lambda) with its
/// example provider data on the simulated cloud `cloud`, its store in `dir`.
pub fn lambda_agent_args(dir: &Path, cloud: &Path) -> Vec<String> {
    let service = crate::lambda_service();
    vec![
        "--database".into(),
        database(dir),
        "--service-path".into(),
        service.display().to_string(),
        "--providers".into(),
        service.join("examples/providers.json").display().to_string(),
        "--cloud-state".into(),
        cloud.display().to_string(),
    ]
}

impl AgentProcess {
    /// Starts `scope-host agent --listen 127.0.0.1:0 <args>` with its log in
    /// `dir`, and waits until `/readyz` answers 200.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> AgentProcess {
        Self::start_binary(&crate::binary(), dir, args, env)
    }

    /// [`AgentProcess::start`] of another build (a release build, for benches).
    pub fn start_binary(binary: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> AgentProcess {
        let n = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
        let log = dir.join(format!("agent-{n}.log"));
        let child = crate::scope_host_command_of(binary)
            .args(["agent", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .env_remove("SCOPE_HOST_PLUGINS")
            .env("SCOPE_HOST_CACHE", crate::target_dir().join("agent-test-cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut agent = AgentProcess {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let text = std::fs::read_to_string(&agent.log).unwrap_or_default();
            if let Some(addr) = text
                .lines()
                .find_map(|l| l.strip_prefix("scope-host agent listening on http://"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|a| a.parse().ok())
            {
                agent.addr = addr;
                if agent.get("/readyz").status == 200 {
                    return agent;
                }
            }
            if let Ok(Some(status)) = agent.child.try_wait() {
                panic!("the agent exited ({status}) before it was ready:\n{text}");
            }
            assert!(Instant::now() < deadline, "the agent was not ready within 120 s:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts an agent expected to refuse to start: its exit code and log.
    pub fn refused(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
        let out = crate::scope_host_command()
            .arg("agent")
            .args(args)
            .envs(env.iter().copied())
            .env_remove("SCOPE_HOST_PLUGINS")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out.status.code(), crate::output_text(&out))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The agent's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn get(&self, path: &str) -> Answer {
        self.request("GET", path, &[], "")
    }

    pub fn post(&self, path: &str, body: &str) -> Answer {
        self.request("POST", path, &[], body)
    }

    /// One request (`Connection: close`); the answer, chunked bodies joined.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let answer = request(self.addr, method, path, headers, body.as_bytes());
        if answer.status == 0 {
            panic!("{method} {path}: no answer from the agent\nits log:\n{}", self.log_text());
        }
        answer
    }

    /// SIGKILL, and waits for the process to be gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM; the exit status once it ends (within `within`).
    pub fn terminate(&mut self, within: Duration) -> Option<i32> {
        signal(self.child.id(), "TERM");
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the agent did not end within {within:?} of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A run's journal, as `GET /v1/runs/{id}/events` serves it.
    pub fn events(&self, id: &str) -> Vec<serde_json::Value> {
        self.get(&format!("/v1/runs/{id}/events")).json()["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Polls `GET /v1/runs/{id}` until its state is final; the run.
    pub fn wait_run(&self, id: &str, within: Duration) -> serde_json::Value {
        let deadline = Instant::now() + within;
        loop {
            let answer = self.get(&format!("/v1/runs/{id}"));
            if answer.status != 200 {
                panic!("GET /v1/runs/{id}: {answer:?}\nthe agent's log:\n{}", self.log_text());
            }
            let run = answer.json();
            let state = run["state"].as_str().unwrap_or_default().to_owned();
            if !["queued", "running"].contains(&state.as_str()) {
                return run;
            }
            assert!(Instant::now() < deadline, "run {id} still {state} after {within:?}: {run:#}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// How many times a run's journal says `step` started.
pub fn started(events: &[serde_json::Value], step: &str) -> usize {
    events.iter().filter(|e| e["event"] == "step_started" && e["step"] == step).count()
}

/// Whether any of a run's journal entries has a message containing `text`.
pub fn mentions(events: &[serde_json::Value], text: &str) -> bool {
    events.iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains(text)))
}

/// A run's (started_ms, finished_ms).
pub fn span(run: &serde_json::Value) -> (i64, i64) {
    (run["started_ms"].as_i64().unwrap(), run["finished_ms"].as_i64().unwrap())
}

/// Asserts that the ended `runs` (scope, run), in the order they were notified, ran
/// one after the other within each scope, `per_scope` each.
pub fn assert_each_scope_in_order(runs: &[(u64, serde_json::Value)], per_scope: usize) {
    let scopes: std::collections::BTreeSet<u64> = runs.iter().map(|(s, _)| *s).collect();
    for scope in scopes {
        let mine: Vec<&serde_json::Value> = runs.iter().filter(|(s, _)| *s == scope).map(|(_, r)| r).collect();
        assert_eq!(mine.len(), per_scope, "scope {scope}");
        for pair in mine.windows(2) {
            assert!(
                span(pair[0]).1 <= span(pair[1]).0,
                "scope {scope}: a run started before the one notified before it ended: {:#} {:#}",
                pair[0],
                pair[1]
            );
        }
    }
}

/// Sends `SIG<name>` to `pid` with kill(1).
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status().unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to `addr`.
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connecting to the agent at {addr}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading a large body: a failed write is
    // not the test's failure, the answer is.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_owned() };
    Answer { status, headers, body }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            out.push_str(&after[..n.min(after.len())]);
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].strip_prefix("\r\n").unwrap_or(&after[n..]);
    }
    out
}
