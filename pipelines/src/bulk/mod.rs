//! The bulk annotation job: Parquet files in, Parquet parts out, each input column kept and an
//! `entities` column added.
//!
//! The work is cut into units of at most `rows_per_part` rows of one input row group. Each unit is read
//! in batches (bounded memory whatever the file size), annotated, written to a hidden temporary file and
//! renamed to `part-IIIII-GGGGG-SSSSS.parquet` (input file, row group, slice), so part names sort in input
//! order. The manifest `_sru_ner_manifest.json` records the job (inputs, model, options) and every
//! committed part; a rerun with the same arguments skips committed parts and redoes the rest, so no row is
//! lost or duplicated whenever the job was killed.

mod bulk_job;
mod input_files;
mod job_manifest;

pub use bulk_job::{BulkJob, BulkOptions, BulkSummary};
pub use input_files::resolve_inputs;
pub use job_manifest::{InputRecord, JobIdentity, JobManifest, PartRecord, MANIFEST_FILE};
