//! The `crashproof` command.
fn main() {}
