//! Makes the `sru-ner` binaries, tests and benchmarks find libtorch at run time without
//! `LD_LIBRARY_PATH`: an rpath to the real (symlink-resolved) `torch/lib` of `.venv`, so that the
//! `$ORIGIN`-relative paths inside libtorch reach the CUDA libraries of the wheel. When the wheel has
//! CUDA, `libtorch_cuda` is linked with `--no-as-needed`, otherwise the linker drops it (no symbol of it is
//! referenced directly) and `tch::Cuda::is_available()` is false on a GPU machine.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=build.rs");
    let Ok(libtorch) = std::env::var("LIBTORCH") else {
        return;
    };
    let lib = PathBuf::from(libtorch).join("lib");
    let lib = lib.canonicalize().unwrap_or(lib);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-L{}", lib.display());
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
