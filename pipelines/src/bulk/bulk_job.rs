use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection, RowSelector};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use sru_ner_schemas::{annotate_column, entity_list_type, AnnotateColumnError, AnnotateError, Annotator};

use super::input_files::resolve_inputs;
use super::job_manifest::{InputRecord, JobIdentity, JobManifest, PartRecord, MANIFEST_FILE};
use crate::{PipelineError, Result};

/// How the bulk job reads, cuts and writes.
#[derive(Debug, Clone)]
pub struct BulkOptions {
    /// The input column holding the text to annotate.
    pub text_column: String,
    /// The output column the entities go to.
    pub entities_column: String,
    /// Most rows in one output part: the work lost when a job is killed is at most this many rows per
    /// worker.
    pub rows_per_part: usize,
    /// Rows read, annotated and written at a time (bounds memory).
    pub batch_rows: usize,
    /// Parts annotated at once; their rows meet in the model's batches.
    pub workers: usize,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self { text_column: "text".into(), entities_column: "entities".into(), rows_per_part: 2000, batch_rows: 256, workers: 2 }
    }
}

/// A slice of one input row group that becomes one output part.
#[derive(Debug, Clone)]
struct WorkUnit {
    input: usize,
    row_group: usize,
    /// First row of the slice within the row group.
    offset: usize,
    rows: usize,
    /// First row of the slice within the input file (for messages).
    file_row: usize,
    part_name: String,
}

/// What a finished run did.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkSummary {
    /// Input files.
    pub inputs: usize,
    /// Rows in all inputs.
    pub total_rows: u64,
    /// Rows annotated by this run (the rest were committed by an earlier run).
    pub rows_annotated: u64,
    /// Parts written by this run.
    pub parts_written: usize,
    /// Parts an earlier run had committed.
    pub parts_skipped: usize,
    /// Entities in the whole output.
    pub entities: u64,
    /// Rows whose text was null, in the whole output.
    pub null_texts: u64,
    /// Wall time of this run.
    pub elapsed: Duration,
}

/// A planned bulk annotation job (see the [module docs](super)): inputs checked, output folder claimed,
/// committed parts found.
#[derive(Debug)]
pub struct BulkJob {
    output: PathBuf,
    options: BulkOptions,
    inputs: Vec<PathBuf>,
    /// Each input's footer, read once at planning and shared by every slice of that input.
    reader_metadata: Vec<ArrowReaderMetadata>,
    output_schema: SchemaRef,
    text_index: usize,
    pending: Vec<WorkUnit>,
    /// The parts an earlier run committed (and only those).
    manifest: JobManifest,
}

impl BulkJob {
    /// Plans the job of annotating `input` (a file, folder or glob) into the folder `output` with the
    /// model `model_id`. Checks every input's schema, and resumes the job already in `output`, if any;
    /// refuses a folder that holds another job's output or unrelated files.
    pub fn plan(input: &str, output: &Path, options: BulkOptions, model_id: &str) -> Result<Self> {
        std::fs::create_dir_all(output).map_err(|source| PipelineError::Io { path: output.to_path_buf(), source })?;
        let inputs = resolve_inputs(input, output)?;
        let (input_schema, reader_metadata, records) = read_input_metadata(&inputs, &options)?;
        let text_index = input_schema.index_of(&options.text_column).expect("checked by read_input_metadata");
        let mut fields: Vec<Field> = input_schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new(&options.entities_column, entity_list_type(), true));
        let mut metadata = input_schema.metadata().clone();
        metadata.insert("sru_ner.model".into(), model_id.to_string());
        let output_schema = Arc::new(Schema::new_with_metadata(fields, metadata));

        let identity = JobIdentity {
            model: model_id.to_string(),
            text_column: options.text_column.clone(),
            entities_column: options.entities_column.clone(),
            rows_per_part: options.rows_per_part,
            inputs: records,
        };
        let mut manifest = claim_output_folder(output, identity)?;
        let mut pending = Vec::new();
        let mut committed = std::collections::BTreeMap::new();
        for (input, metadata) in reader_metadata.iter().enumerate() {
            let mut file_row = 0;
            for (row_group, group) in metadata.metadata().row_groups().iter().enumerate() {
                let group_rows = group.num_rows() as usize;
                for (slice, offset) in (0..group_rows).step_by(options.rows_per_part.max(1)).enumerate() {
                    let rows = options.rows_per_part.min(group_rows - offset);
                    let part_name = format!("part-{input:05}-{row_group:05}-{slice:05}.parquet");
                    match manifest.parts.remove(&part_name) {
                        Some(record) if output.join(&part_name).is_file() => {
                            committed.insert(part_name, record);
                        }
                        _ => pending.push(WorkUnit { input, row_group, offset, rows, file_row: file_row + offset, part_name }),
                    }
                }
                file_row += group_rows;
            }
        }
        manifest.parts = committed;
        manifest.write(output)?;
        Ok(Self { output: output.to_path_buf(), options, inputs, reader_metadata, output_schema, text_index, pending, manifest })
    }

    /// Rows in all inputs.
    pub fn total_rows(&self) -> u64 {
        self.manifest.job.inputs.iter().map(|i| i.rows).sum()
    }

    /// Rows an earlier run already committed.
    pub fn committed_rows(&self) -> u64 {
        self.manifest.parts.values().map(|p| p.rows).sum()
    }

    /// Annotates every pending part with `annotator`, `options.workers` parts at a time, calling
    /// `on_rows` with the number of rows each written batch held. Stops at the first error; parts
    /// committed before it stay, so a rerun continues from there.
    pub fn run(self, annotator: &dyn Annotator, on_rows: &(dyn Fn(u64) + Sync)) -> Result<BulkSummary> {
        let started = Instant::now();
        let parts_written = self.pending.len();
        let queue = Mutex::new(self.pending.iter());
        let manifest = Mutex::new(self.manifest.clone());
        let failed = AtomicBool::new(false);
        let first_error: Mutex<Option<PipelineError>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..self.options.workers.max(1) {
                scope.spawn(|| {
                    while !failed.load(Ordering::Relaxed) {
                        let Some(unit) = queue.lock().ok().and_then(|mut q| q.next()) else { break };
                        let committed = self.annotate_unit(unit, annotator, on_rows).and_then(|record| {
                            let mut manifest = manifest.lock().map_err(|_| poisoned(&self.output))?;
                            manifest.parts.insert(unit.part_name.clone(), record);
                            manifest.write(&self.output)
                        });
                        if let Err(error) = committed {
                            failed.store(true, Ordering::Relaxed);
                            if let Ok(mut slot) = first_error.lock() {
                                slot.get_or_insert(error);
                            }
                        }
                    }
                });
            }
        });
        if let Some(error) = first_error.into_inner().ok().flatten() {
            return Err(error);
        }
        let manifest = manifest.into_inner().map_err(|_| poisoned(&self.output))?;
        let rows_annotated = self.pending.iter().map(|u| u.rows as u64).sum();
        Ok(BulkSummary {
            inputs: self.inputs.len(),
            total_rows: self.total_rows(),
            rows_annotated,
            parts_written,
            parts_skipped: self.manifest.parts.len(),
            entities: manifest.parts.values().map(|p| p.entities).sum(),
            null_texts: manifest.parts.values().map(|p| p.null_texts).sum(),
            elapsed: started.elapsed(),
        })
    }

    /// Reads one slice, annotates it batch by batch into a hidden file, and renames that into place.
    fn annotate_unit(&self, unit: &WorkUnit, annotator: &dyn Annotator, on_rows: &(dyn Fn(u64) + Sync)) -> Result<PartRecord> {
        let path = &self.inputs[unit.input];
        let parquet_error = |source| PipelineError::Parquet { path: path.clone(), source };
        let file = File::open(path).map_err(|source| PipelineError::Io { path: path.clone(), source })?;
        let selection = RowSelection::from(vec![RowSelector::skip(unit.offset), RowSelector::select(unit.rows)]);
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.reader_metadata[unit.input].clone())
            .with_row_groups(vec![unit.row_group])
            .with_row_selection(selection)
            .with_batch_size(self.options.batch_rows.max(1))
            .build()
            .map_err(parquet_error)?;

        let final_path = self.output.join(&unit.part_name);
        let temporary = self.output.join(format!(".tmp-{}", unit.part_name));
        let out_error = |source| PipelineError::Parquet { path: temporary.clone(), source };
        let out_file = File::create(&temporary).map_err(|source| PipelineError::Io { path: temporary.clone(), source })?;
        let properties = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
        let mut writer = ArrowWriter::try_new(out_file, Arc::clone(&self.output_schema), Some(properties)).map_err(out_error)?;
        let mut record = PartRecord { rows: 0, null_texts: 0, entities: 0 };
        let mut first_row = unit.file_row;
        for batch in reader {
            let batch = batch.map_err(|source| PipelineError::Arrow { path: path.clone(), source })?;
            let end_row = first_row + batch.num_rows();
            let entities = annotate_column(annotator, batch.column(self.text_index).as_ref()).map_err(|e| {
                let source = match e {
                    AnnotateColumnError::Annotate(source) => source,
                    other => AnnotateError::Model(other.to_string()),
                };
                PipelineError::Annotate { path: path.clone(), first_row, end_row, source }
            })?;
            record.rows += batch.num_rows() as u64;
            record.null_texts += entities.null_count() as u64;
            record.entities += entities.values().len() as u64;
            let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
            columns.push(Arc::new(entities));
            let batch = RecordBatch::try_new(Arc::clone(&self.output_schema), columns)
                .map_err(|source| PipelineError::Arrow { path: path.clone(), source })?;
            writer.write(&batch).map_err(out_error)?;
            on_rows(batch.num_rows() as u64);
            first_row = end_row;
        }
        let out_file = writer.into_inner().map_err(out_error)?;
        out_file.sync_all().map_err(|source| PipelineError::Io { path: temporary.clone(), source })?;
        std::fs::rename(&temporary, &final_path).map_err(|source| PipelineError::Io { path: final_path.clone(), source })?;
        Ok(record)
    }
}

fn poisoned(output: &Path) -> PipelineError {
    PipelineError::OutputInUse { path: output.to_path_buf(), reason: "a worker panicked while writing the manifest".into() }
}

/// The shared schema, each input's footer, and the inputs' identity records.
fn read_input_metadata(inputs: &[PathBuf], options: &BulkOptions) -> Result<(SchemaRef, Vec<ArrowReaderMetadata>, Vec<InputRecord>)> {
    let mut first: Option<(SchemaRef, &PathBuf)> = None;
    let mut reader_metadata = Vec::new();
    let mut records = Vec::new();
    for path in inputs {
        let file = File::open(path).map_err(|source| PipelineError::Io { path: path.clone(), source })?;
        let bytes = file.metadata().map_err(|source| PipelineError::Io { path: path.clone(), source })?.len();
        let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
            .map_err(|source| PipelineError::Parquet { path: path.clone(), source })?;
        let schema = Arc::clone(metadata.schema());
        let column_names = || schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ");
        match schema.field_with_name(&options.text_column) {
            Err(_) => {
                return Err(PipelineError::MissingTextColumn {
                    path: path.clone(),
                    column: options.text_column.clone(),
                    available: column_names(),
                })
            }
            Ok(field) if !matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
                return Err(PipelineError::TextColumnType {
                    path: path.clone(),
                    column: options.text_column.clone(),
                    data_type: field.data_type().to_string(),
                })
            }
            Ok(_) => {}
        }
        if schema.field_with_name(&options.entities_column).is_ok() {
            return Err(PipelineError::EntitiesColumnExists { path: path.clone(), column: options.entities_column.clone() });
        }
        match &first {
            None => first = Some((Arc::clone(&schema), path)),
            Some((expected, first_path)) if expected.fields() != schema.fields() => {
                let describe =
                    |s: &Schema| s.fields().iter().map(|f| format!("{}: {}", f.name(), f.data_type())).collect::<Vec<_>>().join(", ");
                return Err(PipelineError::SchemaMismatch {
                    path: path.clone(),
                    first: first_path.to_path_buf(),
                    found: describe(&schema),
                    expected: describe(expected),
                });
            }
            Some(_) => {}
        }
        records.push(InputRecord {
            path: path.display().to_string(),
            bytes,
            rows: metadata.metadata().row_groups().iter().map(|g| g.num_rows() as u64).sum(),
        });
        reader_metadata.push(metadata);
    }
    let (schema, _) = first.expect("resolve_inputs returns at least one file");
    Ok((schema, reader_metadata, records))
}

/// The manifest to continue from: the folder's own when it belongs to the same job, a new one when the
/// folder is empty. Removes temporary files a killed run left.
fn claim_output_folder(output: &Path, identity: JobIdentity) -> Result<JobManifest> {
    let entries = std::fs::read_dir(output).map_err(|source| PipelineError::Io { path: output.to_path_buf(), source })?;
    let mut foreign = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| PipelineError::Io { path: output.to_path_buf(), source })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".tmp-") {
            std::fs::remove_file(entry.path()).map_err(|source| PipelineError::Io { path: entry.path(), source })?;
        } else if name != MANIFEST_FILE && !name.starts_with('.') {
            foreign.push(name);
        }
    }
    match JobManifest::read(output)? {
        Some(manifest) => match manifest.mismatch(&identity) {
            Some(reason) => Err(PipelineError::OutputInUse {
                path: output.to_path_buf(),
                reason: format!("it holds another job's output ({reason}); give a new --output folder"),
            }),
            None => Ok(manifest),
        },
        None if foreign.is_empty() => Ok(JobManifest::new(identity)),
        None => {
            foreign.sort();
            Err(PipelineError::OutputInUse {
                path: output.to_path_buf(),
                reason: format!(
                    "it is not empty and has no {MANIFEST_FILE} (found {}); give an empty or new folder",
                    foreign[..foreign.len().min(3)].join(", ")
                ),
            })
        }
    }
}
