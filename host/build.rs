//! Compiles the run-time loader of pcsc-lite (`csrc/pcsc_loader.c`) into a
//! static library that pcsc-sys links by name (see `.cargo/config.toml`).

fn main() {
    println!("cargo:rerun-if-changed=csrc/pcsc_loader.c");
    cc::Build::new()
        .file("csrc/pcsc_loader.c")
        .warnings(true)
        .extra_warnings(true)
        .cargo_metadata(false)
        .compile("tapfido_pcsc_loader");
    let out = std::env::var("OUT_DIR").unwrap_or_default();
    // pcsc-sys asks for `-l static:-bundle=tapfido_pcsc_loader`; this is
    // where the final link finds it.
    println!("cargo:rustc-link-search=native={out}");
}
