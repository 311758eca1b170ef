//! The facade's `Metadata`, `FileType`, `ReadDir` and `DirEntry`: the parts
//! of `std::fs`'s types persistence code uses, filled from `std::fs` outside
//! a scope and from the current [`crate::fs::Fs`] inside one.

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;

/// Whether a name is a file or a directory (`std::fs::FileType`'s shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileType {
    is_dir: bool,
    is_symlink: bool,
}

impl FileType {
    /// The kind of an [`Fs`](crate::fs::Fs) entry, which has no symbolic
    /// links.
    fn of_fs(is_dir: bool) -> Self {
        Self {
            is_dir,
            is_symlink: false,
        }
    }

    /// A directory.
    pub fn is_dir(&self) -> bool {
        self.is_dir
    }

    /// A regular file (neither a directory nor a symbolic link).
    pub fn is_file(&self) -> bool {
        !self.is_dir && !self.is_symlink
    }

    /// A symbolic link (only ever true outside a scope, from `std::fs`: the
    /// `Fs` trait has no symbolic links).
    pub fn is_symlink(&self) -> bool {
        self.is_symlink
    }
}

impl From<std::fs::FileType> for FileType {
    fn from(t: std::fs::FileType) -> Self {
        Self {
            is_dir: t.is_dir(),
            is_symlink: t.is_symlink(),
        }
    }
}

/// Length and kind of a name (`std::fs::Metadata`'s shape, without
/// timestamps or permissions: the `Fs` trait keeps neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Metadata {
    len_bytes: u64,
    file_type: FileType,
}

impl Metadata {
    /// Length in bytes (what `std` reports for a directory outside a scope;
    /// 0 inside one).
    #[allow(clippy::len_without_is_empty)] // std's shape
    pub fn len(&self) -> u64 {
        self.len_bytes
    }

    /// A directory.
    pub fn is_dir(&self) -> bool {
        self.file_type.is_dir()
    }

    /// A regular file.
    pub fn is_file(&self) -> bool {
        self.file_type.is_file()
    }

    /// A symbolic link (see [`FileType::is_symlink`]).
    pub fn is_symlink(&self) -> bool {
        self.file_type.is_symlink()
    }

    /// The kind.
    pub fn file_type(&self) -> FileType {
        self.file_type
    }
}

impl From<std::fs::Metadata> for Metadata {
    fn from(m: std::fs::Metadata) -> Self {
        Self {
            len_bytes: m.len(),
            file_type: m.file_type().into(),
        }
    }
}

impl From<crate::fs::Metadata> for Metadata {
    fn from(m: crate::fs::Metadata) -> Self {
        Self {
            len_bytes: m.len,
            file_type: FileType::of_fs(m.is_dir),
        }
    }
}

/// One entry of [`super::read_dir`] (`std::fs::DirEntry`'s shape).
#[derive(Debug)]
pub struct DirEntry {
    path: PathBuf,
    file_type: FileType,
}

impl DirEntry {
    /// The entry's full path: the listed directory joined with its name.
    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The entry's name.
    pub fn file_name(&self) -> OsString {
        self.path
            .file_name()
            .map(OsString::from)
            .unwrap_or_default()
    }

    /// The entry's kind (not following a symbolic link, as `std`).
    pub fn file_type(&self) -> io::Result<FileType> {
        Ok(self.file_type)
    }

    /// The entry's metadata, looked up now (`std` does not follow a
    /// symbolic link here either).
    pub fn metadata(&self) -> io::Result<Metadata> {
        super::symlink_or_metadata(&self.path)
    }
}

/// The entries of a directory (`std::fs::ReadDir`'s shape): an iterator of
/// `io::Result<DirEntry>`. Inside a scope the listing is taken at once and
/// sorted by name; outside, it is `std`'s, in the order the OS gives.
#[derive(Debug)]
pub struct ReadDir {
    inner: Entries,
}

#[derive(Debug)]
enum Entries {
    Real(std::fs::ReadDir),
    /// The listed directory and its entries, made facade entries as the
    /// iterator reaches them.
    Listed(PathBuf, std::vec::IntoIter<crate::fs::DirEntry>),
}

impl ReadDir {
    pub(crate) fn real(read_dir: std::fs::ReadDir) -> Self {
        Self {
            inner: Entries::Real(read_dir),
        }
    }

    pub(crate) fn listed(dir: PathBuf, entries: Vec<crate::fs::DirEntry>) -> Self {
        Self {
            inner: Entries::Listed(dir, entries.into_iter()),
        }
    }
}

impl Iterator for ReadDir {
    type Item = io::Result<DirEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Entries::Listed(dir, entries) => entries.next().map(|e| {
                Ok(DirEntry {
                    path: dir.join(e.name),
                    file_type: FileType::of_fs(e.is_dir),
                })
            }),
            Entries::Real(read_dir) => read_dir.next().map(|entry| {
                let entry = entry?;
                Ok(DirEntry {
                    path: entry.path(),
                    file_type: entry.file_type()?.into(),
                })
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{FileType, Metadata};

    /// Each kind answers exactly one of `is_file`, `is_dir`, `is_symlink`,
    /// as `std`'s types do, for a regular file, a directory and a symbolic
    /// link (which only `std::fs` outside a scope can report).
    #[test]
    fn each_kind_is_exactly_one_of_file_dir_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        let link = tmp.path().join("link");
        std::fs::write(&file, b"12345").unwrap();
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let kinds = |m: Metadata| (m.is_file(), m.is_dir(), m.is_symlink());
        let of = |t: FileType| (t.is_file(), t.is_dir(), t.is_symlink());
        for (path, expected) in [
            (&file, (true, false, false)),
            (&tmp.path().to_path_buf(), (false, true, false)),
            (&link, (false, false, true)),
        ] {
            let m = Metadata::from(std::fs::symlink_metadata(path).unwrap());
            assert_eq!(kinds(m), expected, "{path:?}");
            assert_eq!(of(m.file_type()), expected, "{path:?}");
        }
        let sized = Metadata::from(std::fs::metadata(&file).unwrap());
        assert_eq!(sized.len(), 5);
        let from_fs = |is_dir| Metadata::from(crate::fs::Metadata { len: 0, is_dir });
        assert_eq!(kinds(from_fs(false)), (true, false, false));
        assert_eq!(kinds(from_fs(true)), (false, true, false));
    }
}
