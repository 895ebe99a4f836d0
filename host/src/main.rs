//! The `scope-host` command. Argument parsing and presentation live in `cli`.

fn main() -> std::process::ExitCode {
    scope_host::cli::main()
}
