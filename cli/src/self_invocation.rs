//! How a printed command runs this very binary again: a replay line must
//! work when pasted, and a bare `crashproof` is usually not on PATH.

/// The words that start this binary: its path (`std::env::current_exe`),
/// or, when that is unknown, `cargo run -p crashproof --` with `--release`
/// when this binary was built with the release profile (the same code, the
/// same speed).
pub fn self_command() -> Vec<String> {
    match std::env::current_exe() {
        Ok(path) => vec![path.to_string_lossy().into_owned()],
        Err(_) => cargo_run_command(),
    }
}

/// `cargo run [--release] -p crashproof --`, with the profile of this build.
fn cargo_run_command() -> Vec<String> {
    let mut words = vec!["cargo".to_string(), "run".to_string()];
    if !cfg!(debug_assertions) {
        words.push("--release".to_string());
    }
    words.extend(["-p", "crashproof", "--"].map(String::from));
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_is_this_binary_or_cargo_run_with_its_profile() {
        let words = self_command();
        assert_eq!(words.len(), 1, "{words:?}");
        assert!(std::path::Path::new(&words[0]).is_absolute(), "{words:?}");
        let cargo = cargo_run_command();
        assert_eq!(
            cargo.contains(&"--release".to_string()),
            !cfg!(debug_assertions),
            "{cargo:?}"
        );
        assert_eq!(cargo[cargo.len() - 3..], ["-p", "crashproof", "--"]);
    }
}
