//! The Kafka stage at saturation against the bulk runtime in the same run, and its end-to-end latency at
//! half load, on one model instance.
//!
//! Sample: the abstract lines of the first N (default 600) `pubmed_raw` files.
//! - runtime: the bulk job's model path (two threads, 256 abstracts per `annotate`), on the same model;
//! - saturation: the N abstracts are produced to a 3-partition topic first; the stage (in this process,
//!   at-least-once, batch 256) starts, and the time runs from its start to the N-th enriched message read
//!   back, consumer-group join included;
//! - half load: a producer thread sends abstracts at half the measured saturation rate for 40 s; the
//!   latency of each is the time its output is read back minus the input's CreateTime timestamp.
//!
//! Needs a broker: `bash scripts/kafka-broker.sh start` prints the address; then
//! `SRU_NER_TEST_KAFKA=127.0.0.1:19092 cargo bench --bench stream` (env: SRU_NER_BENCH_ABSTRACTS,
//! SRU_NER_BENCH_MODEL=dir, SRU_NER_BENCH_SECONDS=40, SRU_NER_BENCH_FETCH_WAIT_MS=<fetch.wait.max.ms of the
//! stage and the reader> [default: the stage's]). At the end it prints the stage's own latency and batch
//! histograms from its Prometheus endpoint. SRU_NER_BENCH_SOAK_MINUTES=30 then runs the soak: the `sru-ner
//! stream` command in its own process at the same half load for that long, its RSS sampled every minute.
mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{env_or, peak_rss_mib};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use sru_ner::runtime::{ModelRuntime, ModelSource, RuntimeOptions};
use sru_ner::Annotator;
use sru_ner_pipelines::stream::{run_stream_stage, StreamConfig};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn produce(producer: &BaseProducer, topic: &str, i: usize, text: &str) {
    let payload = serde_json::to_vec(&serde_json::json!({"pmid": i, "abstract": text})).unwrap();
    let key = i.to_string();
    loop {
        match producer.send(BaseRecord::to(topic).key(&key).payload(&payload).partition((i % 3) as i32)) {
            Ok(()) => break,
            Err((_, _)) => producer.poll(Duration::from_millis(10)),
        }
    }
    producer.poll(Duration::ZERO);
}

/// The consumers' `fetch.wait.max.ms`: SRU_NER_BENCH_FETCH_WAIT_MS, or the stage's default.
fn fetch_wait_ms() -> Option<String> {
    std::env::var("SRU_NER_BENCH_FETCH_WAIT_MS").ok()
}

/// A reader of `topic` from the beginning; returns per message (receipt time in ms, input timestamp).
fn read(brokers: &str, topic: &str, n: usize, limit: Duration) -> Vec<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("bench-reader-{}", now_ms()))
        .set("fetch.wait.max.ms", fetch_wait_ms().unwrap_or_else(|| sru_ner_pipelines::stream::FETCH_WAIT_MS.into()))
        .create()
        .expect("consumer");
    let mut list = TopicPartitionList::new();
    for p in 0..3 {
        list.add_partition_offset(topic, p, Offset::Beginning).unwrap();
    }
    consumer.assign(&list).unwrap();
    let started = Instant::now();
    let mut receipts = Vec::with_capacity(n);
    while receipts.len() < n && started.elapsed() < limit {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(50)) {
            let body: serde_json::Value = serde_json::from_slice(message.payload().unwrap()).unwrap();
            let sent = body["sent_ms"].as_i64().unwrap_or(0);
            receipts.push(if sent > 0 { now_ms() - sent } else { now_ms() });
        }
    }
    receipts
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    common::print_machine();
    let Ok(brokers) = std::env::var("SRU_NER_TEST_KAFKA") else {
        eprintln!("SKIPPED: no broker; run `bash scripts/kafka-broker.sh start` and set SRU_NER_TEST_KAFKA");
        return;
    };
    let n: usize = env_or("SRU_NER_BENCH_ABSTRACTS", 600);
    let seconds: u64 = env_or("SRU_NER_BENCH_SECONDS", 40);
    let Some(abstracts) = common::pubmed_abstract_lines(n) else {
        eprintln!("SKIPPED: ../shared/data/pubmed_raw is absent");
        return;
    };
    let root = common::repo();
    let model = std::env::var("SRU_NER_BENCH_MODEL").map(PathBuf::from).unwrap_or_else(|_| root.join("models/default"));
    // The precision the `stream` command serves by default (auto: bf16 on a CPU with AVX512-BF16 or a GPU of compute capability ≥ 8.0).
    let options = RuntimeOptions { precision: None, ..RuntimeOptions::default() };
    let runtime = Arc::new(ModelRuntime::start(ModelSource::Directory(model.clone()), options).expect("model"));
    let chars: usize = abstracts.iter().map(|a| a.chars().count()).sum();
    eprintln!("sample: {} abstracts, {chars} characters; model {} ({})", abstracts.len(), model.display(), runtime.precision());
    common::runtime_alone(&runtime, &abstracts[..50.min(abstracts.len())]); // warm-up

    let started = Instant::now();
    let entities = common::runtime_alone(&runtime, &abstracts);
    let runtime_s = started.elapsed().as_secs_f64();
    let runtime_rate = abstracts.len() as f64 / runtime_s;
    eprintln!("runtime: {runtime_s:.1} s, {runtime_rate:.2} abstracts/s, {entities} entities");

    let tag = now_ms();
    let (input, output, dead) = (format!("bench-in-{tag}"), format!("bench-out-{tag}"), format!("bench-dead-{tag}"));
    let (input2, output2) = (format!("bench-in2-{tag}"), format!("bench-out2-{tag}"));
    let (input3, output3) = (format!("bench-in3-{tag}"), format!("bench-out3-{tag}"));
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio");
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new().set("bootstrap.servers", &brokers).create().unwrap();
    let topics: Vec<NewTopic<'_>> = [&input, &output, &dead, &input2, &output2, &input3, &output3]
        .iter()
        .map(|t| NewTopic::new(t, 3, TopicReplication::Fixed(1)))
        .collect();
    tokio.block_on(admin.create_topics(&topics, &AdminOptions::new())).expect("topics");

    // Saturation: everything waiting before the stage starts.
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", &brokers).create().unwrap();
    for (i, text) in abstracts.iter().enumerate() {
        produce(&producer, &input, i, text);
    }
    producer.flush(Duration::from_secs(60)).unwrap();
    // The stage's Prometheus endpoint, read at the end of the half-load run for its own latency histogram.
    let metrics_addr = format!("127.0.0.1:{}", common::free_port());
    let config = |input: &str, output: &str| StreamConfig {
        brokers: brokers.clone(),
        group: format!("bench-{tag}-{input}"),
        input_topics: vec![input.to_string()],
        output_topic: output.to_string(),
        dead_letter_topic: dead.clone(),
        text_field: "abstract".into(),
        metrics_addr: metrics_addr.clone(),
        log_interval_secs: 0,
        kafka: fetch_wait_ms().map(|ms| [("fetch.wait.max.ms".to_string(), ms)].into()).unwrap_or_default(),
        ..StreamConfig::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stage = tokio.spawn(run_stream_stage(config(&input, &output), runtime.clone() as Arc<dyn Annotator>, async {
        let _ = stopped.await;
    }));
    let started = Instant::now();
    let got = read(&brokers, &output, abstracts.len(), Duration::from_secs(3600)).len();
    let stage_s = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    let summary = tokio.block_on(stage).unwrap().expect("stage");
    assert_eq!(got, abstracts.len());
    assert_eq!(summary.messages_dead, 0);
    let stage_rate = abstracts.len() as f64 / stage_s;
    eprintln!("stage at saturation: {stage_s:.1} s, {stage_rate:.2} abstracts/s");

    // Half load: the stage waits for messages that arrive at half the saturation rate.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stage = tokio.spawn(run_stream_stage(config(&input2, &output2), runtime.clone() as Arc<dyn Annotator>, async {
        let _ = stopped.await;
    }));
    std::thread::sleep(Duration::from_secs(5)); // let the stage join its group first
    let rate = stage_rate / 2.0;
    let count = (rate * seconds as f64) as usize;
    let sender = send_at_rate(&brokers, &input2, &abstracts, rate, count);
    let mut latencies = read(&brokers, &output2, count, Duration::from_secs(seconds + 120));
    sender.join().unwrap();
    let stage_metrics = http_get(&metrics_addr, "/metrics");
    let _ = stop.send(());
    tokio.block_on(stage).unwrap().expect("stage");
    latencies.sort_unstable();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));

    println!("\n== stream stage (tansu broker on loopback, {} abstracts, same model instance)", abstracts.len());
    println!("runtime alone     {runtime_s:>7.1} s  {runtime_rate:>6.2} abstracts/s");
    println!("stage, saturated  {stage_s:>7.1} s  {stage_rate:>6.2} abstracts/s  (group join included)");
    println!("stage / runtime = {:.3}", stage_rate / runtime_rate);
    println!("half load: {rate:.2} abstracts/s for {seconds} s, {} messages: latency p50 {p50} ms, p99 {p99} ms", latencies.len());
    println!("peak RSS {:.0} MiB", peak_rss_mib());
    let soak_minutes: u64 = env_or("SRU_NER_BENCH_SOAK_MINUTES", 0);
    if soak_minutes > 0 {
        soak(&brokers, (&input3, &output3, &dead), &abstracts, &model, rate, soak_minutes);
    }
    println!("the stage's own histograms at half load (read -> output acknowledged; messages per batch):");
    for line in
        stage_metrics.lines().filter(|l| l.starts_with("sru_ner_stream_latency_seconds") || l.starts_with("sru_ner_stream_batch_size"))
    {
        println!("  {line}");
    }
}

/// A thread that sends `count` abstracts to `topic` at `rate` per second, each with its send time.
fn send_at_rate(brokers: &str, topic: &str, abstracts: &[String], rate: f64, count: usize) -> std::thread::JoinHandle<()> {
    let (brokers, topic, abstracts) = (brokers.to_string(), topic.to_string(), abstracts.to_vec());
    std::thread::spawn(move || {
        let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", &brokers).set("linger.ms", "0").create().unwrap();
        let started = Instant::now();
        for i in 0..count {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let text = &abstracts[i % abstracts.len()];
            let payload = serde_json::to_vec(&serde_json::json!({"pmid": i, "abstract": text, "sent_ms": now_ms()})).unwrap();
            let key = i.to_string();
            while producer.send(BaseRecord::to(&topic).key(&key).payload(&payload)).is_err() {
                producer.poll(Duration::from_millis(5));
            }
            producer.poll(Duration::ZERO);
        }
        producer.flush(Duration::from_secs(30)).unwrap();
    })
}

/// The soak (SRU_NER_BENCH_SOAK_MINUTES): the `sru-ner stream` command as a user runs it (its own process,
/// default settings) at `rate` messages/s for `minutes`; prints its resident set size each minute, the
/// end-to-end latency and its own latency histogram.
fn soak(brokers: &str, (input, output, dead): (&str, &str, &str), abstracts: &[String], model: &std::path::Path, rate: f64, minutes: u64) {
    let metrics_addr = format!("127.0.0.1:{}", common::free_port());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sru-ner"))
        .args(["stream", "--brokers", brokers, "--group", &format!("soak-{input}"), "--input-topic", input])
        .args(["--output-topic", output, "--dead-letter-topic", dead, "--text-field", "abstract"])
        .args(["--metrics-addr", &metrics_addr, "--log-interval-secs", "60", "--model"])
        .arg(model)
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("sru-ner stream");
    let pid = child.id().to_string();
    std::thread::sleep(Duration::from_secs(10)); // model load and group join
    let count = (rate * 60.0 * minutes as f64) as usize;
    let sender = send_at_rate(brokers, input, abstracts, rate, count);
    let reader = {
        let (brokers, output) = (brokers.to_string(), output.to_string());
        std::thread::spawn(move || read(&brokers, &output, count, Duration::from_secs(60 * minutes + 120)))
    };
    let mut samples = vec![(0, common::status_mib(&pid, "VmRSS:"))];
    for minute in 1..=minutes {
        std::thread::sleep(Duration::from_secs(60));
        samples.push((minute, common::status_mib(&pid, "VmRSS:")));
        eprintln!("soak minute {minute}: RSS {:.0} MiB", samples.last().unwrap().1);
    }
    sender.join().unwrap();
    let mut latencies = reader.join().unwrap();
    let metrics = http_get(&metrics_addr, "/metrics");
    // SAFETY: a plain signal to our own child; it stops gracefully on SIGTERM.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().expect("wait for sru-ner stream");
    latencies.sort_unstable();
    println!(
        "\n== soak: `sru-ner stream` (own process), {rate:.2} messages/s for {minutes} min, {} of {count} read back, exit {status}",
        latencies.len()
    );
    let (p50, p99) = if latencies.is_empty() { (0, 0) } else { (percentile(&latencies, 0.5), percentile(&latencies, 0.99)) };
    println!("end-to-end latency p50 {p50} ms, p99 {p99} ms");
    let max = samples.iter().map(|s| s.1).fold(0.0, f64::max);
    println!(
        "RSS at start {:.0} MiB, after 1 min {:.0} MiB, at the end {:.0} MiB, highest sample {max:.0} MiB",
        samples[0].1,
        samples[1.min(samples.len() - 1)].1,
        samples.last().unwrap().1
    );
    for line in metrics.lines().filter(|l| l.starts_with("sru_ner_stream_latency_seconds")) {
        println!("  {line}");
    }
}

/// The body of `GET path` from a plain HTTP/1.0 server at `addr` (the stage's metrics endpoint).
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("metrics endpoint");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or(response)
}
