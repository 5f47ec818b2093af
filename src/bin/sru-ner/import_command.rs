//! `sru-ner import`: corpus files into the Parquet corpus store.
use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use sru_ner::corpus::{read_genia_xml, read_iob, read_lu_roth, read_pubtator, CorpusStatistics, CorpusStore};

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `TOKEN<TAB>TAG` per line (IOB2, IOB1 or BIOES tags), blank lines between sentences; `-DOCSTART-`
    /// and `###MEDLINE:` lines mark documents (MTL-Bioinformatics TSVs, JNLPBA).
    Iob,
    /// CoNLL columns (`TOKEN POS CHUNK TAG`): the first column is the token, the last the tag (CoNLL-2003).
    Conll,
    /// The GENIA term corpus XML (GENIAcorpus3.02.xml): nested terms mapped to DNA, RNA, protein,
    /// cell_line, cell_type; sentences in document order (use --sentences for the standard splits).
    GeniaXml,
    /// Lu & Roth (2015) nested format: tokens, POS, `start,end G#type|...`, blank line.
    Luroth,
    /// PubTator (`PMID|t|`, `PMID|a|`, mention lines); documents are split into sentences by sru-ner.
    Pubtator,
}

/// Arguments of `sru-ner import`.
#[derive(Debug, Args)]
#[command(after_help = "Appends to an existing store: STORE/<corpus>/<split>/part-NNNNN.parquet. \
Prints the counts (sentences, mentions per type, nested mentions) at the end.\n\
Example:\n  sru-ner import --format iob --corpus bc2gm --split train --input data/bc2gm/train.tsv \\\n    --output store --rename GENE=Gene_or_protein")]
pub struct ImportArgs {
    /// Input format.
    #[arg(long, value_enum)]
    format: Format,
    /// Corpus name in the store.
    #[arg(long)]
    corpus: String,
    /// Split name in the store (train, dev, test, ...).
    #[arg(long)]
    split: String,
    /// Input file.
    #[arg(long)]
    input: PathBuf,
    /// Store directory.
    #[arg(long)]
    output: PathBuf,
    /// Rename a type: FROM=TO (repeatable), e.g. GENE=Gene_or_protein.
    #[arg(long, value_parser = parse_rename)]
    rename: Vec<(String, String)>,
    /// Keep only sentences START..END of the file (0-based, end exclusive), e.g. to carve a dev split.
    #[arg(long, value_parser = parse_range)]
    sentences: Option<std::ops::Range<usize>>,
    /// The corpus's declared type set, comma-separated [default: the types that occur, after renaming].
    #[arg(long, value_delimiter = ',')]
    types: Vec<String>,
}

fn parse_rename(s: &str) -> Result<(String, String), String> {
    s.split_once('=').map(|(a, b)| (a.to_string(), b.to_string())).ok_or_else(|| format!("expected FROM=TO, got {s:?}"))
}

fn parse_range(s: &str) -> Result<std::ops::Range<usize>, String> {
    let (a, b) = s.split_once("..").ok_or_else(|| format!("expected START..END, got {s:?}"))?;
    let parse = |x: &str| x.parse::<usize>().map_err(|e| format!("{x:?}: {e}"));
    Ok(parse(a)?..parse(b)?)
}

/// Runs the command.
pub fn run(args: ImportArgs) -> Result<()> {
    let mut sentences = match args.format {
        Format::Iob | Format::Conll => read_iob(&args.input)?,
        Format::Luroth => read_lu_roth(&args.input)?,
        Format::GeniaXml => {
            let (sentences, report) = read_genia_xml(&args.input)?;
            println!(
                "{}: {} sentences; {} terms widened to word boundaries, {} duplicate mentions kept once",
                args.input.display(),
                sentences.len(),
                report.widened,
                report.duplicates
            );
            sentences
        }
        Format::Pubtator => {
            let (sentences, report) = read_pubtator(&args.input)?;
            println!(
                "{}: {} documents, {} mentions, {} sentences; {} mentions widened to word boundaries",
                args.input.display(),
                report.documents,
                report.mentions,
                sentences.len(),
                report.widened
            );
            if !report.crossing_sentences.is_empty() {
                eprintln!(
                    "sru-ner: warning: {} mentions cross a sentence boundary of our splitter and are not stored: {}",
                    report.crossing_sentences.len(),
                    report.crossing_sentences.join("; ")
                );
            }
            sentences
        }
    };
    if let Some(range) = &args.sentences {
        if range.end > sentences.len() || range.start > range.end {
            bail!("--sentences {}..{} is outside the {} sentences of {}", range.start, range.end, sentences.len(), args.input.display());
        }
        sentences = sentences[range.clone()].to_vec();
    }
    for sentence in &mut sentences {
        for span in &mut sentence.spans {
            if let Some((_, to)) = args.rename.iter().find(|(from, _)| *from == span.label) {
                span.label = to.clone();
            }
        }
    }
    let occurring: BTreeSet<String> = sentences.iter().flat_map(|s| s.spans.iter().map(|x| x.label.clone())).collect();
    let types: Vec<String> = if args.types.is_empty() { occurring.into_iter().collect() } else { args.types.clone() };
    if let Some(unknown) = sentences.iter().flat_map(|s| &s.spans).find(|x| !types.contains(&x.label)) {
        bail!("type {:?} occurs in {} but is not in --types {}", unknown.label, args.input.display(), types.join(","));
    }
    let stats = CorpusStatistics::of(&sentences);
    let part = CorpusStore::new(&args.output)
        .append(&args.corpus, &args.split, &types, &mut sentences)
        .with_context(|| format!("writing to the store {}", args.output.display()))?;
    println!("imported {}/{}: {stats} -> {}", args.corpus, args.split, part.display());
    Ok(())
}
