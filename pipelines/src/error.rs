use std::path::PathBuf;

#[cfg(feature = "bulk")]
use arrow_schema::ArrowError;
#[cfg(feature = "bulk")]
use parquet::errors::ParquetError;
use sru_ner_schemas::AnnotateError;

/// Result of a pipeline stage.
pub type Result<T> = std::result::Result<T, PipelineError>;

/// Everything that can stop a pipeline stage, with the file and row it concerns.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A Parquet file could not be read or written.
    #[cfg(feature = "bulk")]
    #[error("{path}: {source}")]
    Parquet {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: ParquetError,
    },
    /// An Arrow batch could not be built.
    #[cfg(feature = "bulk")]
    #[error("{path}: {source}")]
    Arrow {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: ArrowError,
    },
    /// A cluster process could not start or reach its peer: `role` is `scheduler`, `executor` or
    /// `client`, `address` the one it listens on or connects to.
    #[cfg(feature = "cluster")]
    #[error("cluster {role} ({address}): {reason}")]
    Cluster {
        /// Which process.
        role: &'static str,
        /// The address it listens on or connects to.
        address: String,
        /// What went wrong.
        reason: String,
    },
    /// The cluster could not run a query that calls `sru_ner`: its scheduler does not know the function,
    /// or an executor rejected a task (stock Ballista processes do not have it).
    #[cfg(feature = "cluster")]
    #[error(
        "the cluster could not run sru_ner ({message}): run the scheduler with `sru-ner cluster scheduler` and \
         every executor with `sru-ner cluster executor --scheduler HOST:PORT`; stock ballista binaries do not \
         have the function (an executor's log says why it rejected a task)"
    )]
    ClusterLacksSruNer {
        /// The cluster's error.
        message: String,
    },
    /// A query failed on the cluster.
    #[cfg(feature = "cluster")]
    #[error("{sql:?}: {source}")]
    Query {
        /// The statement.
        sql: String,
        /// DataFusion's or Ballista's error.
        source: Box<datafusion::error::DataFusionError>,
    },
    /// The input names no Parquet file.
    #[error("no Parquet file matches {0:?} (give a file, a folder or a glob such as 'data/*.parquet')")]
    NoInputs(String),
    /// The input glob pattern is malformed.
    #[error("bad glob pattern {pattern:?}: {reason}")]
    BadGlob {
        /// The pattern as given.
        pattern: String,
        /// What is wrong.
        reason: String,
    },
    /// An input file lacks the text column.
    #[error("{path}: no column {column:?} (columns: {available})")]
    MissingTextColumn {
        /// The file or folder concerned.
        path: PathBuf,
        /// The column's name.
        column: String,
        /// The columns the file has.
        available: String,
    },
    /// The text column is not a string column.
    #[error("{path}: column {column:?} is {data_type}, not a string column (Utf8, LargeUtf8 or Utf8View)")]
    TextColumnType {
        /// The file or folder concerned.
        path: PathBuf,
        /// The column's name.
        column: String,
        /// The column's Arrow type.
        data_type: String,
    },
    /// The column the entities would be written to already exists in the input.
    #[error("{path}: the input already has a column {column:?}; choose another with --entities-column")]
    EntitiesColumnExists {
        /// The file or folder concerned.
        path: PathBuf,
        /// The column's name.
        column: String,
    },
    /// Input files do not share one schema, so their outputs could not be read as one table.
    #[error("{path} has columns [{found}] but {first} has [{expected}]; annotate them as separate jobs")]
    SchemaMismatch {
        /// The file or folder concerned.
        path: PathBuf,
        /// The first input, whose columns every other input must have.
        first: PathBuf,
        /// This input's columns.
        found: String,
        /// The first input's columns.
        expected: String,
    },
    /// The output folder belongs to another job (different inputs, model or options), or to nothing.
    #[error("output folder {path}: {reason}")]
    OutputInUse {
        /// The file or folder concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The model failed on a slice of rows.
    #[error("{path}, rows {first_row}..{end_row}: {source}")]
    Annotate {
        /// The file or folder concerned.
        path: PathBuf,
        /// First row of the slice, counted in the file.
        first_row: usize,
        /// One past the slice's last row.
        end_row: usize,
        /// The underlying error.
        source: AnnotateError,
    },
    /// The stream stage's settings are incomplete or wrong.
    #[error("stream settings: {0}")]
    StreamConfig(String),
    /// A Kafka client call failed.
    #[cfg(feature = "stream")]
    #[error("kafka: {context}: {source}")]
    Kafka {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: rdkafka::error::KafkaError,
    },
    /// A record was not delivered; its input offset stays uncommitted, so a restart redoes it.
    #[error("the record for {topic}:{partition}@{offset} was not delivered ({reason}); its offset is not committed, a restart redoes it")]
    Delivery {
        /// The input record's topic.
        topic: String,
        /// The input record's partition.
        partition: i32,
        /// The input record's offset.
        offset: i64,
        /// What is wrong.
        reason: String,
    },
    /// A thread of the stage (the consumer's, the metrics endpoint's) could not be started.
    #[error("could not start the {thread} thread: {source}")]
    ThreadSpawn {
        /// Which thread.
        thread: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A task of the stream stage panicked or was cancelled: `task` says which (the batcher, a model
    /// call, a blocking Kafka call).
    #[cfg(feature = "stream")]
    #[error("stream stage: {task} did not finish: {source}")]
    TaskFailed {
        /// Which task.
        task: &'static str,
        /// tokio's error: the panic or the cancellation.
        source: tokio::task::JoinError,
    },
    /// The model failed on a whole batch and stopped (a model that fails on some texts sends those to
    /// the dead-letter topic instead).
    #[error("stream stage: the model stopped: {source}")]
    ModelStopped {
        /// The annotator's error.
        source: AnnotateError,
    },
    /// The producer closed before a transaction's record was acknowledged.
    #[error(
        "stream stage: the producer closed before the record for {topic}:{partition}@{offset} was acknowledged; the transaction is aborted"
    )]
    ProducerClosed {
        /// The input record's topic.
        topic: String,
        /// The input record's partition.
        partition: i32,
        /// The input record's offset.
        offset: i64,
    },
    /// Exactly-once delivery needs the consumer's group metadata to commit offsets in a transaction.
    #[error("stream stage: the consumer has no group metadata (exactly-once needs a consumer group)")]
    NoGroupMetadata,
}
