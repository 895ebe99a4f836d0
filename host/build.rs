//! Build settings of the `scope-host` executable.
//!
//! The executable is position-independent (Rust's default on Linux), so the kernel
//! loads its code and data at a random address: a host that holds cloud credentials
//! and maps native code compiled from untrusted components keeps ASLR of its own
//! image. That costs the dynamic loader some relocations at every start.
//!
//! `SCOPE_HOST_BENCH_NO_PIE=1` links it at a fixed address instead, for
//! benchmarking only — to measure what the relocations cost. It is never the
//! default, and a build made so says so in `scope-host --version`.
fn main() {
    println!("cargo:rerun-if-env-changed=SCOPE_HOST_BENCH_NO_PIE");
    println!("cargo:rustc-check-cfg=cfg(scope_host_no_pie)");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let no_pie = std::env::var_os("SCOPE_HOST_BENCH_NO_PIE").is_some_and(|v| v == "1");
    if no_pie && os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
        println!("cargo:rustc-cfg=scope_host_no_pie");
    }
}
