//! Where a restore into sled goes: the target data directory must be absent or
//! empty (a restore never writes over anything), and the new log is built in a
//! sibling directory (`.<name>.restoring`) that is renamed into place only when
//! complete, so a broken export, or a crash, leaves no half-built data directory.

use super::mirror;
use crate::store::error::Doing;
use crate::store::StoreError;
use std::path::{Path, PathBuf};

/// A restore never writes over anything: the target must be absent or an empty directory.
pub fn refuse_used(target: &Path) -> Result<(), StoreError> {
    let mut entries = match std::fs::read_dir(target) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).doing(|| format!("reading {}", target.display())),
    };
    let Some(first) = entries.next() else {
        return Ok(());
    };
    if target.join("db").exists() {
        // A running server holds it: say so (`Locked`), as every other subcommand does.
        mirror::lock_shared(target)?;
        return Err(StoreError::Refused(format!(
            "the data directory {} already holds an event log; restore builds a new one \
             (point dataDir at an empty or absent directory)",
            target.display()
        )));
    }
    let name = first.map(|e| e.file_name().to_string_lossy().into_owned());
    Err(StoreError::Refused(format!(
        "the data directory {} is not empty (it holds {}); restore builds a new one \
         (point dataDir at an empty or absent directory)",
        target.display(),
        name.unwrap_or_else(|_| "unreadable entries".into())
    )))
}

/// The sibling directory a restore fills; removed unless `complete` moved it into place.
pub struct Building {
    pub dir: PathBuf,
    done: bool,
}

impl Building {
    pub fn start(target: &Path) -> Result<Building, StoreError> {
        let parent = parent_of(target);
        std::fs::create_dir_all(&parent).doing(|| format!("creating {}", parent.display()))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                StoreError::Refused(format!("{} names no directory", target.display()))
            })?;
        let dir = parent.join(format!(".{name}.restoring"));
        if dir.exists() {
            eprintln!(
                "sharelog: removing {}, left behind by an interrupted restore",
                dir.display()
            );
            std::fs::remove_dir_all(&dir).doing(|| format!("removing {}", dir.display()))?;
        }
        std::fs::create_dir(&dir).doing(|| format!("creating {}", dir.display()))?;
        Ok(Building { dir, done: false })
    }

    /// Makes every file durable, then renames the directory into place (an empty
    /// target directory is replaced) and makes the rename durable.
    pub fn complete(mut self, target: &Path) -> Result<(), StoreError> {
        sync_tree(&self.dir)?;
        std::fs::rename(&self.dir, target).doing(|| format!("renaming to {}", target.display()))?;
        self.done = true;
        let parent = parent_of(target);
        std::fs::File::open(&parent)
            .and_then(|d| d.sync_all())
            .doing(|| format!("syncing {}", parent.display()))
    }
}

impl Drop for Building {
    fn drop(&mut self) {
        // sled's threads may still be closing files in it: try for a while.
        for _ in 0..100 {
            if self.done || std::fs::remove_dir_all(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

fn parent_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// fsyncs every file under `dir`, and the directories themselves.
fn sync_tree(dir: &Path) -> Result<(), StoreError> {
    for entry in std::fs::read_dir(dir).doing(|| format!("reading {}", dir.display()))? {
        let path = entry.doing(|| format!("reading {}", dir.display()))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .doing(|| format!("syncing {}", path.display()))?;
        }
    }
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .doing(|| format!("syncing {}", dir.display()))
}
