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

impl Entity {
    /// Sorts `entities` in the order [`Annotator::annotate`](crate::Annotator::annotate) promises:
    /// by start, then longest first (an outer mention before the ones nested in it), then by label.
    pub fn sort_in_document_order(entities: &mut [Entity]) {
        entities.sort_by(|a, b| (a.start, std::cmp::Reverse(a.end), &a.label).cmp(&(b.start, std::cmp::Reverse(b.end), &b.label)));
    }
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

    #[test]
    fn document_order_is_start_then_longest_then_label() {
        let e = |start, end, label: &str| Entity { start, end, label: label.into(), text: String::new(), score: 1.0 };
        let mut entities = vec![e(4, 6, "b"), e(0, 2, "b"), e(0, 9, "b"), e(0, 2, "a")];
        Entity::sort_in_document_order(&mut entities);
        let order: Vec<_> = entities.iter().map(|x| (x.start, x.end, x.label.as_str())).collect();
        assert_eq!(order, [(0, 9, "b"), (0, 2, "a"), (0, 2, "b"), (4, 6, "b")]);
    }
}
