//! Links the `scope-host` executable at a fixed address (non-PIE) on Linux with glibc.
//!
//! Why: a position-independent `scope-host` spends about a millisecond of every
//! command before `main` — the dynamic loader applies ~72 000 relative relocations
//! (vtables, static tables of the SDK, wasmtime and clap) and each page they touch is
//! copied on write. An agent runs one short process per notification, so that is
//! paid on every run (1.4 ms of host overhead in the moto bench, paired runs).
//!
//! The cost: the executable's own code and data load at a fixed address (the
//! heap, stack, shared libraries and guest memories stay randomised) — the
//! default of `go build` on linux/amd64, which most infrastructure CLIs use.
//! Operators who prefer a position-independent build set `SCOPE_HOST_PIE=1`
//! when building.
fn main() {
    println!("cargo:rerun-if-env-changed=SCOPE_HOST_PIE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" && std::env::var_os("SCOPE_HOST_PIE").is_none() {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
