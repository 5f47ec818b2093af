use tch::nn;
use tch::{Kind, Reduction, Tensor};

use super::{ActionHead, ActionMemory, GoldActions, HeadConfig, LatentAttention, MemoryState, ShiftTarget};
use crate::transition::ActionVocabulary;

/// The SRU-NER head as a transition-based parser over a batch of sentence matrices S (B, Q, d).
///
/// Each timestep (model.md §2): logits from `[S_w ; ctx]`; write-back of the weighted action embedding
/// into `C[m]`; a new read-out `ctx` around m; then the pointers advance when the timestep's action is
/// `SH` or `EOA` (the gold action in training, the argmax at inference). The word pointer w and the
/// memory pointer m are the same slot index: `[CLS]` is slot 0, word i is slot i, `[SEP]` is slot N+1.
#[derive(Debug)]
pub struct SruParser {
    memory: ActionMemory,
    attention: LatentAttention,
    head: ActionHead,
    config: HeadConfig,
}

/// What a teacher-forced pass produces, ready for the loss.
#[derive(Debug)]
pub struct TeacherForcedOutput {
    /// Logits of every timestep, (B, T, |A|).
    pub logits: Tensor,
    /// Targets after the multi-task rule, (B, T, |A|), detached.
    pub targets: Tensor,
    /// 1.0 where a sentence had a gold timestep, (B, T).
    pub step_mask: Tensor,
}

impl TeacherForcedOutput {
    /// The multi-label soft-margin loss: mean BCE over actions, averaged over the masked timesteps.
    pub fn loss(&self) -> Tensor {
        self.summed_loss() / self.step_mask.sum(Kind::Float).clamp_min(1.0)
    }

    /// The loss summed over the masked timesteps (for averaging over several passes).
    pub fn summed_loss(&self) -> Tensor {
        let per_action = self.logits.binary_cross_entropy_with_logits::<Tensor>(&self.targets, None, None, Reduction::None);
        let per_step = per_action.mean_dim(-1, false, Kind::Float);
        (per_step * &self.step_mask).sum(Kind::Float)
    }

    /// How many timesteps count in the loss.
    pub fn counted_steps(&self) -> f64 {
        self.step_mask.sum(Kind::Float).double_value(&[])
    }
}

/// What greedy decoding produces.
#[derive(Debug)]
pub struct GreedyDecoding {
    /// σ(u) of every timestep, (B, T, |A|), on the model's device.
    pub probabilities: Tensor,
    /// How many timesteps of each sentence count (its step cap; the decoder also stops at `EOA`).
    pub steps: Vec<usize>,
}

impl SruParser {
    /// Builds the head's variables under `p` (`memory.*`, `attention.*`, `action_head.*`).
    pub fn new(p: nn::Path<'_>, config: &HeadConfig) -> Self {
        Self {
            memory: ActionMemory::new(&p / "memory", config),
            attention: LatentAttention::new(&p / "attention", config),
            head: ActionHead::new(&p / "action_head", config),
            config: config.clone(),
        }
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &HeadConfig {
        &self.config
    }

    /// Initial memory and read-out: the start vector goes into slot 0, ctx is read around slot 0, and the
    /// pointer moves to the first word.
    fn start(&self, sentence: &Tensor, slot_mask: &Tensor, train: bool) -> (MemoryState, Tensor) {
        let mut state = self.memory.begin(sentence);
        let context = self.attention.forward_t(&state.slots, slot_mask, &state.pointer, train);
        state.pointer = state.pointer.ones_like();
        (state, context)
    }

    /// Row `pointer[b]` of each sentence of a (B, Q, n) tensor (S_w from S): (B, n).
    fn current_words(sentence: &Tensor, pointer: &Tensor) -> Tensor {
        sentence.gather(1, &super::at_pointer(pointer, sentence.size()[2]), false).squeeze_dim(1)
    }

    /// Write-back and read-out after a timestep with these logits, then the pointer moves by `advance`
    /// (B, int64 0/1), never past the `[SEP]` slot `last_slot` (B).
    /// `rows` is `0..B`.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        state: &mut MemoryState,
        logits: &Tensor,
        slot_mask: &Tensor,
        advance: &Tensor,
        last_slot: &Tensor,
        rows: &Tensor,
        train: bool,
    ) -> Tensor {
        self.memory.write_back(state, logits, rows);
        let context = self.attention.forward_t(&state.slots, slot_mask, &state.pointer, train);
        state.pointer = (&state.pointer + advance).minimum(last_slot);
        context
    }

    /// Teacher-forced pass (model.md §3) along `gold`: its timesteps, and its `foreign` rows marking
    /// the `TR`/`RE` actions of types the sentence's corpus does not annotate (all zeros in single-task
    /// training), plus, where given, its `inner` actions per timestep (a mention its corpus leaves
    /// unannotated, nested inside a gold one), which are foreign at that timestep.
    ///
    /// The multi-task rule: a foreign action's target is the model's own detached probability (no
    /// gradient either way), except on an `EOA` timestep; if a foreign action is more probable than a gold
    /// `SH`, that `SH` is deferred to the next timestep (its target becomes its own detached probability and
    /// the pointers stay), at most once in a row. A gold `SH` that is not deferred has target 1, or with
    /// [`ShiftTarget::Soft`] 1 minus the largest foreign probability.
    pub fn forward_teacher_forced(
        &self,
        sentence: &Tensor,
        slot_mask: &Tensor,
        n_words: &[usize],
        gold: &GoldActions,
        shift_target: ShiftTarget,
        train: bool,
    ) -> TeacherForcedOutput {
        let device = sentence.device();
        let n_actions = self.config.n_actions;
        let b = n_words.len();
        let last_slot = Tensor::from_slice(&n_words.iter().map(|&n| n as i64 + 1).collect::<Vec<_>>()).to_device(device);
        let lengths = Tensor::from_slice(&gold.lengths.iter().map(|&g| g as i64).collect::<Vec<_>>()).to_device(device);
        let max_gold = gold.lengths.iter().copied().max().unwrap_or(0);
        let foreign = &gold.foreign;
        let (mut state, mut context) = self.start(sentence, slot_mask, train);
        let mut cursor = Tensor::zeros([b as i64], (Kind::Int64, device));
        let mut deferred = Tensor::zeros([b as i64], (Kind::Bool, device));
        let rows = Tensor::arange(b as i64, (Kind::Int64, device));
        let (mut logits_steps, mut target_steps, mut mask_steps) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..2 * max_gold {
            let active = cursor.lt_tensor(&lengths);
            if !bool::try_from(active.any()).unwrap_or(false) {
                break;
            }
            let logits = self.head.forward_t(&Self::current_words(sentence, &state.pointer), &context, train);
            let probabilities = logits.sigmoid().detach();
            let at_cursor = super::at_pointer(&cursor.minimum(&(&lengths - 1)), n_actions);
            let gold_row = gold.timesteps.gather(1, &at_cursor, false).squeeze_dim(1);
            let not_end = gold_row.select(1, ActionVocabulary::EOA as i64).eq(0.0).to_kind(Kind::Float).unsqueeze(1);
            let foreign_here = match &gold.inner {
                Some(inner) => (foreign + inner.gather(1, &at_cursor, false).squeeze_dim(1)).clamp_max(1.0),
                None => foreign.shallow_clone(),
            };
            let foreign_probabilities = foreign_here * &probabilities * not_end;
            let shift_probability = probabilities.select(1, ActionVocabulary::SH as i64);
            let shift_wins = foreign_probabilities.le_tensor(&shift_probability.unsqueeze(1)).all_dim(1, false);
            let keep_shift = deferred.logical_or(&shift_wins);
            let gold_shift = gold_row.select(1, ActionVocabulary::SH as i64).eq(1.0);
            let defer = gold_shift.logical_and(&keep_shift.logical_not()).logical_and(&active);
            let targets = &gold_row + &foreign_probabilities;
            let gold_shift_target = match shift_target {
                ShiftTarget::Hard => targets.select(1, ActionVocabulary::SH as i64),
                ShiftTarget::Soft => {
                    let most_probable_foreign = foreign_probabilities.amax(&[1i64][..], false);
                    targets.select(1, ActionVocabulary::SH as i64) * (1.0 - most_probable_foreign)
                }
            };
            let shift_target = gold_shift_target.where_self(&defer.logical_not(), &shift_probability);
            let sh_index = Tensor::from_slice(&[ActionVocabulary::SH as i64]).to_device(device);
            let targets = targets.index_copy(1, &sh_index, &shift_target.unsqueeze(1));
            // The pointers advance on a gold SH that is not deferred (whatever its target) and on EOA.
            let advance = gold_shift
                .logical_and(&defer.logical_not())
                .logical_or(&gold_row.select(1, ActionVocabulary::EOA as i64).eq(1.0))
                .to_kind(Kind::Int64);
            logits_steps.push(logits.shallow_clone());
            target_steps.push(targets);
            mask_steps.push(active.to_kind(Kind::Float));
            context = self.step(&mut state, &logits, slot_mask, &advance, &last_slot, &rows, train);
            cursor = &cursor + defer.logical_not().to_kind(Kind::Int64);
            deferred = defer;
        }
        TeacherForcedOutput {
            logits: Tensor::stack(&logits_steps, 1),
            targets: Tensor::stack(&target_steps, 1).detach(),
            step_mask: Tensor::stack(&mask_steps, 1),
        }
    }

    /// Batched greedy decoding (call under `no_grad`): every sentence steps together; a sentence is
    /// finished once its argmax is `EOA` or it reaches its cap of `ceil(max_steps_factor · (N + 2))`
    /// timesteps. Every `check_every` steps (a host sync on CUDA) the loop ends if all are finished, and
    /// finished sentences are dropped from the batch once they are a quarter of it. Rows of a sentence
    /// after it was dropped are zero.
    ///
    /// A step is about 20 kernels (on CUDA each is a launch the host waits on, so the loop is bound by
    /// their count, not by arithmetic): the head's two fused products, the argmax, the write-back and the
    /// read-out update as one `scatter_add_` each, the read-out, and the pointer move through a
    /// per-action table. Logits are kept as they are and turned into probabilities once at the end.
    ///
    /// The products and the memory run in `sentence`'s kind (bf16 halves their memory traffic and, on
    /// GPUs, runs them on tensor cores); the logits are fp32 from the head's output on, so the argmax,
    /// the end test, the write-back weights ω and the stored probabilities are fp32 arithmetic.
    pub fn decode_greedy(&self, sentence: &Tensor, slot_mask: &Tensor, n_words: &[usize], check_every: usize) -> GreedyDecoding {
        let device = sentence.device();
        let caps: Vec<usize> = n_words.iter().map(|&n| (self.config.max_steps_factor * (n + 2) as f64).ceil() as usize).collect();
        let max_cap = caps.iter().copied().max().unwrap_or(0);
        let batch = n_words.len() as i64;
        let as_tensor = |values: Vec<i64>| Tensor::from_slice(&values).to_device(device);
        let mut last_slot = as_tensor(n_words.iter().map(|&n| n as i64 + 1).collect());
        let mut cap_tensor = as_tensor(caps.iter().map(|&c| c as i64).collect());
        // How far each action moves the pointers: one slot for SH and EOA, none for TR and RE.
        let advance_by_action = as_tensor(
            (0..self.config.n_actions).map(|a| i64::from(a == ActionVocabulary::SH as i64 || a == ActionVocabulary::EOA as i64)).collect(),
        );
        let mut padding = slot_mask.eq(0.0);
        // Inference form of `start` and `step`: in-place write-back and the incremental read-out.
        let mut state = self.memory.begin(sentence);
        let mut readout = self.attention.incremental(&state.slots);
        let mut head = self.head.for_inference(sentence, readout.context_scale());
        let mut attended = self.attention.attended_incremental(&readout, &state.slots, &padding, &state.pointer);
        state.pointer = state.pointer.ones_like();
        // Rows of the batch still decoding (indices into the input batch); finished rows are dropped.
        let mut active = Tensor::arange(batch, (Kind::Int64, device));
        let mut ended = Tensor::zeros([batch], (Kind::Bool, device));
        // The logits of every step; rows never written stay −∞, which the final sigmoid makes 0.
        let logits_by_step = Tensor::full([batch, max_cap as i64, self.config.n_actions], f64::NEG_INFINITY, (Kind::Float, device));
        let mut steps_done = 0;
        for step in 0..max_cap {
            let mut logits = head.forward(&Self::current_words(&head.word_halves, &state.pointer), &attended).to_kind(Kind::Float);
            let _ = logits_by_step.select(1, step as i64).index_copy_(0, &active, &logits);
            steps_done = step + 1;
            let mut best = logits.argmax(1, false);
            ended = ended.logical_or(&best.eq(ActionVocabulary::EOA as i64));
            if (step + 1) % check_every.max(1) == 0 {
                let finished = ended.logical_or(&cap_tensor.le(step as i64 + 1));
                let current = finished.size()[0];
                let done = finished.sum(Kind::Int64).int64_value(&[]);
                if done == current {
                    break;
                }
                // Compact once a quarter of the rows are done: they cost as much as the others per step.
                if done > 0 && 4 * done >= current {
                    let keep = finished.logical_not().nonzero().squeeze_dim(1);
                    let select = |t: &Tensor| t.index_select(0, &keep);
                    active = select(&active);
                    state.slots = select(&state.slots);
                    state.pointer = select(&state.pointer);
                    readout.retain(&keep);
                    head.retain(&keep);
                    (padding, last_slot, cap_tensor) = (select(&padding), select(&last_slot), select(&cap_tensor));
                    (logits, best, ended) = (select(&logits), select(&best), select(&ended));
                }
            }
            let omega = self.memory.write_back_in_place(&mut state, &logits);
            readout.slot_written(&state.pointer, &omega);
            attended = self.attention.attended_incremental(&readout, &state.slots, &padding, &state.pointer);
            state.pointer = (&state.pointer + advance_by_action.index_select(0, &best)).minimum(&last_slot);
        }
        GreedyDecoding { probabilities: logits_by_step.narrow(1, 0, steps_done as i64).sigmoid(), steps: caps }
    }
}
