//! Writing a project: into a folder that does not exist or is empty, executable
//! bits where the project needs them, and nothing left behind when it fails.

use super::{Project, ProjectFile, ScaffoldError};
use std::path::Path;

/// Writes `project` into `dir`, which must not exist or be empty (its parents are
/// created). On failure nothing of the project is left behind.
pub fn create(project: &Project, dir: &Path) -> Result<(), ScaffoldError> {
    let existed = match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(ScaffoldError::NotEmpty { dir: dir.to_path_buf() });
            }
            true
        }
        Err(_) if dir.exists() && !dir.is_dir() => return Err(ScaffoldError::NotAFolder { path: dir.to_path_buf() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io("reading", dir)(e)),
    };
    if !existed {
        std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    }
    let written = project.files().iter().try_for_each(|file| write_file(dir, file));
    if written.is_err() {
        // The folder was empty or new: everything in it is ours.
        if existed {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let _ = std::fs::remove_dir_all(entry.path()).or_else(|_| std::fs::remove_file(entry.path()));
            }
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    written
}

fn write_file(dir: &Path, file: &ProjectFile) -> Result<(), ScaffoldError> {
    let path = dir.join(&file.path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
    }
    std::fs::write(&path, &file.contents).map_err(io("writing", &path))?;
    #[cfg(unix)]
    if file.executable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(io("making executable", &path))?;
    }
    Ok(())
}

/// Maps an I/O error of `doing` on `path` to the error that names both.
fn io(doing: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ScaffoldError {
    let path = path.to_path_buf();
    move |source| ScaffoldError::Io { doing, path, source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Kind;
    use crate::scaffold::Language;

    #[test]
    fn refuses_a_folder_that_is_not_empty_and_leaves_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let project = Project::new("my-step", Language::Python, Kind::Step).unwrap();
        let err = create(&project, dir.path()).unwrap_err();
        assert!(err.to_string().contains("already exists and is not empty"), "{err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(left, ["notes.txt"]);
    }

    #[test]
    fn fills_an_empty_folder_and_creates_missing_parents() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new("my-step", Language::Js, Kind::Check).unwrap();
        create(&project, dir.path()).unwrap();
        assert!(dir.path().join("app.js").is_file());
        let nested = dir.path().join("a/b/my-step");
        create(&project, &nested).unwrap();
        assert!(nested.join("scope-step/wit/worlds.wit").is_file());
        assert!(nested.join("scope-step/sdk/js/scope-step-build.mjs").is_file());
    }
}
