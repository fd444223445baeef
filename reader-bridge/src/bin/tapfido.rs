//! The `tapfido` command line; everything lives in `reader_bridge::cli`.

fn main() -> std::process::ExitCode {
    reader_bridge::cli::main()
}
