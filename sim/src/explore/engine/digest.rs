//! A post-crash state's content digest, to count distinct states.

use crate::{SimFs, SimView};

/// A 64-bit name of what `image` holds: the first 64 bits of its visible
/// content digest ([`crate::ContentDigest`]: every directory, file and byte,
/// XXH3-128, the same in every run, build and machine, so shard reports
/// merged on another machine count the same states). A post-crash image is
/// fully durable with nothing unsynced, so its visible tree is all of it.
pub(crate) fn state_digest(image: &SimFs) -> u64 {
    image.content_digest().visible_short()
}
