//! Files opened relative to a directory, never through a symlink: how hawser reads and
//! writes inside an output directory whose contents come from an untrusted repository.
//!
//! Every path below a [`Dir`] is walked one component at a time with `openat` and
//! `O_NOFOLLOW`, so a symlink anywhere on the way — a chain of them each pointing "inside",
//! a directory swapped for a link between a check and a use — is never followed: it is
//! reported as what it is. Files are opened `O_NONBLOCK`, so a FIFO planted where a file is
//! expected cannot make a read wait forever, and read only up to [`MAX_FILE`] bytes.

use std::io::{self, Read as _, Write as _};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags};

/// The most hawser reads of one file of an output directory. Generated files are far
/// smaller; a larger file cannot be one hawser wrote and is not read further.
pub const MAX_FILE: u64 = 64 * 1024 * 1024;

/// A directory opened once; everything below it is reached through its descriptor.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
}

/// What is at a path below a [`Dir`], looked at without following symlinks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Missing,
    File {
        contents: Vec<u8>,
        mode: u32,
    },
    /// A regular file above [`MAX_FILE`] bytes: its size only.
    TooLarge(u64),
    Dir,
    /// A symlink at the path or on the way to it.
    Symlink,
    /// A FIFO, socket or device.
    Special,
}

/// The kind of a directory entry, without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Special,
}

/// Ownership and permissions of a directory, to give a new one the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// What `lstat` says of an entry that tells a changed one from an unchanged one: any change
/// to a file's contents, mode or links moves its `ctime`, which no program can set back, and
/// a new or removed entry moves its directory's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub size: u64,
    /// Seconds and nanoseconds.
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl Stamp {
    fn of(st: &rustix::fs::Stat) -> Stamp {
        Stamp {
            dev: st.st_dev,
            ino: st.st_ino,
            mode: st.st_mode,
            size: st.st_size as u64,
            mtime: (st.st_mtime, st.st_mtime_nsec as i64),
            ctime: (st.st_ctime, st.st_ctime_nsec as i64),
        }
    }
}

const DIR_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC);

impl Dir {
    /// Opens the directory at `path`; a symlink as its last component is refused (ELOOP).
    /// The components above it are the caller's: the path the user gave.
    pub fn open(path: &Path) -> io::Result<Dir> {
        let fd = rustix::fs::open(path, DIR_FLAGS, Mode::empty())?;
        Ok(Dir { fd })
    }

    /// Opens the directory at `path`, following symlinks: for the place the user named on
    /// the command line, never for a path read from the repository.
    pub fn open_following(path: &Path) -> io::Result<Dir> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(Dir { fd: rustix::fs::open(path, flags, Mode::empty())? })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Opens the directory at the relative path `rel` (`/`-separated), following no symlink.
    pub fn open_dir(&self, rel: &str) -> io::Result<Dir> {
        let mut dir = Dir { fd: rustix::fs::openat(&self.fd, ".", DIR_FLAGS, Mode::empty())? };
        for seg in components(rel)? {
            dir = match rustix::fs::openat(&dir.fd, seg, DIR_FLAGS, Mode::empty()) {
                Ok(fd) => Dir { fd },
                // `O_DIRECTORY` reports a symlink as "not a directory": say what it is.
                Err(rustix::io::Errno::NOTDIR) if is_symlink(&dir.fd, seg) => return Err(rustix::io::Errno::LOOP.into()),
                Err(e) => return Err(e.into()),
            };
        }
        Ok(dir)
    }

    /// The parent directory of `rel` and `rel`'s last component.
    fn parent_of<'a>(&self, rel: &'a str) -> io::Result<(Dir, &'a str)> {
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        components(name)?;
        Ok((self.open_dir(parent)?, name))
    }

    /// What is at `rel`, a file read whole (up to [`MAX_FILE`]).
    pub fn read(&self, rel: &str) -> io::Result<Entry> {
        match self.parent_of(rel) {
            Ok((parent, name)) => parent.read_here(name),
            Err(e) => on_the_way(e),
        }
    }

    /// What is at `name`, an entry of this directory (one component).
    pub fn read_here(&self, name: &str) -> io::Result<Entry> {
        components(name)?;
        let parent = self;
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        let fd = match rustix::fs::openat(&parent.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(Entry::Missing),
            Err(rustix::io::Errno::LOOP) => return Ok(Entry::Symlink),
            Err(e) => return Err(e.into()),
        };
        let stat = rustix::fs::fstat(&fd)?;
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => {}
            FileType::Directory => return Ok(Entry::Dir),
            _ => return Ok(Entry::Special),
        }
        let size = stat.st_size as u64;
        if size > MAX_FILE {
            return Ok(Entry::TooLarge(size));
        }
        let mut contents = Vec::with_capacity(size as usize);
        std::fs::File::from(fd).take(MAX_FILE).read_to_end(&mut contents)?;
        Ok(Entry::File { contents, mode: stat.st_mode & 0o7777 })
    }

    /// The entries of the directory at `rel`, sorted by name, without `.` and `..`.
    pub fn list(&self, rel: &str) -> io::Result<Vec<(String, Kind)>> {
        let dir = self.open_dir(rel)?;
        let mut entries = Vec::new();
        let mut reader = rustix::fs::Dir::read_from(&dir.fd)?;
        while let Some(entry) = reader.read() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let name =
                String::from_utf8(name.to_vec()).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a name that is not UTF-8"))?;
            let file_type = match entry.file_type() {
                FileType::Unknown => {
                    FileType::from_raw_mode(rustix::fs::statat(&dir.fd, name.as_str(), AtFlags::SYMLINK_NOFOLLOW)?.st_mode)
                }
                t => t,
            };
            let kind = match file_type {
                FileType::RegularFile => Kind::File,
                FileType::Directory => Kind::Dir,
                FileType::Symlink => Kind::Symlink,
                _ => Kind::Special,
            };
            entries.push((name, kind));
        }
        entries.sort();
        Ok(entries)
    }

    /// The target of the symlink at `rel`.
    pub fn read_link(&self, rel: &str) -> io::Result<PathBuf> {
        let (parent, name) = self.parent_of(rel)?;
        let target = rustix::fs::readlinkat(&parent.fd, name, Vec::new())?;
        Ok(PathBuf::from(target.to_string_lossy().into_owned()))
    }

    /// The owner and permissions of this directory.
    pub fn owner(&self) -> io::Result<Owner> {
        let stat = rustix::fs::fstat(&self.fd)?;
        Ok(Owner { mode: stat.st_mode & 0o7777, uid: stat.st_uid, gid: stat.st_gid })
    }

    /// Gives this directory `owner`'s mode and, where it differs, its owner.
    pub fn set_owner(&self, owner: Owner) -> io::Result<()> {
        let now = rustix::fs::fstat(&self.fd)?;
        if now.st_uid != owner.uid || now.st_gid != owner.gid {
            rustix::fs::fchown(&self.fd, Some(rustix::fs::Uid::from_raw(owner.uid)), Some(rustix::fs::Gid::from_raw(owner.gid)))?;
        }
        rustix::fs::fchmod(&self.fd, Mode::from_raw_mode(owner.mode))?;
        Ok(())
    }

    /// Creates the directory `name` here (an error when anything is there already).
    pub fn create_dir(&self, name: &str, mode: u32) -> io::Result<Dir> {
        components(name)?;
        rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(mode))?;
        Ok(Dir { fd: rustix::fs::openat(&self.fd, name, DIR_FLAGS, Mode::empty())? })
    }

    /// Creates the file `name` here with these contents and mode; never opens anything that
    /// exists already (`O_EXCL`), so a planted file or symlink is an error, not a target.
    pub fn write_new(&self, name: &str, contents: &[u8], mode: u32) -> io::Result<()> {
        self.create(name, contents, mode, true).map(drop)
    }

    /// [`Dir::write_new`], giving the file's stamp once written and closed (some file
    /// systems set the mtime when the data is flushed, at the latest on close).
    /// The mode is set as [`Dir::write_new`] sets it, but only when the umask narrowed it:
    /// the status taken for the stamp says so, and the writer of thousands of files saves a
    /// call each.
    pub fn write_new_stamped(&self, name: &str, contents: &[u8], mode: u32) -> io::Result<Stamp> {
        drop(self.create(name, contents, mode, false)?);
        let stat = rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)?;
        if stat.st_mode & 0o7777 == mode {
            return Ok(Stamp::of(&stat));
        }
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        rustix::fs::fchmod(rustix::fs::openat(&self.fd, name, flags, Mode::empty())?, Mode::from_raw_mode(mode))?;
        Ok(Stamp::of(&rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)?))
    }

    /// Creates `name` with `contents`, and with `mode` exactly when `chmod` (the umask may
    /// narrow the mode it is created with, never widen it).
    fn create(&self, name: &str, contents: &[u8], mode: u32, chmod: bool) -> io::Result<std::fs::File> {
        components(name)?;
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(mode))?;
        if chmod {
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))?;
        }
        let mut file = std::fs::File::from(fd);
        file.write_all(contents)?;
        Ok(file)
    }

    /// Hard-links `from`'s entry `name` here under the same name: the same inode, untouched.
    /// A symlink is linked as a symlink, never followed.
    pub fn link_from(&self, from: &Dir, name: &str) -> io::Result<()> {
        components(name)?;
        rustix::fs::linkat(&from.fd, name, &self.fd, name, AtFlags::empty())?;
        Ok(())
    }

    /// Renames `from` here to `to` in `target`; with `exchange`, atomically swaps the two.
    pub fn rename(&self, from: &str, target: &Dir, to: &str, exchange: bool) -> io::Result<()> {
        let flags = if exchange { RenameFlags::EXCHANGE } else { RenameFlags::NOREPLACE };
        rustix::fs::renameat_with(&self.fd, from, &target.fd, to, flags)?;
        Ok(())
    }

    /// Renames `from` over `to`, both here, replacing what `to` is.
    pub fn replace(&self, from: &str, to: &str) -> io::Result<()> {
        components(from)?;
        components(to)?;
        rustix::fs::renameat(&self.fd, from, &self.fd, to)?;
        Ok(())
    }

    /// Gives the file `name` here this owner, without following a symlink.
    pub fn chown_file(&self, name: &str, uid: u32, gid: u32) -> io::Result<()> {
        let stat = rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)?;
        if stat.st_uid != uid || stat.st_gid != gid {
            rustix::fs::chownat(
                &self.fd,
                name,
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )?;
        }
        Ok(())
    }

    /// The inode of what is at `name` here (a symlink's own), `None` when nothing is.
    pub fn inode(&self, name: &str) -> io::Result<Option<u64>> {
        components(name)?;
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(stat.st_ino)),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The stamp of this directory.
    pub fn stamp(&self) -> io::Result<Stamp> {
        Ok(Stamp::of(&rustix::fs::fstat(&self.fd)?))
    }

    /// The stamp of `name` here, a symlink's own; `None` when nothing is there.
    pub fn stamp_here(&self, name: &str) -> io::Result<Option<Stamp>> {
        components(name)?;
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(Stamp::of(&st))),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether something (anything, a dangling symlink included) is at `name` here.
    pub fn exists(&self, name: &str) -> io::Result<bool> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => Ok(true),
            Err(rustix::io::Errno::NOENT) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The device of this directory, to tell a mount point from its parent.
    pub fn device(&self) -> io::Result<u64> {
        Ok(rustix::fs::fstat(&self.fd)?.st_dev)
    }

    /// Removes `name` here and, when it is a directory, everything below it, following no
    /// symlink (a symlink is removed, not its target).
    pub fn remove_all(&self, name: &str) -> io::Result<()> {
        components(name)?;
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::ISDIR) | Err(rustix::io::Errno::PERM) => {}
            Err(rustix::io::Errno::NOENT) => return Ok(()),
            // A read-only file system refuses the unlink before it looks the name up: a
            // name that is not there is still nothing to remove.
            Err(e @ rustix::io::Errno::ROFS) => {
                return match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                    Err(rustix::io::Errno::NOENT) => Ok(()),
                    _ => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        }
        let dir = self.open_dir(name)?;
        for (entry, _) in dir.list("")? {
            dir.remove_all(&entry)?;
        }
        rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR)?;
        Ok(())
    }
}

fn is_symlink(dir: &OwnedFd, name: &str) -> bool {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|s| FileType::from_raw_mode(s.st_mode) == FileType::Symlink)
}

/// A symlink or non-directory on the way to a path: the path is not a file hawser can read.
fn on_the_way(e: io::Error) -> io::Result<Entry> {
    match rustix::io::Errno::from_io_error(&e) {
        Some(rustix::io::Errno::NOENT) => Ok(Entry::Missing),
        Some(rustix::io::Errno::LOOP) => Ok(Entry::Symlink),
        Some(rustix::io::Errno::NOTDIR) => Ok(Entry::Special),
        _ => Err(e),
    }
}

/// The components of a relative path: plain names only.
fn components(rel: &str) -> io::Result<Vec<&str>> {
    let parts: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
    if parts.iter().any(|s| *s == "." || *s == ".." || s.contains('\0')) || rel.starts_with('/') {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("`{rel}` is not a plain relative path")));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_on_the_way_are_not_followed() {
        let root = std::env::temp_dir().join(format!("hawser-confined-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("out/a")).unwrap();
        std::fs::write(root.join("secret"), "s").unwrap();
        std::os::unix::fs::symlink("../secret", root.join("out/link")).unwrap();
        std::os::unix::fs::symlink("..", root.join("out/a/up")).unwrap();
        let dir = Dir::open(&root.join("out")).unwrap();
        assert_eq!(dir.read("link").unwrap(), Entry::Symlink);
        assert_eq!(dir.read("a/up/secret").unwrap(), Entry::Symlink);
        assert_eq!(dir.read("a/none").unwrap(), Entry::Missing);
        assert!(dir.read("../secret").is_err());
        assert_eq!(dir.read("a").unwrap(), Entry::Dir);
        let _ = std::fs::remove_dir_all(&root);
    }
}
