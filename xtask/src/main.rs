//! `cargo xtask …`: project tasks.

fn main() {
    eprintln!("usage: cargo xtask <import|codegen|demo|coverage|bench>");
    std::process::exit(2);
}
