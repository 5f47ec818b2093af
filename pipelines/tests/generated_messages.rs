//! Generated input for the Kafka stage's message decoder: any payload under any
//! decoder setting gives a decoded message or a dead-letter reason, never a panic, and a decoded message
//! holds exactly the text found at the configured path by an independent reading of the JSON.
//!
//! The seeds in `fuzz/corpus/message_decoder/` (one payload per file; a failing case found by the
//! generator is added there as a regression) are replayed first under every setting. Generated cases
//! per property: `PROPTEST_CASES` (proptest's default 256 is CI's smoke pass).

use proptest::prelude::*;
use serde_json::{Map, Value};
use sru_ner_pipelines::stream::{decode_message, DeadLetterReason, MessageFormat, StreamConfig};

/// Every decoder setting the properties run under: both formats, plain and dotted text fields, a tiny
/// and the default size limit, all fields or a chosen few carried.
fn settings() -> Vec<StreamConfig> {
    let mut all = Vec::new();
    for format in [MessageFormat::Json, MessageFormat::Text] {
        for text_field in ["abstract", "article.abstract", "a.b"] {
            for max_text_bytes in [8, 1_000_000] {
                for copy_fields in [vec![], vec!["pmid".to_string(), "entities".to_string()]] {
                    all.push(StreamConfig {
                        format,
                        text_field: text_field.into(),
                        max_text_bytes,
                        copy_fields,
                        ..StreamConfig::default()
                    });
                }
            }
        }
    }
    all
}

/// The value at `path` read the decoder's documented way: a field whose own name holds the dots wins,
/// else the dotted walk through nested objects.
fn value_at<'a>(object: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    object.get(path).or_else(|| {
        let mut parts = path.split('.');
        let first = object.get(parts.next()?)?;
        parts.try_fold(first, |value, part| value.as_object()?.get(part))
    })
}

/// Checks one payload under one setting against what the decoder's contract says it must give.
fn check(payload: Option<&[u8]>, config: &StreamConfig) -> Result<(), TestCaseError> {
    let decoded = decode_message(payload, config);
    let Some(bytes) = payload else {
        prop_assert!(matches!(decoded, Err(DeadLetterReason::EmptyPayload)), "a tombstone: {decoded:?}");
        return Ok(());
    };
    let Ok(body) = std::str::from_utf8(bytes) else {
        prop_assert!(matches!(decoded, Err(DeadLetterReason::InvalidUtf8(_))), "not UTF-8: {decoded:?}");
        return Ok(());
    };
    let expected_text = match config.format {
        MessageFormat::Text => Some(body.to_string()),
        MessageFormat::Json => match serde_json::from_str::<Value>(body) {
            Err(_) => {
                prop_assert!(matches!(decoded, Err(DeadLetterReason::InvalidJson(_))), "not JSON: {decoded:?}");
                return Ok(());
            }
            Ok(Value::Object(object)) => match value_at(&object, &config.text_field) {
                None => {
                    prop_assert!(matches!(decoded, Err(DeadLetterReason::MissingTextField(_))), "{body}: {decoded:?}");
                    return Ok(());
                }
                Some(Value::Null) => None,
                Some(Value::String(text)) => Some(text.clone()),
                Some(_) => {
                    prop_assert!(matches!(decoded, Err(DeadLetterReason::TextNotAString { .. })), "{body}: {decoded:?}");
                    return Ok(());
                }
            },
            Ok(_) => {
                prop_assert!(matches!(decoded, Err(DeadLetterReason::NotAnObject(_))), "{body}: {decoded:?}");
                return Ok(());
            }
        },
    };
    if expected_text.as_ref().is_some_and(|t| t.len() > config.max_text_bytes) {
        prop_assert!(matches!(decoded, Err(DeadLetterReason::TextTooLarge { .. })), "{body}: {decoded:?}");
        return Ok(());
    }
    match decoded {
        Ok(message) => {
            prop_assert_eq!(&message.text, &expected_text, "the text at {:?} of {}", config.text_field, body);
            prop_assert!(!message.fields.contains_key(&config.entities_field) && !message.fields.contains_key(&config.model_field));
            if config.format == MessageFormat::Json && !config.copy_fields.is_empty() {
                prop_assert!(message.fields.keys().all(|k| config.copy_fields.contains(k)), "only the chosen fields: {:?}", message.fields);
            }
        }
        // The only other answer the contract allows: an input field named like an output field.
        Err(reason) => prop_assert!(matches!(reason, DeadLetterReason::FieldClash(_)), "{body}: {reason:?}"),
    }
    Ok(())
}

/// JSON values whose keys are the ones the settings look for, nested a few levels.
fn json_value() -> BoxedStrategy<Value> {
    let key =
        prop::sample::select(vec!["abstract", "article", "a", "b", "a.b", "article.abstract", "pmid", "entities", "sru_ner_model", "x"]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        prop::sample::select(vec!["", "IL-2 binds CD28.", "TNF-α and β-catenin", "a.b", "🧬 é\u{301}", "0123456789"]).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
    .boxed()
}

/// Pieces of JSON around the settings' text paths, concatenated into mostly invalid payloads.
fn json_fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"article\"",
        "\"abstract\"",
        "\"article.abstract\"",
        "\"a.b\"",
        "\"entities\"",
        "\"pmid\"",
        "\"IL-2 binds\"",
        "null",
        "3",
        "true",
        "\"\\u00e9\"",
        "\"\\ud800\"",
        " ",
    ])
}

/// Payloads: serialised JSON (mostly objects), the same cut short or with a byte flipped, JSON
/// fragments, and raw bytes.
fn payload() -> impl Strategy<Value = Option<Vec<u8>>> {
    let json = json_value().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()).boxed();
    prop_oneof![
        1 => Just(None),
        6 => json.clone().prop_map(Some),
        2 => (json.clone(), any::<prop::sample::Index>()).prop_map(|(bytes, at)| {
            let cut = if bytes.is_empty() { 0 } else { at.index(bytes.len()) };
            Some(bytes[..cut].to_vec())
        }),
        2 => (json, any::<prop::sample::Index>(), any::<u8>()).prop_map(|(mut bytes, at, byte)| {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            Some(bytes)
        }),
        2 => prop::collection::vec(json_fragment(), 0..20).prop_map(|f| Some(f.concat().into_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Some),
    ]
}

#[test]
fn the_seed_corpus_decodes_or_dead_letters_as_the_contract_says() {
    for (seed, payload) in sru_ner_schemas::test_util::seed_corpus("message_decoder", 8) {
        for config in settings() {
            check(Some(&payload), &config).unwrap_or_else(|e| panic!("seed {}: {e}", seed.display()));
        }
    }
}

proptest! {
    #[test]
    fn any_payload_decodes_or_dead_letters_as_the_contract_says(payload in payload(), setting in any::<prop::sample::Index>()) {
        let settings = settings();
        check(payload.as_deref(), &settings[setting.index(settings.len())])?;
    }
}
