//! The on-disk compile cache, made so that it is not a way to make the host run
//! code. An entry is a wasmtime-serialized component: native code that the host
//! maps executable and runs with every credential it holds, trusted completely by
//! wasmtime once handed over. So an entry is used only when
//!
//! - the directory is private: owned by this user and writable by nobody else. A
//!   new one is created 0700; one that anybody else could write to is not used at
//!   all, and [`DiskCache::open`] says why and how to fix it;
//! - its MAC verifies: BLAKE3 in keyed mode (a MAC by design, and several times
//!   faster than HMAC-SHA256 over the megabytes of native code a run loads) under
//!   a per-user 32-byte key kept in the directory (`key`, created 0600, refused when anybody else could read it or it
//!   is not this user's), over the entry's inputs (the component's digest and the
//!   engine's compatibility hash) and its bytes. Whoever cannot read the key cannot
//!   make an entry the host accepts, nor pass one made for another component or
//!   another engine off as this one's.
//!
//! An entry is read whole into memory and verified there before wasmtime sees it
//! (a mapped file that another program truncates would crash the host), so a
//! short, damaged or forged entry is a miss: it is deleted and compiled again.
//! Entries are written through a private temporary file, fsynced, renamed into
//! place (the directory fsynced too), and evicted least recently used first (by
//! modification time, renewed on every hit) once they add up to more than a cap.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The first bytes of every entry.
const MAGIC: [u8; 8] = *b"scopecc\0";
/// The entry format (and what its MAC covers); bumped when either changes. An entry
/// of another version is a miss, compiled again. (1: HMAC-SHA256; 2: keyed BLAKE3.)
const VERSION: u32 = 2;
/// Magic, version, 4 reserved bytes (zero), the payload's length, the MAC.
const HEADER_LEN: usize = 8 + 4 + 4 + 8 + 32;
/// Where the key is kept, in the cache directory.
const KEY_FILE: &str = "key";
const KEY_LEN: usize = 32;
/// The suffix of entries' names.
const ENTRY_SUFFIX: &str = ".cwasm";
/// A temporary file this old belongs to a write that died: eviction removes it.
const STALE_TMP: Duration = Duration::from_secs(3600);

/// Which entry: a component's digest and the engine's compatibility hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryKey {
    digest_hex: String,
    compat: u64,
}

impl EntryKey {
    /// The entry of the component whose digest is `sha256:<64 hex digits>`, for an
    /// engine whose compatibility hash is `compat`; `None` for any other digest.
    pub fn new(digest: &str, compat: u64) -> Option<EntryKey> {
        let hex = digest.strip_prefix("sha256:")?;
        (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then(|| EntryKey {
            digest_hex: hex.to_owned(),
            compat,
        })
    }

    /// The entry's file name.
    pub fn file_name(&self) -> String {
        format!("{}-{:016x}{ENTRY_SUFFIX}", self.digest_hex, self.compat)
    }
}

/// Why the cache is not used.
#[derive(Debug)]
pub struct Bypass {
    /// What is wrong and how to fix it, when it is something to tell the user
    /// (somebody else could write the directory, or read or replace the key); `None`
    /// when the directory simply cannot be made or written (a read-only cache only
    /// costs speed).
    pub warning: Option<String>,
}

/// An open compile cache: a private directory and its key.
pub struct DiskCache {
    dir: PathBuf,
    key: [u8; KEY_LEN],
    max_bytes: u64,
}

/// The key is wiped with the cache: whoever reads the process's freed memory later
/// must not be able to forge entries.
impl Drop for DiskCache {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.key.zeroize();
    }
}

impl std::fmt::Debug for DiskCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("DiskCache")
            .field("dir", &self.dir)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl DiskCache {
    /// Opens (creating it 0700 when missing) the cache in `dir`, whose entries may
    /// add up to `max_bytes`, with its key (creating it when missing).
    pub fn open(dir: &Path, max_bytes: u64) -> Result<DiskCache, Bypass> {
        let quiet = || Bypass { warning: None };
        let shown = dir.display();
        // `mode` applies to every directory this creates; one that exists is left
        // as it is, and checked below.
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|_| quiet())?;
        let meta = fs::metadata(dir).map_err(|_| quiet())?;
        let me = effective_uid();
        if !meta.is_dir() {
            return Err(quiet());
        }
        if meta.uid() != me {
            return Err(Bypass {
                warning: Some(format!(
                    "not using the compile cache {shown}: it belongs to user {}, not to this user ({me}), who could \
                     put native code in it for scope-host to run. Use a directory of your own (--cache-dir DIR or \
                     $SCOPE_HOST_CACHE), or --no-cache",
                    meta.uid()
                )),
            });
        }
        if meta.mode() & 0o022 != 0 {
            return Err(Bypass {
                warning: Some(format!(
                    "not using the compile cache {shown}: other users can write to it (mode {:o}) and so put native \
                     code in it for scope-host to run. Make it private with `chmod 700 {shown}`, or use another \
                     directory (--cache-dir DIR or $SCOPE_HOST_CACHE)",
                    meta.mode() & 0o7777
                )),
            });
        }
        let key = load_or_create_key(dir)?;
        Ok(DiskCache {
            dir: dir.to_owned(),
            key,
            max_bytes,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry's payload, when it is there, whole, and its MAC verifies. An entry
    /// that is there but is not all of that is deleted (a miss all the same). A hit
    /// renews the entry's modification time, which eviction goes by.
    pub fn read(&self, key: &EntryKey) -> Option<Vec<u8>> {
        let path = self.dir.join(key.file_name());
        let mut file = match open_no_follow(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(_) => {
                // A symbolic link, say: nothing this host wrote.
                let _ = fs::remove_file(&path);
                return None;
            }
        };
        match self.read_verified(&mut file, key) {
            Some(payload) => {
                // Best effort: without it the entry is only evicted sooner.
                let _ = file.set_modified(SystemTime::now());
                Some(payload)
            }
            None => {
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    fn read_verified(&self, file: &mut File, key: &EntryKey) -> Option<Vec<u8>> {
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() < HEADER_LEN as u64 {
            return None;
        }
        let mut header = [0u8; HEADER_LEN];
        file.read_exact(&mut header).ok()?;
        let (magic, rest) = header.split_at(8);
        let (version, rest) = rest.split_at(4);
        let (reserved, rest) = rest.split_at(4);
        let (len, tag) = rest.split_at(8);
        if magic != MAGIC || version != VERSION.to_le_bytes() || reserved != [0; 4] {
            return None;
        }
        let len = u64::from_le_bytes(len.try_into().ok()?);
        // No entry larger than the whole cache survives its own write.
        if len > self.max_bytes || meta.len() != HEADER_LEN as u64 + len {
            return None;
        }
        let mut payload = Vec::with_capacity(usize::try_from(len).ok()?);
        file.take(len).read_to_end(&mut payload).ok()?;
        // Short when the file was truncated since `metadata`: a miss.
        if payload.len() as u64 != len {
            return None;
        }
        // Constant time (blake3::Hash's equality): how much of a forged MAC matched
        // is not observable.
        let tag: [u8; 32] = tag.try_into().ok()?;
        (self.mac(key, &payload) == blake3::Hash::from_bytes(tag)).then_some(())?;
        Some(payload)
    }

    /// Deletes the entry (one that verified but wasmtime would not load).
    pub fn remove(&self, key: &EntryKey) {
        let _ = fs::remove_file(self.dir.join(key.file_name()));
    }

    /// Stores `payload` as the entry, then evicts the least recently used entries
    /// while they add up to more than the cap.
    /// An entry larger than the whole cache is not written.
    pub fn write(&self, key: &EntryKey, payload: &[u8]) -> io::Result<()> {
        if (HEADER_LEN + payload.len()) as u64 > self.max_bytes {
            return Ok(());
        }
        let path = self.dir.join(key.file_name());
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(&MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&[0; 4]);
        header.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        header.extend_from_slice(self.mac(key, payload).as_bytes());
        debug_assert_eq!(header.len(), HEADER_LEN);
        let tmp = unique_tmp(&self.dir, &key.file_name());
        let written = (|| {
            let mut file = create_private(&tmp)?;
            file.write_all(&header)?;
            file.write_all(payload)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
            sync_dir(&self.dir)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        self.evict();
        Ok(())
    }

    /// Deletes entries, least recently used (oldest modification time) first, until
    /// those left add up to no more than the cap; and temporary files of writes
    /// that died.
    fn evict(&self) {
        let Ok(listing) = fs::read_dir(&self.dir) else { return };
        let now = SystemTime::now();
        let mut entries = Vec::new();
        let mut total = 0u64;
        for item in listing.flatten() {
            // Not followed: a symbolic link is nothing of ours.
            let Ok(meta) = item.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let name = item.file_name();
            let name = name.to_string_lossy();
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if name.starts_with('.') {
                if name.ends_with(".tmp") && now.duration_since(modified).is_ok_and(|age| age > STALE_TMP) {
                    let _ = fs::remove_file(item.path());
                }
            } else if name.ends_with(ENTRY_SUFFIX) {
                total += meta.len();
                entries.push((modified, item.path(), meta.len()));
            }
        }
        if total <= self.max_bytes {
            return;
        }
        entries.sort();
        for (_, path, len) in entries {
            if total <= self.max_bytes {
                break;
            }
            match fs::remove_file(&path) {
                Ok(()) => total -= len,
                // Another process evicted it first.
                Err(e) if e.kind() == io::ErrorKind::NotFound => total -= len,
                Err(_) => {}
            }
        }
    }

    /// The MAC of an entry: its format version, its inputs and its bytes.
    fn mac(&self, key: &EntryKey, payload: &[u8]) -> blake3::Hash {
        let mut mac = blake3::Hasher::new_keyed(&self.key);
        mac.update(b"scope-host compile cache\0");
        mac.update(&VERSION.to_le_bytes());
        mac.update(key.digest_hex.as_bytes());
        mac.update(&key.compat.to_le_bytes());
        mac.update(&(payload.len() as u64).to_le_bytes());
        mac.update(payload);
        mac.finalize()
    }
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Opens a file for reading without following a symbolic link, nor waiting on a
/// FIFO someone put there.
fn open_no_follow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Creates a new file only this user can read and write.
fn create_private(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// A name in `dir` for a temporary file that no other write (thread or process)
/// uses.
fn unique_tmp(dir: &Path, name: &str) -> PathBuf {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Makes a rename or a new name in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

enum KeyError {
    Missing,
    /// Something is wrong with it that the user should look at.
    Unusable(String),
    /// It cannot be read (a permission, an I/O error).
    Unreadable,
}

/// The cache's key: read, or made when missing.
fn load_or_create_key(dir: &Path) -> Result<[u8; KEY_LEN], Bypass> {
    let path = dir.join(KEY_FILE);
    // Twice: when another process makes the key first, this one reads theirs.
    for _ in 0..2 {
        match read_key(&path) {
            Ok(key) => return Ok(key),
            Err(KeyError::Missing) => match create_key(dir, &path) {
                Ok(key) => return Ok(key),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(_) => break,
            },
            Err(KeyError::Unusable(why)) => {
                return Err(Bypass {
                    warning: Some(format!(
                        "not using the compile cache {}: its key {} {why}, so its entries cannot be trusted. Delete \
                         the key (`rm {}`): the cache then starts afresh with a new one",
                        dir.display(),
                        path.display(),
                        path.display()
                    )),
                })
            }
            Err(KeyError::Unreadable) => break,
        }
    }
    Err(Bypass { warning: None })
}

fn read_key(path: &Path) -> Result<[u8; KEY_LEN], KeyError> {
    let mut file = match open_no_follow(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(KeyError::Missing),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(KeyError::Unusable("is a symbolic link".into())),
        Err(_) => return Err(KeyError::Unreadable),
    };
    let meta = file.metadata().map_err(|_| KeyError::Unreadable)?;
    let me = effective_uid();
    if !meta.is_file() {
        return Err(KeyError::Unusable("is not a regular file".into()));
    }
    if meta.uid() != me {
        return Err(KeyError::Unusable(format!(
            "belongs to user {}, not to this user ({me})",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(KeyError::Unusable(format!(
            "can be read or written by other users (mode {:o})",
            meta.mode() & 0o7777
        )));
    }
    if meta.len() != KEY_LEN as u64 {
        return Err(KeyError::Unusable(format!("is not {KEY_LEN} bytes long")));
    }
    let mut key = [0u8; KEY_LEN];
    file.read_exact(&mut key).map_err(|_| KeyError::Unreadable)?;
    Ok(key)
}

/// Makes a new random key, whole or not at all: written to a private temporary
/// file, then linked to `path`, which fails when `path` exists (another process
/// made its key first).
fn create_key(dir: &Path, path: &Path) -> io::Result<[u8; KEY_LEN]> {
    let mut key = [0u8; KEY_LEN];
    getrandom::getrandom(&mut key).map_err(|e| io::Error::other(e.to_string()))?;
    let tmp = unique_tmp(dir, KEY_FILE);
    let written = (|| {
        let mut file = create_private(&tmp)?;
        file.write_all(&key)?;
        file.sync_all()
    })();
    let linked = written.and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
        // A file system without hard links: create the key in place (exclusively).
        Err(_) => {
            let mut file = create_private(path)?;
            file.write_all(&key)?;
            file.sync_all()?;
        }
    }
    sync_dir(dir)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const DIGEST: &str = "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn a_new_cache_dir_is_private_and_so_is_its_key() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a").join("cache");
        let cache = DiskCache::open(&dir, 1 << 20).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700, "every directory it creates");
        assert_eq!(mode(&dir.join(KEY_FILE)), 0o600);
        assert_eq!(fs::metadata(dir.join(KEY_FILE)).unwrap().len(), KEY_LEN as u64);
        // The same key next time.
        let again = DiskCache::open(&dir, 1 << 20).unwrap();
        assert_eq!(cache.key, again.key);
        assert_ne!(cache.key, [0; KEY_LEN]);
        // Entries are private too, and nothing temporary is left.
        let key = EntryKey::new(DIGEST, 7).unwrap();
        cache.write(&key, b"payload").unwrap();
        assert_eq!(mode(&dir.join(key.file_name())), 0o600);
        let mut names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, [key.file_name().into(), std::ffi::OsString::from(KEY_FILE)]);
        assert_eq!(again.read(&key).as_deref(), Some(&b"payload"[..]));
    }

    #[test]
    fn a_dir_others_can_write_is_not_used() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cache");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let warning = DiskCache::open(&dir, 1 << 20).unwrap_err().warning.expect("a warning");
        assert!(warning.contains(&format!("chmod 700 {}", dir.display())), "{warning}");
        assert!(warning.contains("--cache-dir"), "{warning}");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "nothing is written into it");
        assert_eq!(mode(&dir), 0o777, "nor is it changed");
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cache");
        DiskCache::open(&dir, 1 << 20).unwrap();
        fs::set_permissions(dir.join(KEY_FILE), fs::Permissions::from_mode(0o644)).unwrap();
        let warning = DiskCache::open(&dir, 1 << 20).unwrap_err().warning.expect("a warning");
        assert!(warning.contains("mode 644") && warning.contains("rm "), "{warning}");
        // A key of the wrong length, or a link to one, is not used either.
        fs::remove_file(dir.join(KEY_FILE)).unwrap();
        create_private(&dir.join(KEY_FILE)).unwrap().write_all(b"short").unwrap();
        assert!(DiskCache::open(&dir, 1 << 20).unwrap_err().warning.is_some());
        fs::remove_file(dir.join(KEY_FILE)).unwrap();
        let elsewhere = root.path().join("elsewhere");
        create_private(&elsewhere).unwrap().write_all(&[1; KEY_LEN]).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.join(KEY_FILE)).unwrap();
        let warning = DiskCache::open(&dir, 1 << 20).unwrap_err().warning.expect("a warning");
        assert!(warning.contains("symbolic link"), "{warning}");
    }

    #[test]
    fn an_entry_is_read_only_when_its_mac_verifies() {
        let root = tempfile::tempdir().unwrap();
        let cache = DiskCache::open(root.path(), 1 << 20).unwrap();
        let key = EntryKey::new(DIGEST, 7).unwrap();
        let path = root.path().join(key.file_name());
        let payload = vec![0x5a; 1000];

        // A flipped payload byte.
        cache.write(&key, &payload).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        bytes[HEADER_LEN + 500] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.read(&key), None);
        assert!(!path.exists(), "a forged entry is deleted");

        // Written under another key (another user's cache, say).
        let other_root = tempfile::tempdir().unwrap();
        let other = DiskCache::open(other_root.path(), 1 << 20).unwrap();
        other.write(&key, &payload).unwrap();
        fs::copy(other_root.path().join(key.file_name()), &path).unwrap();
        assert_eq!(cache.read(&key), None);
        assert!(!path.exists());

        // Made for another component or engine and renamed.
        for wrong in [
            EntryKey::new(DIGEST, 8).unwrap(),
            EntryKey::new(&DIGEST.replace("00", "01"), 7).unwrap(),
        ] {
            cache.write(&wrong, &payload).unwrap();
            fs::rename(root.path().join(wrong.file_name()), &path).unwrap();
            assert_eq!(cache.read(&key), None);
        }

        // Truncated to half, or to less than a header: a miss.
        cache.write(&key, &payload).unwrap();
        let whole = fs::read(&path).unwrap();
        for len in [whole.len() / 2, 10, 0] {
            fs::write(&path, &whole[..len]).unwrap();
            assert_eq!(cache.read(&key), None, "cut to {len} bytes");
        }
        // Longer than its header says.
        let mut longer = whole.clone();
        longer.push(0);
        fs::write(&path, &longer).unwrap();
        assert_eq!(cache.read(&key), None);

        // And the real thing.
        fs::write(&path, &whole).unwrap();
        assert_eq!(cache.read(&key), Some(payload));
    }

    #[test]
    fn eviction_keeps_the_total_under_the_cap_oldest_first() {
        let root = tempfile::tempdir().unwrap();
        // Room for three entries of 1000 bytes and their headers.
        let cache = DiskCache::open(root.path(), 3 * (1000 + HEADER_LEN as u64)).unwrap();
        let keys: Vec<EntryKey> = (0..5).map(|i| EntryKey::new(DIGEST, i).unwrap()).collect();
        let base = SystemTime::now() - Duration::from_secs(1000);
        let age = |key: &EntryKey, secs: u64| {
            let file = File::options().write(true).open(root.path().join(key.file_name())).unwrap();
            file.set_modified(base + Duration::from_secs(secs)).unwrap();
        };
        for (i, key) in keys.iter().take(3).enumerate() {
            cache.write(key, &[i as u8; 1000]).unwrap();
            age(key, i as u64 * 10);
        }
        // Entry 0 is used: it becomes the most recent.
        assert!(cache.read(&keys[0]).is_some());
        // A stale temporary file of a write that died goes too.
        let stale = root.path().join(".dead.cwasm.1.0.tmp");
        create_private(&stale).unwrap();
        File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(SystemTime::now() - 2 * STALE_TMP)
            .unwrap();

        cache.write(&keys[3], &[3; 1000]).unwrap();
        let present = |key: &EntryKey| root.path().join(key.file_name()).exists();
        assert!(!present(&keys[1]), "the least recently used goes first");
        assert!(present(&keys[0]) && present(&keys[2]) && present(&keys[3]));
        assert!(!stale.exists());

        // Something bigger than the whole cache is not kept at all (nor does it
        // push the others out).
        cache.write(&keys[4], &[9; 4000]).unwrap();
        assert!(!present(&keys[4]));
        assert!(present(&keys[0]) && present(&keys[2]) && present(&keys[3]));
        let total: u64 = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().ends_with(ENTRY_SUFFIX))
            .map(|e| e.metadata().unwrap().len())
            .sum();
        assert!(total <= 3 * (1000 + HEADER_LEN as u64), "{total}");
        assert!(root.path().join(KEY_FILE).exists(), "the key is never evicted");
    }

    #[test]
    fn only_sha256_digests_name_entries() {
        assert!(EntryKey::new(DIGEST, 1).is_some());
        assert!(EntryKey::new("sha256:../../etc", 1).is_none());
        assert!(EntryKey::new(&DIGEST.to_uppercase(), 1).is_none());
        assert!(EntryKey::new(&DIGEST[..70], 1).is_none());
    }
}
