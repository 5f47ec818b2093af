//! What the workspace's tests and benchmarks share, so that no test includes another crate's file by
//! path: [`run_slt`] runs a sqllogictest file against DataFusion with `sru_ner` registered (the UDF
//! crate's tests with a stand-in annotator, the root crate's with the real model), and [`status_mib`]
//! reads a process's memory for the memory benchmarks and the stream test.

mod process_status;
mod slt_runner;

pub use process_status::status_mib;
pub use slt_runner::run_slt;
