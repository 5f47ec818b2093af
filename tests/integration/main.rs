//! The root crate's integration tests, as one test binary: the fixture model (`common::trained_model_dir`)
//! is trained once for all of them, and the libtorch + DataFusion stack is linked once. Each module is one
//! scenario file; the surfaces' own behaviour without a model is tested in `udfs/` and `pipelines/`.

mod common;

mod bulk_annotation;
mod cli_annotate;
mod cluster;
mod corpus_store;
mod cuttable_proxy;
mod encoder_parity;
mod input_properties;
mod kafka_stream;
mod network;
mod precision;
mod runtime;
mod sql_logic;
mod training;
mod transition_round_trip;
