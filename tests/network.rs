//! The SRU-NER head on a small model built here: shapes, the multi-task masking rule's gradients, the
//! deferred shift, and batched decoding equal to decoding each sentence alone.
use sru_ner::network::{HeadConfig, SruParser};
use sru_ner::transition::{timesteps_tensor, ActionVocabulary, Timestep, TransitionOracle, WordSpan};
use tch::{nn, Device, Kind, Tensor};

const D: i64 = 16;

fn parser(n_types: usize, seed: i64) -> (nn::VarStore, SruParser) {
    tch::manual_seed(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut config = HeadConfig::new(D, n_types);
    config.half_context = 3; // small window so out-of-window ids are exercised
    let parser = SruParser::new(&vs.root() / "head", &config);
    // Non-zero latents so attention is not uniform.
    tch::no_grad(|| {
        for (name, mut var) in vs.variables() {
            if name.ends_with("latents") {
                let _ = var.copy_(&(var.randn_like() * 0.5));
            }
        }
    });
    (vs, parser)
}

/// Sentence matrices for sentences of `n_words` words: random CLS/word/SEP slots, zero padding.
fn sentences(n_words: &[usize]) -> (Tensor, Tensor) {
    let q = n_words.iter().max().unwrap() + 2;
    let mut mask = vec![0f32; n_words.len() * q];
    for (b, &n) in n_words.iter().enumerate() {
        mask[b * q..b * q + n + 2].fill(1.0);
    }
    let mask = Tensor::from_slice(&mask).view([n_words.len() as i64, q as i64]);
    let s = Tensor::randn([n_words.len() as i64, q as i64, D], (Kind::Float, Device::Cpu)) * mask.unsqueeze(-1);
    (s, mask)
}

fn gold(vocabulary: &ActionVocabulary, spans: &[Vec<WordSpan>], n_words: &[usize]) -> (Tensor, Vec<usize>) {
    let oracle = TransitionOracle::new(vocabulary);
    let steps: Vec<_> = spans.iter().zip(n_words).map(|(s, &n)| oracle.timesteps(s, n).unwrap()).collect();
    let sequences: Vec<&[Timestep]> = steps.iter().map(Vec::as_slice).collect();
    (timesteps_tensor(&sequences, vocabulary.len()), steps.iter().map(Vec::len).collect())
}

fn span(start: usize, end: usize, label: usize) -> WordSpan {
    WordSpan { start, end, label }
}

#[test]
fn teacher_forced_shapes_and_single_task_steps() {
    let vocabulary = ActionVocabulary::new(vec!["A".into(), "B".into()]);
    let (_vs, parser) = parser(2, 1);
    let n_words = [5, 2];
    let (s, mask) = sentences(&n_words);
    let spans = vec![vec![span(0, 2, 0), span(1, 2, 1)], vec![span(1, 2, 0)]];
    let (gold, lengths) = gold(&vocabulary, &spans, &n_words);
    let foreign = Tensor::zeros([2, vocabulary.len() as i64], (Kind::Float, Device::Cpu));
    let out = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, &lengths, &foreign, true);
    let t = *lengths.iter().max().unwrap() as i64;
    assert_eq!(out.logits.size(), [2, t, vocabulary.len() as i64]);
    assert_eq!(out.targets.size(), out.logits.size());
    let steps: Vec<f64> = Vec::try_from(out.step_mask.sum_dim_intlist(1, false, Kind::Double)).unwrap();
    assert_eq!(steps, lengths.iter().map(|&l| l as f64).collect::<Vec<_>>());
    // Without foreign types the targets are exactly the gold rows.
    let diff = (&out.targets - gold.narrow(1, 0, t)) * out.step_mask.unsqueeze(-1);
    assert_eq!(diff.abs().max().double_value(&[]), 0.0);
    let loss = out.loss();
    assert!(loss.double_value(&[]) > 0.0);
    loss.backward();
}

#[test]
fn foreign_actions_get_zero_gradient() {
    // The sentence's corpus annotates type A only: TR(B) = 4 and RE(B) = 5 are foreign.
    let vocabulary = ActionVocabulary::new(vec!["A".into(), "B".into()]);
    let (_vs, parser) = parser(2, 2);
    let n_words = [4];
    let (s, mask) = sentences(&n_words);
    let (gold, lengths) = gold(&vocabulary, &[vec![span(1, 3, 0)]], &n_words);
    let foreign = Tensor::from_slice(&[0f32, 0., 0., 0., 1., 1.]).view([1, 6]);
    let out = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, &lengths, &foreign, false);
    let grads = Tensor::run_backward(&[out.loss()], &[&out.logits], false, false);
    let grad = &grads[0];
    let t = out.logits.size()[1];
    for step in 0..t {
        let is_end = out.targets.double_value(&[0, step, ActionVocabulary::EOA as i64]) == 1.0;
        for action in 0..6 {
            let g = grad.double_value(&[0, step, action]);
            if (action == 4 || action == 5) && !is_end {
                // σ(u) − sg[σ(u)]: zero up to float rounding, against gradients of ~1e-2 for own actions.
                assert!(g.abs() < 1e-7, "foreign action {action} at step {step} got gradient {g}");
            } else {
                // A deferred gold shift targets its own probability too (covered by the next test).
                let target = out.targets.double_value(&[0, step, action]);
                let deferred_shift = action == ActionVocabulary::SH as i64 && target > 0.0 && target < 1.0;
                assert!(g.abs() > 1e-5 || deferred_shift, "own action {action} at step {step} got no gradient");
            }
        }
    }
}

#[test]
fn a_more_probable_foreign_action_defers_the_gold_shift_once() {
    let vocabulary = ActionVocabulary::new(vec!["A".into(), "B".into()]);
    let (vs, parser) = parser(2, 3);
    // Make TR(B) (index 4) far more probable than anything else.
    tch::no_grad(|| {
        let bias = vs.variables()["head.action_head.w2.bias"].shallow_clone();
        let _ = bias.narrow(0, 4, 1).fill_(20.0);
    });
    let n_words = [3];
    let (s, mask) = sentences(&n_words);
    let (gold, lengths) = gold(&vocabulary, &[vec![span(0, 1, 0)]], &n_words);
    let foreign = Tensor::from_slice(&[0f32, 0., 0., 0., 1., 1.]).view([1, 6]);
    let out = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, &lengths, &foreign, false);
    // Gold: {TR(A)}, SH, {RE(A)}, SH, SH, EOA: each of the 3 shifts is deferred once.
    assert_eq!(lengths[0], 6);
    assert_eq!(out.logits.size()[1], 6 + 3);
    let shift_targets: Vec<f32> = Vec::try_from(out.targets.select(2, ActionVocabulary::SH as i64).squeeze()).unwrap();
    let deferred = shift_targets.iter().filter(|&&p| p > 0.0 && p < 1.0).count();
    let kept = shift_targets.iter().filter(|&&p| p == 1.0).count();
    assert_eq!((deferred, kept), (3, 3), "shift targets {shift_targets:?}");
}

#[test]
fn batched_greedy_decoding_equals_one_sentence_at_a_time() {
    let (_vs, parser) = parser(3, 4);
    let n_words = [7, 1, 12, 4];
    let (s, mask) = sentences(&n_words);
    let _guard = tch::no_grad_guard();
    let batched = parser.decode_greedy(&s, &mask, &n_words, 1);
    let a = 2 + 2 * 3;
    assert_eq!(batched.probabilities.size()[2], a);
    for (b, &n) in n_words.iter().enumerate() {
        let q = n as i64 + 2;
        let alone_s = s.narrow(0, b as i64, 1).narrow(1, 0, q);
        let alone_mask = mask.narrow(0, b as i64, 1).narrow(1, 0, q);
        let alone = parser.decode_greedy(&alone_s, &alone_mask, &[n], 1);
        let steps = alone.probabilities.size()[1];
        assert!(steps as usize <= batched.steps[b]);
        let mine = batched.probabilities.narrow(0, b as i64, 1).narrow(1, 0, steps);
        let diff = (&mine - &alone.probabilities).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "sentence {b}: batched and alone differ by {diff}");
    }
}

#[test]
fn greedy_decoding_equals_the_training_path_teacher_forced_on_its_own_choices() {
    // The inference path (in-place write-back, incremental read-out) must compute what the training
    // path computes when fed the same action sequence.
    let (_vs, parser) = parser(2, 6);
    let n_words = [6, 3, 9];
    let (s, mask) = sentences(&n_words);
    let _guard = tch::no_grad_guard();
    let greedy = parser.decode_greedy(&s, &mask, &n_words, 1);
    let (b, t, a) = greedy.probabilities.size3().unwrap();
    let best = greedy.probabilities.argmax(2, false);
    // Gold rows = one-hot of each greedy choice, up to and including its EOA (or its cap).
    let mut lengths = Vec::new();
    for i in 0..b {
        let choices: Vec<i64> = Vec::try_from(best.get(i)).unwrap();
        let end = choices.iter().position(|&c| c == ActionVocabulary::EOA as i64).map_or(t as usize, |p| p + 1);
        lengths.push(end.min(greedy.steps[i as usize]));
    }
    let gold = best.one_hot(a).to_kind(Kind::Float);
    let foreign = Tensor::zeros([b, a], (Kind::Float, Device::Cpu));
    let forced = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, &lengths, &foreign, false);
    for (i, &len) in lengths.iter().enumerate() {
        let len = len as i64;
        let ours = greedy.probabilities.get(i as i64).narrow(0, 0, len);
        let theirs = forced.logits.get(i as i64).narrow(0, 0, len).sigmoid();
        let diff = (ours - theirs).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "sentence {i}: greedy and teacher-forced differ by {diff}");
    }
}

/// The training job's micro-batches: the summed losses of parts of a batch, over the whole batch's counted
/// timesteps, give the gradient of the whole batch's mean loss (no dropout, so the passes are comparable).
#[test]
fn micro_batch_summed_losses_give_the_batch_gradient() {
    let vocabulary = ActionVocabulary::new(vec!["A".into(), "B".into()]);
    let (vs, parser) = parser(2, 5);
    let n_words = [6, 3, 4];
    let (s, mask) = sentences(&n_words);
    let spans = vec![vec![span(0, 3, 0), span(1, 2, 1)], vec![span(2, 3, 1)], vec![span(0, 4, 0)]];
    let (gold, lengths) = gold(&vocabulary, &spans, &n_words);
    let foreign = Tensor::zeros([3, vocabulary.len() as i64], (Kind::Float, Device::Cpu));
    let gradients = |vs: &nn::VarStore| -> Vec<Tensor> {
        let mut named: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        named.iter().map(|(_, t)| t.grad().copy()).collect()
    };

    let whole = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, &lengths, &foreign, false);
    whole.loss().backward();
    let expected = gradients(&vs);
    for t in vs.variables().values() {
        let _ = t.grad().zero_();
    }

    // Sentence 0 alone, then sentences 1 and 2 (their own padding: at most 4 words).
    let parts: [(&[i64], &[usize]); 2] = [(&[0], &n_words[..1]), (&[1, 2], &n_words[1..])];
    let mut counted = 0.0;
    let mut summed = Vec::new();
    for (rows, words) in parts {
        let rows = Tensor::from_slice(rows);
        let q = words.iter().max().unwrap() + 2;
        let part_lengths: Vec<usize> = rows.iter::<i64>().unwrap().map(|r| lengths[r as usize]).collect();
        let out = parser.forward_teacher_forced(
            &s.index_select(0, &rows).narrow(1, 0, q as i64),
            &mask.index_select(0, &rows).narrow(1, 0, q as i64),
            words,
            &gold.index_select(0, &rows),
            &part_lengths,
            &foreign.index_select(0, &rows),
            false,
        );
        counted += out.counted_steps();
        summed.push(out.summed_loss());
    }
    assert_eq!(counted, whole.counted_steps());
    for part in &summed {
        (part / counted).backward();
    }
    for (got, want) in gradients(&vs).iter().zip(&expected) {
        let diff = (got - want).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "micro-batch gradient differs by {diff}");
    }
    assert!(expected.iter().any(|g| g.abs().max().double_value(&[]) > 1e-4), "the batch has a gradient");
}
