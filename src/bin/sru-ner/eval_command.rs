//! `sru-ner eval`: span precision/recall/F1 of a model on a corpus split of the store.
use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use sru_ner::corpus::CorpusStore;
use sru_ner::evaluation::{evaluate_all, probe_gold_actions, Scoring, SpanMatch};
use sru_ner::model::SruNerModel;
use sru_ner::runtime::{parse_device, Precision, RuntimeOptions};

use crate::option_choices::{EvaluationModeChoice, PrecisionChoice};

use crate::model_args::default_model_dir;

/// Arguments of `sru-ner eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model directory [default: the committed default model].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Corpus store.
    #[arg(long)]
    store: PathBuf,
    /// Corpus name.
    #[arg(long)]
    corpus: String,
    /// Split.
    #[arg(long)]
    split: String,
    /// disjoint: drop predicted types the corpus does not annotate; merged: count them as errors.
    #[arg(long, value_enum, default_value = "disjoint")]
    mode: EvaluationModeChoice,
    /// Score predictions of type FROM as type TO, for a corpus whose type covers several model types:
    /// `--count-as DNA=Gene_or_protein --count-as RNA=Gene_or_protein` on BC2GM, whose GENE mentions
    /// include the DNA and RNA names that JNLPBA types apart (repeatable; the JSON report lists them).
    #[arg(long = "count-as", value_name = "FROM=TO", value_parser = parse_count_as)]
    count_as: Vec<(String, String)>,
    /// Match a prediction to a gold mention of its type when its start and end are each within N
    /// characters of the mention's (each mention matched once), instead of the same words. Characters
    /// are counted over the words without the spaces between them, as the original text joins a
    /// bracket or hyphen to its word. 1 is the cross-corpus scorer of HunFlair2, so that one corpus's
    /// convention on a bracket or hyphen at an edge does not decide.
    #[arg(long, value_name = "N")]
    char_tolerance: Option<usize>,
    /// Score only the outermost predictions (a prediction inside another of a type the corpus annotates
    /// is left out), for a corpus that keeps only the outermost of nested mentions, such as JNLPBA.
    #[arg(long)]
    outermost_only: bool,
    /// Print JSON: `micro`, `per_type`, `nested` with precision/recall/f1 in 0-1, and `unknown_types`;
    /// with `--char-tolerance` or `--outermost-only`, also `strict`: the same predictions scored with
    /// strict matching, all of them.
    #[arg(long)]
    json: bool,
    /// Device: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Encoder precision: fp32 (as trained: the model card's figures) by default, or bf16, int8 or auto
    /// (what `annotate` serves by default) to measure what they cost in F1. As in `annotate`, bf16
    /// covers the head's decoding products on a GPU, not on the CPU; int8 runs on the CPU only.
    #[arg(long, value_enum, default_value = "fp32")]
    precision: PrecisionChoice,
    /// Instead of F1: run the head teacher-forced on the gold actions (every type treated as
    /// annotated) and count the gold TR/RE actions it finds likely (p > 0.5) but that lose the
    /// timestep's argmax to SH, so greedy decoding never takes them (a diagnostic of the multi-task rule).
    #[arg(long)]
    probe: bool,
    /// Decode with this threshold for the TR/RE actions of a timestep instead of the paper's 0.5 (a
    /// diagnostic: does the head rank a missed action likely but below 0.5? Its effect on GENIA dev is
    /// in experiments/README.md). For the dev split: never tune on test.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    action_threshold: Option<f32>,
}

/// A probability strictly between 0 and 1, for `--action-threshold`.
fn parse_probability(value: &str) -> Result<f32, String> {
    match value.parse::<f32>() {
        Ok(p) if p > 0.0 && p < 1.0 => Ok(p),
        _ => Err(format!("expected a probability strictly between 0 and 1, got {value:?}")),
    }
}

/// `FROM=TO` of `--count-as`.
fn parse_count_as(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((from, to)) if !from.is_empty() && !to.is_empty() => Ok((from.to_string(), to.to_string())),
        _ => Err(format!("expected FROM=TO (a model type and the corpus type to score it as), got {value:?}")),
    }
}

/// Runs the command.
pub fn run(args: EvalArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    let dir = args.model.clone().unwrap_or_else(default_model_dir);
    let mut model = SruNerModel::load(&dir, device).with_context(|| format!("loading {}", dir.display()))?;
    let precision = args.precision.precision().unwrap_or_else(|| Precision::auto_for(device));
    precision.apply_to(&mut model, None).with_context(|| format!("serving {} in {precision}", dir.display()))?;
    if let Some(threshold) = args.action_threshold {
        model.set_action_threshold(threshold);
    }
    let sentences = CorpusStore::new(&args.store).read(&args.corpus, &args.split)?;
    anyhow::ensure!(!sentences.is_empty(), "no sentences for {}/{} in {}", args.corpus, args.split, args.store.display());
    if args.probe {
        let probe = probe_gold_actions(&model, &sentences)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&probe)?);
            return Ok(());
        }
        println!("{} {}/{}: teacher-forced probe over {} sentences", model.manifest().model_id(), args.corpus, args.split, probe.sentences);
        let row = |name: &str, c: &sru_ner::evaluation::GoldActionCounts| {
            println!(
                "  {name:<18} gold TR/RE {:6}  p > 0.5 {:6}  of which SH wins {:6} ({:.1} % of gold)",
                c.gold,
                c.likely,
                c.likely_but_shift_wins,
                100.0 * c.shift_wins_share()
            )
        };
        row("all", &probe.all);
        for (t, c) in &probe.per_type {
            row(t, c);
        }
        return Ok(());
    }
    let count_as: BTreeMap<String, String> = args.count_as.iter().cloned().collect();
    for from in count_as.keys() {
        anyhow::ensure!(
            model.vocabulary().types().contains(from),
            "--count-as {from}=...: the model has no type {from} (its types: {})",
            model.vocabulary().types().join(", ")
        );
    }
    let scoring = Scoring {
        mode: args.mode.into(),
        count_as: count_as.clone(),
        span_match: args.char_tolerance.map_or(SpanMatch::Strict, SpanMatch::Characters),
        outermost_only: args.outermost_only,
    };
    // With another scorer than the strict one, the same predictions are also scored strictly (all of
    // them, no character tolerance), so that one pass over the split gives both.
    let plain = Scoring { span_match: SpanMatch::Strict, outermost_only: false, ..scoring.clone() };
    let changed = args.char_tolerance.is_some() || args.outermost_only;
    let scorings = if changed { vec![scoring, plain] } else { vec![scoring] };
    let mut reports = evaluate_all(&model, &sentences, &scorings, &RuntimeOptions { device, ..RuntimeOptions::default() })?;
    let strict = if changed { reports.pop() } else { None };
    let report = reports.remove(0);
    if args.json {
        let mut json = report.to_json();
        json["count_as"] = serde_json::json!(count_as);
        json["action_threshold"] = serde_json::json!(model.action_threshold());
        json["outermost_only"] = serde_json::json!(args.outermost_only);
        if let Some(strict) = &strict {
            let full = strict.to_json();
            json["strict"] = serde_json::json!({"micro": full["micro"], "per_type": full["per_type"]});
        }
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    println!(
        "{} {}/{} ({} sentences, {:?} mode, action threshold {})",
        model.manifest().model_id(),
        args.corpus,
        args.split,
        report.sentences,
        args.mode,
        model.action_threshold()
    );
    for (from, to) in &count_as {
        println!("  predictions of type {from} are scored as {to}");
    }
    if let Some(n) = args.char_tolerance {
        println!("  a prediction matches when each end is within {n} characters of a mention's");
    }
    if args.outermost_only {
        println!("  only the outermost predictions are scored");
    }
    let row = |name: &str, s: &sru_ner::evaluation::SpanScores| {
        println!(
            "  {name:<18} P {:6.2}  R {:6.2}  F1 {:6.2}  (tp {}, fp {}, fn {})",
            100.0 * s.precision(),
            100.0 * s.recall(),
            100.0 * s.f1(),
            s.tp,
            s.fp,
            s.fn_
        )
    };
    row("micro", &report.micro);
    for (t, s) in &report.per_type {
        row(t, s);
    }
    row("nested", &report.nested);
    if let Some(strict) = &strict {
        row("micro, strict", &strict.micro);
    }
    if !report.unknown_types.is_empty() {
        println!("  not scored (types the model does not know): {}", report.unknown_types.join(", "));
    }
    Ok(())
}
