//! The binary's allocator: mimalloc (version 2, no transparent huge pages;
//! the global allocator is declared in `main.rs`).
//!
//! Why: the explorer builds and drops small maps, buffers and strings for
//! every post-crash state it checks, and with glibc's malloc a third of
//! its CPU time went to `malloc` and `free` (`perf` of `explore --items
//! 1000 --crashes 2`); with mimalloc the same runs take 25-55 % less time
//! (`docs/explorer.md`, "Growth, memory and threads"). What is checked does
//! not depend on the allocator (`benches/explore_counts.sh` compares the
//! reports of two builds).
//!
//! Its one tuning: memory a thread freed goes back to the OS after 1 ms
//! instead of 10 ms. Each checking thread frees in bursts (a batch of
//! states at a time), and with the default delay every thread's freed
//! pages stayed resident long enough to add 4-8 MB per thread to the
//! peak (two crashes at N=1000, `--jobs 4`: 36-44 MB against 30-36 MB),
//! at no measurable cost in time.

/// mimalloc's `mi_option_purge_delay` (milliseconds before freed memory is
/// returned to the OS): the option after `mi_option_eager_commit_delay` in
/// version 2's `mimalloc.h`, which the Rust bindings do not name.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = libmimalloc_sys::mi_option_eager_commit_delay + 1;

/// The purge delay this binary sets, in milliseconds.
const PURGE_DELAY_MS: std::ffi::c_long = 1;

/// Sets the purge delay; call first thing in `main`.
pub fn return_freed_memory_promptly() {
    // SAFETY: `mi_option_set` stores a number in mimalloc's option table
    // (an atomic store, safe from any thread at any time); the option is
    // read on each purge, so setting it after start-up takes effect.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::{
        mi_option_eager_commit_delay, mi_option_get, mi_option_set, mi_option_use_numa_nodes,
    };

    // The option table is the allocator's, process-wide: this test sets a
    // value no other option of the three has and puts the binary's back.
    #[test]
    fn the_purge_delay_is_the_option_between_its_two_named_neighbours() {
        // SAFETY: `mi_option_get`/`mi_option_set` read and store numbers
        // in mimalloc's option table.
        #[allow(unsafe_code)]
        let (set, below, above) = unsafe {
            mi_option_set(PURGE_DELAY, 7);
            (
                mi_option_get(PURGE_DELAY),
                mi_option_get(mi_option_eager_commit_delay),
                mi_option_get(mi_option_use_numa_nodes),
            )
        };
        return_freed_memory_promptly();
        assert_eq!(set, 7);
        // An index off by one would have written 7 into a neighbour.
        assert_ne!(below, 7);
        assert_ne!(above, 7);
        #[allow(unsafe_code)]
        // SAFETY: as above.
        let restored = unsafe { mi_option_get(PURGE_DELAY) };
        assert_eq!(restored, PURGE_DELAY_MS);
    }
}
