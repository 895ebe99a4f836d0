#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| scope_host_fuzz::manifest(data));
