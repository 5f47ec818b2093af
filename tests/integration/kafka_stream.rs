//! The Kafka stage (`sru-ner stream`) against a real Kafka-protocol broker through librdkafka: tansu,
//! started by `scripts/test` (address in `SRU_NER_TEST_KAFKA`), and librdkafka's mock cluster for
//! exactly-once, which tansu cannot do (no `EndTxn`). Outputs are compared with `ModelRuntime::annotate`
//! on the committed default model.
use crate::common;
use crate::cuttable_proxy::CuttableProxy;
use sru_ner_test_support::status_mib;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, OwnedMessage};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::{json, Value};
use sru_ner::runtime::{ModelRuntime, ModelSource, RuntimeOptions};
use sru_ner::Annotator;

/// The tansu broker's address, or None (with a SKIPPED line) when no broker was started.
fn tansu() -> Option<String> {
    match std::env::var("SRU_NER_TEST_KAFKA") {
        Ok(brokers) if !brokers.is_empty() => Some(brokers),
        _ => {
            eprintln!("SKIPPED: no Kafka broker; `scripts/test` starts tansu and sets SRU_NER_TEST_KAFKA=host:port");
            None
        }
    }
}

/// A topic name no other test (or earlier run on the same broker) uses.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{name}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

fn create_topics(brokers: &str, topics: &[&str], partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new().set("bootstrap.servers", brokers).create().expect("admin client");
    let new: Vec<NewTopic<'_>> = topics.iter().map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1))).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let results = runtime.block_on(admin.create_topics(&new, &AdminOptions::new())).expect("create topics");
    for result in results {
        result.unwrap_or_else(|(topic, error)| panic!("creating {topic}: {error}"));
    }
}

/// A test input message: key, partition and payload (None for a tombstone).
struct Input {
    key: String,
    partition: i32,
    payload: Option<Vec<u8>>,
}

/// Produces the inputs and returns each one's (partition, offset). One record per batch: tansu 0.6 answers
/// a fetch that starts inside a record batch with nothing (a Kafka broker returns the batch), so a
/// committed offset must fall on a batch boundary for a restarted consumer to go on.
fn produce(brokers: &str, topic: &str, inputs: &[Input]) -> Vec<(i32, i64)> {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("batch.num.messages", "1")
        .set("linger.ms", "0")
        .create()
        .expect("producer");
    for input in inputs {
        let mut record = BaseRecord::<str, [u8]>::to(topic).key(&input.key).partition(input.partition);
        if let Some(payload) = &input.payload {
            record = record.payload(payload);
        }
        producer.send(record).map_err(|(e, _)| e).expect("enqueue");
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(30)).expect("flush");
    // Offsets per partition follow production order on an empty topic.
    let mut next = BTreeMap::new();
    inputs
        .iter()
        .map(|i| {
            let n = next.entry(i.partition).or_insert(0i64);
            *n += 1;
            (i.partition, *n - 1)
        })
        .collect()
}

/// Every message of `topic` from the beginning (read_committed, or read_uncommitted), read until the
/// consumer has caught up with the partitions' ends as they were at the call, at least `at_least` arrived,
/// and nothing more came for `quiet`; or until `deadline`.
fn consume(brokers: &str, topic: &str, at_least: usize, quiet: Duration, deadline: Duration, committed: bool) -> Vec<OwnedMessage> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("reader"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", if committed { "read_committed" } else { "read_uncommitted" })
        .create()
        .expect("consumer");
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).expect("metadata");
    let mut list = TopicPartitionList::new();
    let mut ends = Vec::new();
    for partition in metadata.topics()[0].partitions() {
        list.add_partition_offset(topic, partition.id(), Offset::Beginning).unwrap();
        let (_, high) = consumer.fetch_watermarks(topic, partition.id(), Duration::from_secs(10)).expect("watermarks");
        ends.push((partition.id(), high));
    }
    consumer.assign(&list).expect("assign");
    let caught_up = |consumer: &BaseConsumer| {
        let positions = consumer.position().expect("position");
        ends.iter().all(|(p, end)| {
            *end == 0 || matches!(positions.find_partition(topic, *p).map(|e| e.offset()), Some(Offset::Offset(o)) if o >= *end)
        })
    };
    let started = Instant::now();
    let mut last = Instant::now();
    let mut messages = Vec::new();
    while started.elapsed() < deadline && (messages.len() < at_least || last.elapsed() < quiet || !caught_up(&consumer)) {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                messages.push(message.detach());
                last = Instant::now();
            }
            Some(Err(error)) => eprintln!("reader: {error}"),
            None => {}
        }
    }
    messages
}

fn consume_all(brokers: &str, topic: &str, at_least: usize, quiet: Duration, deadline: Duration) -> Vec<OwnedMessage> {
    consume(brokers, topic, at_least, quiet, deadline, true)
}

fn header(message: &OwnedMessage, name: &str) -> Option<String> {
    let headers = message.headers()?;
    headers.iter().find(|h| h.key == name).and_then(|h| h.value).map(|v| String::from_utf8_lossy(v).into_owned())
}

/// The (partition, offset) a record came from, from its source headers.
fn source(message: &OwnedMessage) -> (i32, i64) {
    let partition = header(message, "sru_ner.source.partition").expect("partition header").parse().unwrap();
    let offset = header(message, "sru_ner.source.offset").expect("offset header").parse().unwrap();
    (partition, offset)
}

/// A running `sru-ner stream`, killed when dropped; its standard error is collected. Its log filter is
/// `SRU_NER_TEST_STAGE_LOG` when set (e.g. `warn,sru_ner_pipelines=trace,librdkafka=debug` with
/// `--kafka debug=cgrp,fetch`).
struct Stage {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Stage {
    fn start(brokers: &str, group: &str, topics: (&str, &str, &str), extra: &[&str]) -> Stage {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sru-ner"))
            .env("SRU_NER_LOG", std::env::var("SRU_NER_TEST_STAGE_LOG").unwrap_or_else(|_| "warn,sru_ner_pipelines=info".into()))
            .args(["stream", "--brokers", brokers, "--group", group])
            .args(["--input-topic", topics.0, "--output-topic", topics.1, "--dead-letter-topic", topics.2])
            .args(["--text-field", "abstract", "--log-interval-secs", "1"])
            .args(if extra.contains(&"--metrics-addr") { &[][..] } else { &["--metrics-addr", "off"][..] })
            .args(["--batch-size", "16", "--linger-ms", "20", "--commit-interval-ms", "200", "--device", "cpu"])
            // fp32: in bf16 a text's entities can move with the other texts of its batch, and the
            // outputs are compared with one library call over all texts.
            .args(["--precision", "fp32"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sru-ner stream");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Stage { child, log }
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn stop(mut self) -> String {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(200));
                let log = self.log_text();
                assert!(status.success(), "the stage exited with {status} after SIGTERM:\n{log}");
                return log;
            }
            assert!(Instant::now() < deadline, "the stage did not stop within 60 s of SIGTERM:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The partitions of the last "partitions assigned" line.
    fn last_assignment(&self) -> Option<BTreeSet<String>> {
        let log = self.log.lock().unwrap();
        let line = log.iter().rev().find(|l| l.contains("partitions assigned: "))?;
        let list = line.split("partitions assigned: ").nth(1)?.trim();
        Some(if list == "none" { BTreeSet::new() } else { list.split(',').map(str::to_string).collect() })
    }

    /// Waits until this run has acknowledged at least `n` outputs (from its progress log lines, one a
    /// second), then returns; panics after `limit`.
    fn wait_for_outputs(&self, n: u64, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let out = self.log.lock().unwrap().iter().rev().find_map(|line| {
                let (_, rest) = line.split_once(" in, ")?;
                rest.split_once(" out, ")?.0.trim().parse::<u64>().ok()
            });
            if out.is_some_and(|out| out >= n) {
                return;
            }
            assert!(Instant::now() < deadline, "fewer than {n} outputs after {limit:?}:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// "stopped: N in, M out, D dead letters": (N, M, D).
    fn stopped_counts(log: &str) -> (u64, u64, u64) {
        let line = log.lines().rev().find(|l| l.contains("sru-ner stream: stopped:")).unwrap_or_else(|| panic!("no summary:\n{log}"));
        let numbers: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .filter(|w| !w.is_empty() && !w.contains('.'))
            .map(|w| w.parse().unwrap())
            .collect();
        (numbers[0], numbers[1], numbers[2])
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Short biomedical texts: varied, so that entities differ between messages.
fn texts(n: usize) -> Vec<String> {
    let subjects = ["Aspirin", "Cisplatin", "Tumor necrosis factor alpha", "The IL-2 receptor", "Dopamine", "BRCA1"];
    let objects = ["breast cancer", "NF-kappa B activation", "Parkinson's disease", "T cells", "renal failure", "HeLa cells"];
    (0..n)
        .map(|i| {
            format!(
                "{} was studied in {} (study {i}). Patients with {} received it.",
                subjects[i % subjects.len()],
                objects[(i / 2) % objects.len()],
                objects[(i + 3) % objects.len()]
            )
        })
        .collect()
}

fn json_inputs(texts: &[String], partitions: i32) -> Vec<Input> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| Input {
            key: format!("doc-{i}"),
            partition: i as i32 % partitions,
            payload: Some(serde_json::to_vec(&json!({"pmid": i, "abstract": text, "journal": "J Test"})).unwrap()),
        })
        .collect()
}

/// Waits until `topic` holds at least `n` messages (read_committed) or the deadline passes.
fn wait_for(brokers: &str, topic: &str, n: usize, deadline: Duration) -> Vec<OwnedMessage> {
    consume_all(brokers, topic, n, Duration::from_millis(500), deadline)
}

#[test]
fn json_messages_come_out_enriched_and_a_graceful_stop_commits_them() {
    let Some(brokers) = tansu() else { return };
    let (input, output, dead) = (unique("in"), unique("out"), unique("dead"));
    create_topics(&brokers, &[&input, &output, &dead], 3);
    let texts = texts(45);
    let mut inputs = json_inputs(&texts, 3);
    inputs.push(Input { key: "null-abstract".into(), partition: 0, payload: Some(br#"{"pmid": -1, "abstract": null}"#.to_vec()) });
    let coordinates = produce(&brokers, &input, &inputs);
    let group = unique("group");

    let stage = Stage::start(&brokers, &group, (&input, &output, &dead), &[]);
    let outputs = wait_for(&brokers, &output, inputs.len(), Duration::from_secs(120));
    let log = stage.stop();
    assert_eq!(outputs.len(), inputs.len(), "{log}");
    assert_eq!(Stage::stopped_counts(&log), (inputs.len() as u64, inputs.len() as u64, 0), "{log}");

    let runtime = ModelRuntime::start(ModelSource::Directory(common::default_model_dir()), RuntimeOptions::default()).expect("model");
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let expected = runtime.annotate(&refs).expect("annotate");
    let mut seen = BTreeSet::new();
    let mut entity_count = 0;
    for message in &outputs {
        let body: Value = serde_json::from_slice(message.payload().expect("payload")).expect("JSON output");
        let pmid = body["pmid"].as_i64().expect("pmid carried");
        let key = String::from_utf8(message.key().expect("key").to_vec()).unwrap();
        assert_eq!(header(message, "sru_ner.source.topic").as_deref(), Some(input.as_str()));
        assert_eq!(body["sru_ner_model"], runtime.model_id());
        if pmid < 0 {
            assert_eq!(key, "null-abstract");
            assert!(body["entities"].is_null(), "a null text gives null entities: {body}");
            continue;
        }
        let i = pmid as usize;
        assert_eq!(key, format!("doc-{i}"));
        assert_eq!(body["journal"], "J Test", "every input field is carried");
        assert_eq!(source(message), coordinates[i], "source headers name the input offset");
        let got = body["entities"].as_array().expect("entities array");
        assert_eq!(got.len(), expected[i].len(), "document {i}: {body}");
        for (g, e) in got.iter().zip(&expected[i]) {
            assert_eq!((g["start"].as_u64(), g["end"].as_u64()), (Some(e.start as u64), Some(e.end as u64)));
            assert_eq!((g["label"].as_str(), g["text"].as_str()), (Some(e.label.as_str()), Some(e.text.as_str())));
            assert!((g["score"].as_f64().unwrap() - e.score as f64).abs() < 1e-4);
            let chars: String = texts[i].chars().skip(e.start).take(e.end - e.start).collect();
            assert_eq!(chars, e.text, "character offsets");
        }
        entity_count += got.len();
        seen.insert(i);
    }
    assert_eq!(seen.len(), texts.len(), "every document once");
    assert!(entity_count > texts.len(), "the model found entities ({entity_count})");

    // The graceful stop committed every offset: the group's committed offsets are the partitions' ends,
    // and a restarted stage in the same group produces nothing new.
    let consumer: BaseConsumer = ClientConfig::new().set("bootstrap.servers", &brokers).set("group.id", &group).create().expect("consumer");
    let mut list = TopicPartitionList::new();
    for p in 0..3 {
        list.add_partition(&input, p);
    }
    let committed = consumer.committed_offsets(list, Duration::from_secs(10)).expect("committed offsets");
    for p in 0..3 {
        let end = coordinates.iter().filter(|(q, _)| *q == p).count() as i64;
        let offset = committed.find_partition(&input, p).unwrap().offset();
        assert_eq!(offset, Offset::Offset(end), "partition {p}");
    }
    drop(consumer);
    let again = Stage::start(&brokers, &group, (&input, &output, &dead), &[]);
    std::thread::sleep(Duration::from_secs(8));
    let log = again.stop();
    assert_eq!(Stage::stopped_counts(&log).0, 0, "nothing is read twice after a graceful stop:\n{log}");
    assert_eq!(consume_all(&brokers, &output, 0, Duration::from_secs(1), Duration::from_secs(10)).len(), inputs.len());
}

#[test]
fn malformed_messages_go_to_the_dead_letter_topic_and_the_valid_ones_around_them_are_kept() {
    let Some(brokers) = tansu() else { return };
    let (input, output, dead) = (unique("in"), unique("out"), unique("dead"));
    create_topics(&brokers, &[&input, &output, &dead], 1);
    let bad: Vec<(&str, Option<Vec<u8>>)> = vec![
        ("invalid_utf8", Some(vec![b'{', 0xff, 0xfe, b'}'])),
        ("invalid_json", Some(b"{\"abstract\": \"unterminated".to_vec())),
        ("not_an_object", Some(b"[\"Aspirin\"]".to_vec())),
        ("missing_text_field", Some(br#"{"title": "no abstract here"}"#.to_vec())),
        ("text_not_a_string", Some(br#"{"abstract": 42}"#.to_vec())),
        ("text_too_large", Some(serde_json::to_vec(&json!({"abstract": "Aspirin. ".repeat(100)})).unwrap())),
        ("empty_payload", None),
    ];
    let good = texts(bad.len() + 1);
    let mut inputs = Vec::new();
    for (i, text) in good.iter().enumerate() {
        inputs.push(Input {
            key: format!("good-{i}"),
            partition: 0,
            payload: Some(serde_json::to_vec(&json!({"abstract": text})).unwrap()),
        });
        if let Some((kind, payload)) = bad.get(i) {
            inputs.push(Input { key: kind.to_string(), partition: 0, payload: payload.clone() });
        }
    }
    let coordinates = produce(&brokers, &input, &inputs);

    let stage = Stage::start(&brokers, &unique("group"), (&input, &output, &dead), &["--max-text-bytes", "500"]);
    let dead_letters = wait_for(&brokers, &dead, bad.len(), Duration::from_secs(120));
    let outputs = wait_for(&brokers, &output, good.len(), Duration::from_secs(60));
    let log = stage.stop();
    assert_eq!(Stage::stopped_counts(&log), (inputs.len() as u64, good.len() as u64, bad.len() as u64), "{log}");

    assert_eq!(outputs.len(), good.len(), "every valid message around the bad ones is enriched");
    let good_keys: BTreeSet<Vec<u8>> = outputs.iter().map(|m| m.key().unwrap().to_vec()).collect();
    assert_eq!(good_keys.len(), good.len());
    assert_eq!(dead_letters.len(), bad.len());
    for message in &dead_letters {
        let key = String::from_utf8(message.key().unwrap().to_vec()).unwrap();
        let (_, payload) = bad.iter().find(|(kind, _)| *kind == key).expect("a bad message's key");
        assert_eq!(header(message, "sru_ner.error.kind").as_deref(), Some(key.as_str()), "reason kind of {key}");
        assert!(header(message, "sru_ner.error").is_some_and(|r| r.len() > 10), "a readable reason for {key}");
        assert_eq!(message.payload().map(<[u8]>::to_vec), *payload, "the original payload of {key}");
        let i = inputs.iter().position(|input| input.key == key).unwrap();
        assert_eq!(source(message), coordinates[i], "source coordinates of {key}");
    }
}

#[test]
fn sigkill_at_random_points_loses_no_input_offset() {
    let Some(brokers) = tansu() else { return };
    let (input, output, dead) = (unique("in"), unique("out"), unique("dead"));
    create_topics(&brokers, &[&input, &output, &dead], 3);
    // Three kills after at most 200 outputs each leave most of the 1,200 inputs to the last run.
    let inputs = json_inputs(&texts(1200), 3);
    let coordinates = produce(&brokers, &input, &inputs);
    let group = unique("group");
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let mut kills = Vec::new();
    // Static membership: a restarted instance takes its killed predecessor's place in the group at once.
    // Without it, the dead member holds its partitions until the broker expires its session, which
    // tansu 0.6 never does.
    let member = ["--kafka", "group.instance.id=sru-ner-stage-1"];
    for _ in 0..3 {
        // Killed at a random point while it works: after a random number of outputs, plus a random delay.
        let stage = Stage::start(&brokers, &group, (&input, &output, &dead), &member);
        let outputs = rng.random_range(20..200);
        stage.wait_for_outputs(outputs, Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(rng.random_range(0..1000)));
        stage.kill();
        kills.push(outputs);
    }
    let produced_before = consume_all(&brokers, &output, 0, Duration::from_secs(1), Duration::from_secs(10)).len();
    assert!(
        produced_before > 0 && produced_before < inputs.len(),
        "{produced_before} outputs: the kills were not in the middle of the work"
    );
    let stage = Stage::start(&brokers, &group, (&input, &output, &dead), &member);
    // Generous: the loop ends as soon as every input has its output. On a 2-core Zen 3 VM, with another
    // test annotating beside this one, the stage ran at about 9 messages/s.
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut outputs;
    loop {
        outputs = consume_all(&brokers, &output, 0, Duration::from_secs(1), Duration::from_secs(20));
        let sources: BTreeSet<(i32, i64)> = outputs.iter().map(source).collect();
        if coordinates.iter().all(|c| sources.contains(c)) || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let log = stage.stop();
    let sources: BTreeSet<(i32, i64)> = outputs.iter().map(source).collect();
    let missing: Vec<_> = coordinates.iter().filter(|c| !sources.contains(c)).collect();
    assert!(missing.is_empty(), "input offsets without output after kills past {kills:?} outputs: {missing:?}\n{log}");
    eprintln!(
        "kills past {kills:?} outputs: {produced_before} outputs before the last run, {} in all for {} inputs ({} duplicates)",
        outputs.len(),
        inputs.len(),
        outputs.len() - inputs.len()
    );
}

#[test]
fn two_instances_in_one_group_split_the_partitions() {
    let Some(brokers) = tansu() else { return };
    let (input, output, dead) = (unique("in"), unique("out"), unique("dead"));
    create_topics(&brokers, &[&input, &output, &dead], 4);
    let group = unique("group");
    let first = Stage::start(&brokers, &group, (&input, &output, &dead), &[]);
    let second = Stage::start(&brokers, &group, (&input, &output, &dead), &[]);
    // Wait for the group to settle: both hold partitions, disjoint, covering all four.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let (Some(a), Some(b)) = (first.last_assignment(), second.last_assignment()) {
            if !a.is_empty() && !b.is_empty() && a.is_disjoint(&b) && a.len() + b.len() == 4 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the group did not split the partitions:\n{}\n---\n{}", first.log_text(), second.log_text());
        std::thread::sleep(Duration::from_millis(200));
    }
    let inputs = json_inputs(&texts(120), 4);
    let coordinates = produce(&brokers, &input, &inputs);
    let outputs = wait_for(&brokers, &output, inputs.len(), Duration::from_secs(120));
    let (log_a, log_b) = (first.stop(), second.stop());
    let (out_a, out_b) = (Stage::stopped_counts(&log_a).1, Stage::stopped_counts(&log_b).1);
    assert!(out_a > 0 && out_b > 0, "both instances worked: {out_a} and {out_b}");
    let sources: BTreeSet<(i32, i64)> = outputs.iter().map(source).collect();
    assert!(coordinates.iter().all(|c| sources.contains(c)), "together they produced every output");
    assert_eq!(out_a + out_b, inputs.len() as u64, "no message was handled twice in a stable group");
}

/// Exactly-once against librdkafka's mock cluster, the one broker here with transactions (tansu has no
/// `EndTxn`). The mock does not store the offsets of `TxnOffsetCommit` (rdkafka_mock_handlers.c only
/// validates them), so a restarted instance cannot resume from a transaction's offsets there; this test
/// checks what the mock can show: a SIGKILL mid-transaction leaves only whole committed batches
/// visible, a restarted instance with the same transactional id fences the dead one at once, and a run
/// gives exactly one committed output per input offset.
#[test]
fn exactly_once_transactions_on_the_mock_cluster() {
    let cluster = MockCluster::new(3).expect("mock cluster");
    let brokers = cluster.bootstrap_servers();
    for topic in ["in", "out-1", "out-2", "dead"] {
        cluster.create_topic(topic, 3, 1).expect("mock topic");
    }
    let inputs = json_inputs(&texts(300), 3);
    let coordinates = produce(&brokers, "in", &inputs);
    let eos = ["--delivery", "exactly-once", "--transactional-id", "sru-ner-test-eos"];

    // Killed in the middle of its work: what is visible to read_committed is a prefix of each input
    // partition (whole batches), each offset once; aborted records are there for read_uncommitted only.
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let stage = Stage::start(&brokers, "eos-1", ("in", "out-1", "dead"), &eos);
    stage.wait_for_outputs(rng.random_range(20..120), Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(rng.random_range(0..1000)));
    stage.kill();

    // The restarted instance (same transactional id) fences the dead one and aborts its open
    // transaction, so read_committed readers are not held back; it annotates everything into out-2.
    let stage = Stage::start(&brokers, "eos-2", ("in", "out-2", "dead"), &eos);
    let outputs = consume_all(&brokers, "out-2", inputs.len(), Duration::from_secs(3), Duration::from_secs(180));
    let log = stage.stop();
    let committed = consume_all(&brokers, "out-1", 0, Duration::from_secs(1), Duration::from_secs(30));
    let uncommitted = consume(&brokers, "out-1", 0, Duration::from_secs(1), Duration::from_secs(30), false);

    let mut per_offset: BTreeMap<(i32, i64), usize> = BTreeMap::new();
    for message in &committed {
        *per_offset.entry(source(message)).or_default() += 1;
    }
    assert!(!committed.is_empty() && committed.len() < inputs.len(), "{} committed: the kill was not mid-work", committed.len());
    assert!(per_offset.values().all(|n| *n == 1), "an offset twice among committed outputs");
    for p in 0..3 {
        let offsets: Vec<i64> = per_offset.keys().filter(|(q, _)| *q == p).map(|(_, o)| *o).collect();
        assert!(offsets.iter().enumerate().all(|(i, o)| *o == i as i64), "partition {p}: committed outputs are not a prefix: {offsets:?}");
    }
    assert!(uncommitted.len() >= committed.len());

    let mut per_offset: BTreeMap<(i32, i64), usize> = BTreeMap::new();
    for message in &outputs {
        *per_offset.entry(source(message)).or_default() += 1;
    }
    let wrong: Vec<_> = coordinates.iter().filter(|c| per_offset.get(c) != Some(&1)).map(|c| (c, per_offset.get(c))).collect();
    assert!(wrong.is_empty(), "offsets without exactly one committed output: {wrong:?}\n{log}");
    assert_eq!(outputs.len(), inputs.len());
    eprintln!(
        "exactly-once: killed run left {} committed and {} written records; the restart gave {} outputs for {} inputs",
        committed.len(),
        uncommitted.len(),
        outputs.len(),
        inputs.len()
    );
}

/// The tansu binary that `scripts/kafka-broker.sh` installed, for tests that need a broker of their own.
fn tansu_binary() -> Option<std::path::PathBuf> {
    let home = std::env::var("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")));
    home.ok().map(|h| h.join("bin/tansu")).filter(|p| p.is_file())
}

/// The body of `GET /metrics` from the stage's Prometheus endpoint.
fn scrape(address: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else { return String::new() };
    let _ = write!(stream, "GET /metrics HTTP/1.0\r\nHost: {address}\r\n\r\n");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

/// The value of metric line `name` (a counter is summed over its labels).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A TCP proxy of our own between the stage and a broker of its own (which advertises
/// the proxy, so every connection goes through it) cuts every connection for 30 s
/// (`SRU_NER_TEST_OUTAGE_SECS`) in the middle of 1,000 messages, then restores them. The stage stays up,
/// logs the outage and its end, counts broker errors, and afterwards every input offset has an output;
/// duplicates, which at-least-once permits for messages in flight at the cut, are counted.
#[test]
fn a_broker_outage_mid_run_loses_no_input_offset() {
    let Some(OutageRun { _broker, proxy, brokers, output, dead, inputs, coordinates, metrics, stage }) = start_outage_run(&[]) else {
        return;
    };
    let outage = outage_length();
    stage.wait_for_outputs(250, Duration::from_secs(180));

    proxy.cut();
    let cut_at = Instant::now();
    let mut reported = false;
    while cut_at.elapsed() < outage {
        reported |= stage.log_text().contains("broker outage: all brokers unreachable");
        std::thread::sleep(Duration::from_millis(500));
    }
    let during = scrape(&metrics);
    let mut stage = stage;
    assert!(stage.child.try_wait().unwrap().is_none(), "the stage exited during the outage:\n{}", stage.log_text());
    assert!(reported, "no outage line during the cut:\n{}", stage.log_text());
    assert!(metric(&during, "sru_ner_stream_broker_errors_total") > 0.0, "no broker error counted:\n{during}");
    assert_eq!(metric(&during, "sru_ner_stream_brokers_up"), 0.0, "brokers up during the cut:\n{during}");
    proxy.restore();

    let outputs = consume_all(&brokers, &output, inputs.len(), Duration::from_secs(3), Duration::from_secs(300));
    // The end of the outage is seen in librdkafka's statistics, which come every 5 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !stage.log_text().contains("broker outage over") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let after = scrape(&metrics);
    let log = stage.stop();
    assert!(log.contains("broker outage over"), "no line saying the outage ended:\n{log}");
    assert!(metric(&after, "sru_ner_stream_brokers_up") >= 1.0, "{after}");
    let mut outputs_per_input: BTreeMap<(i32, i64), usize> = BTreeMap::new();
    for message in &outputs {
        *outputs_per_input.entry(source(message)).or_default() += 1;
    }
    let missing: Vec<_> = coordinates.iter().filter(|c| !outputs_per_input.contains_key(c)).collect();
    assert!(missing.is_empty(), "{} input offsets without an output, e.g. {:?}:\n{log}", missing.len(), &missing[..missing.len().min(5)]);
    assert_eq!(outputs_per_input.len(), inputs.len(), "outputs name only input offsets");
    let duplicates: usize = outputs_per_input.values().map(|n| n - 1).sum();
    let dead_letters = consume_all(&brokers, &dead, 0, Duration::from_secs(1), Duration::from_secs(10)).len();
    assert_eq!(dead_letters, 0);
    eprintln!(
        "outage of {outage:?}: {} outputs for {} inputs ({duplicates} duplicates), {} connections refused, {} broker errors",
        outputs.len(),
        inputs.len(),
        proxy.refused.load(std::sync::atomic::Ordering::SeqCst),
        metric(&after, "sru_ner_stream_broker_errors_total")
    );
}

/// How long the outage tests keep the broker away: `SRU_NER_TEST_OUTAGE_SECS`, 30 by default.
fn outage_length() -> Duration {
    Duration::from_secs(std::env::var("SRU_NER_TEST_OUTAGE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30))
}

/// What both outage tests start from: a broker of their own behind a proxy, 1,000 messages in a
/// 3-partition input topic, and a stage (with its metrics endpoint) reading them.
struct OutageRun {
    _broker: KillOnDrop,
    proxy: CuttableProxy,
    brokers: String,
    output: String,
    dead: String,
    inputs: Vec<Input>,
    coordinates: Vec<(i32, i64)>,
    metrics: String,
    stage: Stage,
}

/// Starts an [`OutageRun`] whose stage gets `extra` arguments; None (SKIPPED) without a broker.
fn start_outage_run(extra: &[&str]) -> Option<OutageRun> {
    tansu()?;
    let Some(tansu) = tansu_binary() else {
        assert!(std::env::var("CI").is_err(), "CI must have the tansu binary that scripts/kafka-broker.sh installs");
        eprintln!("SKIPPED: no tansu binary in $CARGO_HOME/bin");
        return None;
    };
    let (broker, proxy, brokers) = broker_behind_proxy(&tansu);
    let (input, output, dead) = (unique("in"), unique("out"), unique("dead"));
    create_topics(&brokers, &[&input, &output, &dead], 3);
    let inputs = json_inputs(&texts(1000), 3);
    let coordinates = produce(&brokers, &input, &inputs);
    let metrics = format!("127.0.0.1:{}", common::free_port());
    let mut arguments = vec!["--metrics-addr", metrics.as_str()];
    arguments.extend_from_slice(extra);
    let stage = Stage::start(&brokers, &unique("group"), (&input, &output, &dead), &arguments);
    Some(OutageRun { _broker: broker, proxy, brokers, output, dead, inputs, coordinates, metrics, stage })
}

/// A tansu broker of the test's own that advertises a proxy in front of it, so that every client
/// connection goes through the proxy; returns the broker (killed when dropped), the proxy and the
/// bootstrap address.
fn broker_behind_proxy(tansu: &std::path::Path) -> (KillOnDrop, CuttableProxy, String) {
    let mut proxy = CuttableProxy::bind();
    let broker_port = common::free_port();
    let broker = Command::new(tansu)
        .args(["broker", "--listener-url", &format!("tcp://127.0.0.1:{broker_port}")])
        .args(["--advertised-listener-url", &format!("tcp://127.0.0.1:{}", proxy.port), "--storage-engine", "memory://tansu/"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tansu");
    let broker = KillOnDrop(broker);
    common::wait_for_port(broker_port, "tansu");
    proxy.forward_to(broker_port);
    let brokers = format!("127.0.0.1:{}", proxy.port);
    (broker, proxy, brokers)
}

/// The output unreachable while the input still flows. The proxy holds
/// back every Produce request for 30 s while fetches go through. The stage reads at most
/// `--max-in-flight` messages past its last acknowledged output and then pauses its partitions, so its
/// in-flight count and its memory stay bounded (back-pressure, not buffering); once the requests go
/// through, every input offset has an output.
#[test]
fn an_unreachable_output_pauses_the_intake_instead_of_buffering() {
    let max_in_flight = 200;
    let Some(OutageRun { _broker, proxy, brokers, output, inputs, coordinates, metrics, stage, .. }) =
        start_outage_run(&["--max-in-flight", "200"])
    else {
        return;
    };
    let outage = outage_length();
    stage.wait_for_outputs(100, Duration::from_secs(180));

    proxy.hold_produce();
    let held_at = Instant::now();
    std::thread::sleep(Duration::from_secs(5)); // the in-flight window fills
    let (early, rss_early) = (scrape(&metrics), status_mib(&stage.child.id().to_string(), "VmRSS:"));
    std::thread::sleep(outage.saturating_sub(held_at.elapsed()));
    let (late, rss_late) = (scrape(&metrics), status_mib(&stage.child.id().to_string(), "VmRSS:"));
    let (read_early, read_late) = (metric(&early, "sru_ner_stream_messages_in_total"), metric(&late, "sru_ner_stream_messages_in_total"));
    let acknowledged = metric(&late, "sru_ner_stream_messages_out_total");
    let in_flight = metric(&late, "sru_ner_stream_in_flight");
    eprintln!("output held {outage:?}: read {read_early} -> {read_late}, acknowledged {acknowledged}, in flight {in_flight}, RSS {rss_early:.0} -> {rss_late:.0} MiB");
    assert!(read_late < inputs.len() as f64, "the stage read everything while its output was held:\n{late}");
    assert!(in_flight <= (max_in_flight + 16) as f64, "in flight {in_flight} over --max-in-flight {max_in_flight} + one batch");
    assert!(read_late - acknowledged <= (max_in_flight + 16) as f64, "read {read_late}, acknowledged {acknowledged}");
    assert!(rss_late - rss_early < 100.0, "RSS grew from {rss_early:.0} to {rss_late:.0} MiB while the output was held");
    proxy.release_produce();

    let outputs = consume_all(&brokers, &output, inputs.len(), Duration::from_secs(3), Duration::from_secs(300));
    let log = stage.stop();
    let covered: BTreeSet<(i32, i64)> = outputs.iter().map(source).collect();
    let missing = coordinates.iter().filter(|c| !covered.contains(c)).count();
    assert_eq!(missing, 0, "{missing} input offsets without an output:\n{log}");
    eprintln!("{} outputs for {} inputs ({} duplicates)", outputs.len(), inputs.len(), outputs.len() - covered.len());
}

/// Kills the child when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
