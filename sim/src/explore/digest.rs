//! A post-crash state's content digest, to count distinct states.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::{SimFs, SimView};

/// A 64-bit digest of what `image` holds: every visible file's path and
/// bytes, in path order. Equal images have equal digests; two images whose
/// files are equal but whose empty directories differ share one (cheap,
/// and directories alone rarely tell two checkpoint states apart).
/// `DefaultHasher::new()` has fixed keys, so the digest is the same in
/// every run of the same build.
pub(crate) fn state_digest(image: &SimFs) -> u64 {
    let mut hasher = DefaultHasher::new();
    for (path, bytes) in image.files() {
        path.hash(&mut hasher);
        bytes.hash(&mut hasher);
    }
    hasher.finish()
}
