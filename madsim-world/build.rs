//! Declares the `madsim` cfg, set by `RUSTFLAGS="--cfg madsim"`, and says
//! so when it is missing: without it this crate has no tests, and a
//! `cargo test` that lists "0 passed" for it must not read as a check.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(madsim)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    if std::env::var_os("CARGO_CFG_MADSIM").is_none() {
        println!(
            "cargo::warning=built without --cfg madsim: the madsim world's tests do not run in \
             this build; run them with RUSTFLAGS=\"--cfg madsim\" cargo test -p crashproof-madsim \
             --target-dir target/madsim"
        );
    }
}
