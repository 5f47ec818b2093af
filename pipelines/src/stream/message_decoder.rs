//! Turns an input payload into the text to annotate and the fields to carry, or into the reason it goes
//! to the dead-letter topic.
use serde_json::{Map, Value};

use super::stream_config::{MessageFormat, StreamConfig};

/// Why a message cannot be annotated; written to the dead-letter record's `sru_ner.error` header, with
/// [`DeadLetterReason::kind`] in `sru_ner.error.kind`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeadLetterReason {
    /// The message has no payload (a tombstone).
    #[error("the message has no payload")]
    EmptyPayload,
    /// The payload is not valid UTF-8.
    #[error("the payload is not valid UTF-8: {0}")]
    InvalidUtf8(String),
    /// The payload is not JSON.
    #[error("the payload is not valid JSON: {0}")]
    InvalidJson(String),
    /// The payload is JSON but not an object.
    #[error("the payload is a JSON {0}, not an object")]
    NotAnObject(&'static str),
    /// The text field is absent.
    #[error("no text field {0:?}")]
    MissingTextField(String),
    /// The text field holds something other than a string or null.
    #[error("the text field {field:?} is a JSON {found}, not a string")]
    TextNotAString {
        /// The text field's path in the message.
        field: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// The text is longer than `max_text_bytes`.
    #[error("the text is {bytes} bytes, over the limit of {limit} (max_text_bytes)")]
    TextTooLarge {
        /// The text's size in bytes.
        bytes: usize,
        /// The limit (`max_text_bytes`).
        limit: usize,
    },
    /// The message already has a field where the stage writes its results.
    #[error("the message already has a field {0:?}; choose another entities_field/model_field")]
    FieldClash(String),
    /// The model failed on this message alone.
    #[error("the model failed on this message: {0}")]
    ModelFailed(String),
}

impl DeadLetterReason {
    /// A short stable name for metrics labels and the `sru_ner.error.kind` header.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::EmptyPayload => "empty_payload",
            Self::InvalidUtf8(_) => "invalid_utf8",
            Self::InvalidJson(_) => "invalid_json",
            Self::NotAnObject(_) => "not_an_object",
            Self::MissingTextField(_) => "missing_text_field",
            Self::TextNotAString { .. } => "text_not_a_string",
            Self::TextTooLarge { .. } => "text_too_large",
            Self::FieldClash(_) => "field_clash",
            Self::ModelFailed(_) => "model_failed",
        }
    }
}

/// A message ready for the model: its text (`None` when the text field is JSON null, which gives
/// `entities: null`, as SQL's `sru_ner(NULL)` does) and the fields the output carries.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedMessage {
    /// The text to annotate.
    pub text: Option<String>,
    /// The output object so far: the carried input fields (JSON) or `{"text": ...}` (text format).
    pub fields: Map<String, Value>,
}

/// Decodes one payload according to the stage's format, text field and limits.
pub fn decode_message(payload: Option<&[u8]>, config: &StreamConfig) -> Result<DecodedMessage, DeadLetterReason> {
    let payload = payload.ok_or(DeadLetterReason::EmptyPayload)?;
    let body = std::str::from_utf8(payload).map_err(|e| DeadLetterReason::InvalidUtf8(e.to_string()))?;
    let (text, fields) = match config.format {
        MessageFormat::Text => {
            let mut fields = Map::new();
            fields.insert("text".into(), Value::String(body.to_string()));
            (Some(body.to_string()), fields)
        }
        MessageFormat::Json => {
            let object = match serde_json::from_str::<Value>(body).map_err(|e| DeadLetterReason::InvalidJson(e.to_string()))? {
                Value::Object(object) => object,
                other => return Err(DeadLetterReason::NotAnObject(json_kind(&other))),
            };
            let text = match lookup_path(&object, &config.text_field) {
                None => return Err(DeadLetterReason::MissingTextField(config.text_field.clone())),
                Some(Value::Null) => None,
                Some(Value::String(text)) => Some(text.clone()),
                Some(other) => return Err(DeadLetterReason::TextNotAString { field: config.text_field.clone(), found: json_kind(other) }),
            };
            let fields = if config.copy_fields.is_empty() {
                object
            } else {
                object.into_iter().filter(|(name, _)| config.copy_fields.contains(name)).collect()
            };
            (text, fields)
        }
    };
    if let Some(text) = &text {
        if text.len() > config.max_text_bytes {
            return Err(DeadLetterReason::TextTooLarge { bytes: text.len(), limit: config.max_text_bytes });
        }
    }
    for reserved in [&config.entities_field, &config.model_field] {
        if fields.contains_key(reserved) {
            return Err(DeadLetterReason::FieldClash(reserved.clone()));
        }
    }
    Ok(DecodedMessage { text, fields })
}

/// The value at a dotted path (`article.abstract`); a field whose own name holds the dots wins.
fn lookup_path<'a>(object: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = object.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let mut value = object.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_config() -> StreamConfig {
        StreamConfig { text_field: "article.abstract".into(), max_text_bytes: 20, ..Default::default() }
    }

    #[test]
    fn finds_nested_text_and_keeps_every_field() {
        let payload = br#"{"pmid": 7, "article": {"abstract": "IL-2 binds"}}"#;
        let decoded = decode_message(Some(payload), &json_config()).unwrap();
        assert_eq!(decoded.text.as_deref(), Some("IL-2 binds"));
        assert_eq!(decoded.fields.keys().collect::<Vec<_>>(), ["pmid", "article"]);

        let only_pmid = StreamConfig { copy_fields: vec!["pmid".into()], ..json_config() };
        let decoded = decode_message(Some(payload), &only_pmid).unwrap();
        assert_eq!(decoded.fields.keys().collect::<Vec<_>>(), ["pmid"]);
    }

    #[test]
    fn null_text_is_annotated_as_null_not_dead() {
        let decoded = decode_message(Some(br#"{"article": {"abstract": null}}"#), &json_config()).unwrap();
        assert_eq!(decoded.text, None);
    }

    #[test]
    fn each_bad_message_gets_its_own_reason() {
        let config = json_config();
        let kind = |payload: Option<&[u8]>| decode_message(payload, &config).unwrap_err().kind();
        assert_eq!(kind(None), "empty_payload");
        assert_eq!(kind(Some(&[0xff, 0xfe])), "invalid_utf8");
        assert_eq!(kind(Some(b"{\"article\": ")), "invalid_json");
        assert_eq!(kind(Some(b"[1, 2]")), "not_an_object");
        assert_eq!(kind(Some(b"{\"pmid\": 1}")), "missing_text_field");
        assert_eq!(kind(Some(br#"{"article": {"abstract": 3}}"#)), "text_not_a_string");
        assert_eq!(kind(Some(br#"{"article": {"abstract": "a text far over twenty bytes"}}"#)), "text_too_large");
        assert_eq!(kind(Some(br#"{"article": {"abstract": "x"}, "entities": []}"#)), "field_clash");
    }

    #[test]
    fn text_format_takes_the_whole_payload() {
        let config = StreamConfig { format: MessageFormat::Text, ..Default::default() };
        let decoded = decode_message(Some("Aspirin ✓".as_bytes()), &config).unwrap();
        assert_eq!(decoded.text.as_deref(), Some("Aspirin ✓"));
        assert_eq!(decoded.fields["text"], "Aspirin ✓");
    }
}
