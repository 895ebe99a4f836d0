//! The fuzz targets' bodies (fuzz/bodies, crate `scope-host-fuzz`) in the ordinary
//! test suite, with no cargo-fuzz and no instrumentation: every file of each
//! target's corpus (fuzz/corpus/<target>/) and regressions (fuzz/regressions/<target>/)
//! is replayed, then a few thousand deterministic mutations of them (bit flips,
//! insertions, deletions, truncations, splices of two files). A body panics on a
//! finding; this test reports which input did it and saves it under the test's
//! temporary directory, ready to be committed as a regression.
//!
//! The long, coverage-guided runs are `scripts/fuzz` (see fuzz/README.md).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Mutated inputs per target, on top of the corpus itself.
const MUTATIONS: usize = 5000;

/// Bytes and tokens the formats care about, inserted by the mutator.
const TOKENS: &[&[u8]] = &[
    b"\0",
    b"*",
    b"?",
    b"$",
    b"${",
    b"}",
    b"{",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\n",
    b"\n- ",
    b"- name: x\n",
    b"---\n",
    b"&a ",
    b"*a",
    b"<<: ",
    b"!!",
    b"~",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"18446744073709551616",
    b"\\u0000",
    b"\xff",
    b"\xc3\xa9",
    b"include: [values.yaml]\n",
    b"$SERVICE_PATH",
    b"arn:aws:lambda:",
    b"123456789012",
    b"[[inputs]]\n",
    b"action = \"a:b\"\n",
    b"recording",
    b"\"notification\"",
    b"scope-step-manifest",
    b"\0asm\x0d\0\x01\0",
    b"\0asm\x01\0\0\0",
];

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Rng {
        // FNV-1a of the target's name: each target its own, fixed sequence.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform enough in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut data = corpus[rng.below(corpus.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(8) {
            // Flip a bit.
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            // Overwrite a byte.
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            // Insert a token.
            2 | 3 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
            // Delete a range.
            4 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                data.drain(at..at + n);
            }
            // Truncate.
            5 => data.truncate(rng.below(len + 1)),
            // Duplicate a range.
            6 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                let copy = data[at..at + n].to_vec();
                let to = rng.below(len + 1);
                data.splice(to..to, copy);
            }
            // Splice: this input's head, another corpus file's tail.
            _ => {
                let other = &corpus[rng.below(corpus.len())];
                let head = rng.below(len + 1);
                let tail = rng.below(other.len() + 1);
                data.truncate(head);
                data.extend_from_slice(&other[tail..]);
            }
        }
    }
    data
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Every file under `dir`, sorted (none if it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn replay(target: &str) {
    let body = scope_host_fuzz::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target `{target}` in scope_host_fuzz::TARGETS"))
        .1;
    let started = Instant::now();
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for folder in ["corpus", "regressions"] {
        for path in files(&fuzz_dir().join(folder).join(target)) {
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            inputs.push((
                format!("fuzz/{folder}/{target}/{}", path.file_name().unwrap().to_string_lossy()),
                data,
            ));
        }
    }
    assert!(!inputs.is_empty(), "fuzz/corpus/{target}/ has no seed");
    let seeds: Vec<Vec<u8>> = inputs.iter().map(|(_, d)| d.clone()).collect();
    let mut rng = Rng::new(target);
    inputs.extend((0..MUTATIONS).map(|n| (format!("mutation {n} (seed `{target}`)"), mutate(&mut rng, &seeds))));

    let saved = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-corpus-failures").join(target);
    let mut failures = Vec::new();
    let mut open_met = Vec::new();
    for (name, data) in &inputs {
        scope_host_fuzz::tolerated();
        if catch_unwind(AssertUnwindSafe(|| body(data))).is_err() {
            std::fs::create_dir_all(&saved).unwrap();
            let file = saved.join(format!("input-{}", failures.len()));
            std::fs::write(&file, data).unwrap();
            failures.push(format!("{name}: saved as {}", file.display()));
        }
        let met = scope_host_fuzz::tolerated();
        // The regression input of an open finding is named after it and must still
        // reproduce it; once it does not, the finding is fixed.
        if let Some(id) = scope_host_fuzz::OPEN_FINDINGS
            .iter()
            .find(|id| name.starts_with(&format!("fuzz/regressions/{target}/{id}")))
        {
            if !met.contains(id) {
                failures.push(format!(
                    "{name} no longer reproduces open finding `{id}`: remove it from OPEN_FINDINGS in fuzz/bodies/src/lib.rs"
                ));
            }
        }
        open_met.extend(met);
    }
    open_met.sort_unstable();
    open_met.dedup();
    if !open_met.is_empty() {
        eprintln!("{target}: open findings met (not failures, see OPEN_FINDINGS): {open_met:?}");
    }
    assert!(
        failures.is_empty(),
        "fuzz target `{target}` panicked (messages above) on {} of {} inputs; commit each as fuzz/regressions/{target}/<name>:\n  {}",
        failures.len(),
        inputs.len(),
        failures.join("\n  ")
    );
    eprintln!("{target}: {} inputs in {:.1?}", inputs.len(), started.elapsed());
}

macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name));
            }
        )*

        #[test]
        fn every_target_is_replayed() {
            let here: Vec<&str> = vec![$(stringify!($name)),*];
            let all: Vec<&str> = scope_host_fuzz::TARGETS.iter().map(|(name, _)| *name).collect();
            assert_eq!(here, all, "add the new target to the list in tests/tests/fuzz_corpus.rs");
            for folder in ["corpus", "regressions"] {
                for dir in std::fs::read_dir(fuzz_dir().join(folder)).into_iter().flatten().flatten() {
                    let name = dir.file_name().to_string_lossy().into_owned();
                    assert!(all.contains(&name.as_str()), "fuzz/{folder}/{name} belongs to no target");
                }
            }
        }
    };
}

targets!(
    workflow,
    routing,
    providers,
    manifest,
    step_toml,
    scenario,
    cloud_fixture,
    grants,
    redact,
    policy_arn
);
