use serde::{Deserialize, Serialize};

/// One recognised entity mention in a document.
///
/// `start` and `end` are offsets in Unicode scalar values (Rust `char`s, Python `str` indices), end
/// exclusive, into the text that was annotated, so `text.chars().skip(start).take(end - start)` equals
/// [`Entity::text`]. Mentions may nest and overlap (a `protein` inside a `DNA` span, say).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// First character of the mention (inclusive), in Unicode scalar values.
    pub start: usize,
    /// One past the last character of the mention, in Unicode scalar values.
    pub end: usize,
    /// The entity type, as named in the model's type set (e.g. `protein`, `Chemical`).
    pub label: String,
    /// The mention's surface text, exactly as it appears in the input.
    pub text: String,
    /// Confidence in (0, 1]: the geometric mean of the probabilities of the span's opening and closing
    /// actions.
    pub score: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_the_documented_field_names() {
        let e = Entity { start: 3, end: 7, label: "Chemical".into(), text: "NaCl".into(), score: 0.5 };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"start":3,"end":7,"label":"Chemical","text":"NaCl","score":0.5}"#);
        let back: Entity = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }
}
