//! The moto AWS emulator for the host's own tests and the integration tests alike:
//! one `moto_server` per [`Moto`], on a free loopback port, with its log and request
//! recording in a temporary folder, killed when dropped. moto is installed into
//! `target/moto-venv` by `scripts/moto` (scripts/test runs it); `SCOPE_MOTO_VENV`
//! names another virtual environment.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `moto_server`.
pub struct Moto {
    child: Child,
    port: u16,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The server's log and its request recording (kept out of the source tree).
    dir: tempfile::TempDir,
}

/// The virtual environment moto is installed in.
fn venv_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SCOPE_MOTO_VENV") {
        return PathBuf::from(dir);
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("moto-venv")
}

impl Moto {
    /// moto answering as its default account, 123456789012.
    pub fn start() -> Moto {
        Moto::launch(None)
    }

    /// moto serving every request as `account` (MOTO_ACCOUNT_ID).
    pub fn start_in_account(account: &str) -> Moto {
        Moto::launch(Some(account))
    }

    fn launch(account: Option<&str>) -> Moto {
        let bin = venv_dir().join("bin/moto_server");
        assert!(
            bin.exists(),
            "moto is not installed ({} is missing): run scripts/moto first (scripts/test does), which creates \
             target/moto-venv with moto[server]",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("moto temp dir");
        let log = std::fs::File::create(dir.path().join("moto.log")).expect("moto log file");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_RECORDER_FILEPATH", dir.path().join("recording"))
            .envs(account.map(|a| ("MOTO_ACCOUNT_ID", a)))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut moto = Moto {
            child,
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if matches!(moto.try_api("GET", "/moto-api/", ""), Ok((200, _))) {
                return moto;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                let log = std::fs::read_to_string(moto.dir.path().join("moto.log")).unwrap_or_default();
                panic!("moto_server exited before answering ({status}):\n{log}");
            }
            assert!(Instant::now() < deadline, "moto_server did not answer on port {port} within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The endpoint, as `--endpoint-url` takes it.
    pub fn url(&self) -> String {
        self.endpoint.clone()
    }

    /// One request to the emulator's own API (`/moto-api/…`): status and body.
    pub fn api(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        self.try_api(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path} to moto: {e}"))
    }

    fn try_api(&self, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        Ok((status, body))
    }

    /// Starts moto's request recorder (what the host sent, bodies included).
    pub fn start_recording(&self) {
        assert_eq!(self.api("POST", "/moto-api/recorder/start-recording", "").0, 200);
    }

    /// The request bodies recorded so far, decoded.
    pub fn recorded_bodies(&self) -> Vec<String> {
        let (_, recording) = self.api("GET", "/moto-api/recorder/download-recording", "");
        recording
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter_map(|entry| {
                let body = entry["body"].as_str()?.to_owned();
                if entry["body_encoded"].as_bool() == Some(true) {
                    String::from_utf8(base64_decode(&body)).ok()
                } else {
                    Some(body)
                }
            })
            .collect()
    }

    /// Switches IAM enforcement on (after seeding): identity and trust policies
    /// apply from now on; session policies are stored, not enforced.
    pub fn enforce_iam(&self) {
        assert_eq!(self.api("POST", "/moto-api/reset-auth", "0").0, 200);
    }

    /// The Python of moto's virtual environment, which has boto3: for seeding what
    /// the tests' own SDK crates do not cover (EC2 subnets for a load balancer).
    pub fn python(&self) -> PathBuf {
        venv_dir().join("bin/python")
    }

    /// Fake credentials and no instance-metadata lookups: nothing leaves loopback.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64, padding and anything else outside the alphabet skipped.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else { continue };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_decodes_what_moto_records() {
        assert_eq!(super::base64_decode("QWN0aW9uPUFzc3VtZVJvbGU="), b"Action=AssumeRole");
    }
}
