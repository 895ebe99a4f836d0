//! A new Rust project's Cargo.lock, made from the Rust example's: the same
//! dependency versions (the ones the repository's tests build), with the example's
//! root package renamed to the project. Without a lock, cargo would resolve the
//! newest compatible versions on the author's machine, which nobody here tested.
//!
//! The lock is read as text: `[[package]]` blocks whose first line is the name,
//! sorted by name, as cargo writes them.

/// The `[[package]]` separator of a lock file.
const PACKAGE: &str = "\n[[package]]\n";

/// The package blocks of `lock` and the header before them.
fn split(lock: &str) -> (&str, Vec<&str>) {
    let mut parts = lock.split(PACKAGE);
    let header = parts.next().unwrap_or_default();
    (header, parts.collect())
}

fn name_of(block: &str) -> Option<&str> {
    block.lines().next()?.strip_prefix("name = \"")?.strip_suffix('"')
}

/// Every package name in `lock`.
pub fn names(lock: &str) -> Vec<&str> {
    split(lock).1.into_iter().filter_map(name_of).collect()
}

/// The version `lock` holds of `package` (the first, when it holds several).
pub fn version_of<'a>(lock: &'a str, package: &str) -> Option<&'a str> {
    let block = split(lock).1.into_iter().find(|b| name_of(b) == Some(package))?;
    block.lines().find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"'))
}

/// `lock` with its root package `from` renamed to `to`, blocks re-sorted by name.
/// Nothing depends on a root package, so its own block is the only place its name is.
pub fn rename_root(lock: &str, from: &str, to: &str) -> String {
    let (header, blocks) = split(lock);
    let mut blocks: Vec<String> = blocks
        .into_iter()
        .map(|b| match name_of(b) {
            Some(name) if name == from => b.replacen(&format!("name = \"{from}\""), &format!("name = \"{to}\""), 1),
            _ => b.to_owned(),
        })
        .collect();
    // Stable: the versions of one package keep cargo's order.
    blocks.sort_by(|a, b| name_of(a).cmp(&name_of(b)));
    let mut out = header.to_owned();
    for block in blocks {
        out.push_str(PACKAGE);
        out.push_str(&block);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "# generated\nversion = 4\n\n[[package]]\nname = \"anyhow\"\nversion = \"1.0.0\"\n\n\
[[package]]\nname = \"image-digest\"\nversion = \"0.1.0\"\ndependencies = [\n \"scope-step\",\n]\n\n\
[[package]]\nname = \"scope-step\"\nversion = \"0.1.0\"\n\n\
[[package]]\nname = \"wit-bindgen\"\nversion = \"0.61.1\"\n";

    #[test]
    fn renames_the_root_and_keeps_the_blocks_sorted() {
        let lock = rename_root(LOCK, "image-digest", "zeta-step");
        assert_eq!(names(&lock), ["anyhow", "scope-step", "wit-bindgen", "zeta-step"]);
        assert!(
            lock.starts_with("# generated\nversion = 4\n\n[[package]]\nname = \"anyhow\""),
            "{lock}"
        );
        assert!(
            lock.contains("name = \"zeta-step\"\nversion = \"0.1.0\"\ndependencies = [\n \"scope-step\",\n]\n"),
            "{lock}"
        );
        assert!(!lock.contains("image-digest"));
        let lock = rename_root(LOCK, "image-digest", "aa");
        assert_eq!(names(&lock), ["aa", "anyhow", "scope-step", "wit-bindgen"]);
    }

    #[test]
    fn reads_versions() {
        assert_eq!(version_of(LOCK, "wit-bindgen"), Some("0.61.1"));
        assert_eq!(version_of(LOCK, "serde"), None);
    }

    #[test]
    fn the_embedded_lock_has_the_example_as_its_root() {
        let lock = super::super::sdk::RUST_EXAMPLE_LOCK;
        assert!(names(lock).contains(&super::super::sdk::RUST_EXAMPLE_PACKAGE));
        assert!(names(lock).contains(&"scope-step"));
    }
}
