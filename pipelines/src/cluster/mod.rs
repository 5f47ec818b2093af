//! `sru_ner(text)` on an [Apache Ballista](https://datafusion.apache.org/ballista/) cluster.
//!
//! A query is planned by the client ([`connect_cluster`]), scheduled by a scheduler
//! ([`run_scheduler`]) and run by executors ([`run_executor`]). All three must know `sru_ner`: the
//! client and the scheduler to plan it (they never annotate; [`PlanningOnlyAnnotator`] stands in for
//! the model there), each executor to run it, on the one [`Annotator`](sru_ner_schemas::Annotator) it
//! was started with. Every task of an executor shares that annotator, which batches their rows together,
//! so the model is loaded once per executor process, not once per task.
//!
//! Plans name the function (`sru_ner`), not its model: executors that were started with different
//! models would annotate different partitions differently. Start them all with the same model.

mod cluster_client;
mod executor_process;
mod planning_only_annotator;
mod scheduler_process;

pub use cluster_client::{collect_on_cluster, connect_cluster};
pub use executor_process::{run_executor, ExecutorOptions};
pub use planning_only_annotator::PlanningOnlyAnnotator;
pub use scheduler_process::{run_scheduler, SchedulerOptions};
