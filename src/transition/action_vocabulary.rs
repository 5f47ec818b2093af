/// One action of the transition system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// End of actions: the sentence is done.
    EndOfActions,
    /// Shift: move to the next word.
    Shift,
    /// Transition: open a span of type `t` at the current word.
    Open(usize),
    /// Reduce: close the most recently opened, still open span of type `t` just before the current word.
    Reduce(usize),
}

/// The action set for a type set `E`: `EOA` = 0, `SH` = 1, `TR(t)` = 2 + 2t, `RE(t)` = 3 + 2t, so
/// |A| = 2 + 2|E| (the layout of the reference implementation's `ActionsVocab`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionVocabulary {
    types: Vec<String>,
}

impl ActionVocabulary {
    /// Index of `EOA`.
    pub const EOA: usize = 0;
    /// Index of `SH`.
    pub const SH: usize = 1;

    /// The vocabulary for these entity types, in this order.
    pub fn new(types: Vec<String>) -> Self {
        Self { types }
    }

    /// The entity types, indexed by type id.
    pub fn types(&self) -> &[String] {
        &self.types
    }

    /// The id of the type called `name`, if any.
    pub fn type_id(&self, name: &str) -> Option<usize> {
        self.types.iter().position(|t| t == name)
    }

    /// |A| = 2 + 2|E|.
    pub fn len(&self) -> usize {
        2 + 2 * self.types.len()
    }

    /// Always false: `EOA` and `SH` exist for every type set.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The index of `TR(t)`, for any type set.
    pub const fn open_index(t: usize) -> usize {
        2 + 2 * t
    }

    /// The index of `RE(t)`, for any type set.
    pub const fn reduce_index(t: usize) -> usize {
        3 + 2 * t
    }

    /// The index of an action.
    pub fn index(&self, action: Action) -> usize {
        match action {
            Action::EndOfActions => Self::EOA,
            Action::Shift => Self::SH,
            Action::Open(t) => Self::open_index(t),
            Action::Reduce(t) => Self::reduce_index(t),
        }
    }

    /// The action at an index (`index < self.len()`).
    pub fn action(&self, index: usize) -> Action {
        match index {
            Self::EOA => Action::EndOfActions,
            Self::SH => Action::Shift,
            i if i % 2 == 0 => Action::Open((i - 2) / 2),
            i => Action::Reduce((i - 3) / 2),
        }
    }
}
