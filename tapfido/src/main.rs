//! The `tapfido` command line; everything lives in `tapfido::cli`.

fn main() -> std::process::ExitCode {
    tapfido::cli::main()
}
