//! Declares the `madsim` cfg, set by `RUSTFLAGS="--cfg madsim"`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(madsim)");
}
