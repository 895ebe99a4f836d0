//! Test guest: Tries the filesystem, environment, arguments and network.
#[allow(unused_imports)]
use scope_step::lambda;
use scope_step::prelude::*;

struct Guest;

impl Step for Guest {
    fn run() -> Result<Vec<Output>, StepError> {
        let mut out = Vec::new();
        out.push(output(
            "FS_ROOT",
            match std::fs::read_dir("/") {
                Ok(_) => "open".into(),
                Err(e) => format!("denied: {e}"),
            },
        ));
        out.push(output(
            "FS_PASSWD",
            match std::fs::read("/etc/passwd") {
                Ok(_) => "read".into(),
                Err(e) => format!("denied: {e}"),
            },
        ));
        out.push(output(
            "FS_WRITE",
            match std::fs::write("escape.txt", b"x") {
                Ok(_) => "written".into(),
                Err(e) => format!("denied: {e}"),
            },
        ));
        out.push(output("ENV_COUNT", std::env::vars().count().to_string()));
        out.push(output("ARGS_COUNT", std::env::args().count().to_string()));
        out.push(output(
            "NET_TCP",
            // NET_TARGET: a listener the test runs (it checks nobody connected).
            match std::net::TcpStream::connect(var("NET_TARGET").unwrap_or_else(|| "127.0.0.1:1".into())) {
                Ok(_) => "connected".into(),
                Err(e) => format!("denied: {e}"),
            },
        ));
        out.push(output(
            "NET_DNS",
            match std::net::ToSocketAddrs::to_socket_addrs("localhost:80") {
                Ok(_) => "resolved".into(),
                Err(e) => format!("denied: {e}"),
            },
        ));
        Ok(out)
    }
}

scope_step::step!(
    Guest,
    Manifest {
        name: "ambient",
        version: "0.1.0",
        description: "Tries the filesystem, environment, arguments and network",
        capabilities: &[],
        ..Manifest::EMPTY
    }
);
