//! Makes the `sru-ner` binaries, tests and benchmarks find libtorch at run time without
//! `LD_LIBRARY_PATH`: an rpath to the real (symlink-resolved) `torch/lib` of `.venv`, so that the
//! `$ORIGIN`-relative paths inside libtorch reach the CUDA libraries of the wheel. When the wheel has
//! CUDA, `libtorch_cuda` is linked with `--no-as-needed`, otherwise the linker drops it (no symbol of it is
//! referenced directly) and `tch::Cuda::is_available()` is false on a GPU machine.
//!
//! It also compiles `src/encoder/int8_linear.cpp` against libtorch's headers: the fbgemm int8 products
//! that tch does not expose (`src/encoder/int8_linear.rs`).
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/encoder/int8_linear.cpp");
    let libtorch = PathBuf::from(
        std::env::var("LIBTORCH").expect("LIBTORCH is not set: .cargo/config.toml sets it to .venv/torch, which scripts/setup.sh makes"),
    );
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .file("src/encoder/int8_linear.cpp")
        .include(libtorch.join("include"))
        .define("_GLIBCXX_USE_CXX11_ABI", abi.as_str())
        .warnings(false)
        .compile("sru_ner_int8_linear");
    let lib = libtorch.join("lib");
    let lib = lib.canonicalize().unwrap_or(lib);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-L{}", lib.display());
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
