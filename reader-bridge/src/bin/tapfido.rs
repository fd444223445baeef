//! The `tapfido` command line.

fn main() {
    println!("tapfido {}", env!("CARGO_PKG_VERSION"));
}
