//! The SRU-NER head on a small model built here: shapes, the multi-task masking rule's gradients, the
//! deferred shift, and batched decoding equal to decoding each sentence alone.
use sru_ner::network::{GoldActions, HeadConfig, ShiftTarget, SruParser};
use sru_ner::transition::{ActionVocabulary, Timestep, TransitionOracle, WordSpan};
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
                var.copy_(&(var.randn_like() * 0.5));
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

/// The oracle's gold actions for `spans`, every type annotated.
fn gold(vocabulary: &ActionVocabulary, spans: &[Vec<WordSpan>], n_words: &[usize]) -> GoldActions {
    let oracle = TransitionOracle::new(vocabulary);
    let steps: Vec<_> = spans.iter().zip(n_words).map(|(s, &n)| oracle.timesteps(s, n).unwrap()).collect();
    let sequences: Vec<&[Timestep]> = steps.iter().map(Vec::as_slice).collect();
    GoldActions::fully_annotated(&sequences, vocabulary.len(), Device::Cpu)
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
    let gold = gold(&vocabulary, &spans, &n_words);
    let out = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, ShiftTarget::Hard, true);
    let t = *gold.lengths.iter().max().unwrap() as i64;
    assert_eq!(out.logits.size(), [2, t, vocabulary.len() as i64]);
    assert_eq!(out.targets.size(), out.logits.size());
    let steps: Vec<f64> = Vec::try_from(out.step_mask.sum_dim_intlist(1, false, Kind::Double)).unwrap();
    assert_eq!(steps, gold.lengths.iter().map(|&l| l as f64).collect::<Vec<_>>());
    // Without foreign types the targets are exactly the gold rows.
    let diff = (&out.targets - gold.timesteps.narrow(1, 0, t)) * out.step_mask.unsqueeze(-1);
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
    let foreign = Tensor::from_slice(&[0f32, 0., 0., 0., 1., 1.]).view([1, 6]);
    let gold = GoldActions { foreign, ..gold(&vocabulary, &[vec![span(1, 3, 0)]], &n_words) };
    let out = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, ShiftTarget::Hard, false);
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

/// A corpus that keeps only its outermost mentions: inside its gold span, the actions that would open or
/// close a nested span of the unannotated types get no gradient at those timesteps, and everywhere else
/// they are trained as usual.
#[test]
fn inner_actions_get_zero_gradient_inside_gold_spans_only() {
    // Both types annotated; gold A over words 1..3 of 5.
    let vocabulary = ActionVocabulary::new(vec!["A".into(), "B".into()]);
    let (_vs, parser) = parser(2, 2);
    let n_words = [5];
    let (s, mask) = sentences(&n_words);
    let plain = gold(&vocabulary, &[vec![span(1, 3, 0)]], &n_words);
    let timesteps: Vec<Timestep> = TransitionOracle::new(&vocabulary).timesteps(&[span(1, 3, 0)], 5).unwrap();
    let inner = sru_ner::transition::inner_actions(&timesteps, &[(1..3, vec![0, 1])]);
    let gold = plain.with_inner(&[inner.as_slice()]);
    let out = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, ShiftTarget::Hard, false);
    let grads = Tensor::run_backward(&[out.loss()], &[&out.logits], false, false);
    // Replay the cursor: a deferred shift repeats its gold timestep.
    let (mut cursor, mut inside_checked, mut outside_checked) = (0usize, 0, 0);
    for step in 0..out.logits.size()[1] {
        let shift_target = out.targets.double_value(&[0, step, ActionVocabulary::SH as i64]);
        let deferred = timesteps[cursor].contains(&ActionVocabulary::SH) && shift_target > 0.0 && shift_target < 1.0;
        for action in 2..6usize {
            let g = grads[0].double_value(&[0, step, action as i64]);
            if inner[cursor].contains(&action) {
                assert!(g.abs() < 1e-7, "inner action {action} at step {step} got gradient {g}");
                inside_checked += 1;
            } else if !deferred {
                assert!(g.abs() > 1e-5, "action {action} at step {step} (gold step {cursor}) got no gradient");
                outside_checked += 1;
            }
        }
        if !deferred {
            cursor += 1;
        }
    }
    assert!(inside_checked >= 8 && outside_checked >= 8, "{inside_checked} inside, {outside_checked} outside");
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
    let foreign = Tensor::from_slice(&[0f32, 0., 0., 0., 1., 1.]).view([1, 6]);
    let gold = GoldActions { foreign, ..gold(&vocabulary, &[vec![span(0, 1, 0)]], &n_words) };
    let out = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, ShiftTarget::Hard, false);
    // Gold: {TR(A)}, SH, {RE(A)}, SH, SH, EOA: each of the 3 shifts is deferred once.
    assert_eq!(gold.lengths[0], 6);
    assert_eq!(out.logits.size()[1], 6 + 3);
    let shift_targets: Vec<f32> = Vec::try_from(out.targets.select(2, ActionVocabulary::SH as i64).squeeze()).unwrap();
    let deferred = shift_targets.iter().filter(|&&p| p > 0.0 && p < 1.0).count();
    let kept = shift_targets.iter().filter(|&&p| p == 1.0).count();
    assert_eq!((deferred, kept), (3, 3), "shift targets {shift_targets:?}");
}

/// `ShiftTarget::Soft`: where `SH` wins (no deferral), a gold shift's target is 1 minus the
/// largest foreign probability; the walk through the gold timesteps and every other target are those
/// of `Hard`.
#[test]
fn a_soft_shift_target_is_one_minus_the_most_probable_foreign_action() {
    let vocabulary = ActionVocabulary::new(vec!["A".into(), "B".into()]);
    let (vs, parser) = parser(2, 5);
    // SH far more probable than anything, so no shift is deferred; TR(B) and RE(B) near 0.3 and 0.7.
    tch::no_grad(|| {
        let bias = vs.variables()["head.action_head.w2.bias"].shallow_clone();
        let _ = bias.narrow(0, ActionVocabulary::SH as i64, 1).fill_(30.0);
        let _ = bias.narrow(0, 4, 1).fill_(-0.85);
        let _ = bias.narrow(0, 5, 1).fill_(0.85);
    });
    let n_words = [4, 3];
    let (s, mask) = sentences(&n_words);
    // Sentence 0's corpus annotates A only; sentence 1's both types.
    let foreign = Tensor::from_slice(&[0f32, 0., 0., 0., 1., 1., 0., 0., 0., 0., 0., 0.]).view([2, 6]);
    let gold = GoldActions { foreign, ..gold(&vocabulary, &[vec![span(1, 3, 0)], vec![]], &n_words) };
    let hard = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, ShiftTarget::Hard, false);
    let soft = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, ShiftTarget::Soft, false);
    assert_eq!(soft.logits.size(), hard.logits.size(), "no deferral: the same timesteps");
    assert_eq!((&soft.logits - &hard.logits).abs().max().double_value(&[]), 0.0, "the same walk");
    let t = soft.logits.size()[1];
    let mut softened = 0;
    for (b, &length) in gold.lengths.iter().enumerate() {
        for step in 0..length as i64 {
            let probability = |action: i64| 1.0 / (1.0 + (-soft.logits.double_value(&[b as i64, step, action])).exp());
            let gold_shift = gold.timesteps.double_value(&[b as i64, step, ActionVocabulary::SH as i64]) == 1.0;
            for action in 0..6 {
                let (h, s) = (hard.targets.double_value(&[b as i64, step, action]), soft.targets.double_value(&[b as i64, step, action]));
                if action == ActionVocabulary::SH as i64 && gold_shift && b == 0 {
                    let expected = 1.0 - probability(4).max(probability(5));
                    assert!((s - expected).abs() < 1e-5, "step {step}: soft shift target {s}, expected {expected}");
                    assert!(s < 0.5 && h == 1.0);
                    softened += 1;
                } else {
                    assert_eq!(s, h, "sentence {b} step {step} action {action}");
                }
            }
        }
    }
    assert!(softened >= 3 && t as usize == gold.lengths[0].max(gold.lengths[1]), "{softened} softened shifts");
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
fn greedy_decoding_in_bf16_follows_fp32_with_fp32_probabilities() {
    // `set_decoding_kind(BFloat16)` hands the parser a bf16 S: its products and memory run in bf16,
    // its logits in fp32. Up to the first step where the two argmaxes part, the probabilities must agree
    // to bf16's rounding, and most steps must be reached before any parting.
    let (_vs, parser) = parser(3, 5);
    let n_words = [7, 1, 12, 4];
    let (s, mask) = sentences(&n_words);
    let _guard = tch::no_grad_guard();
    let fp32 = parser.decode_greedy(&s, &mask, &n_words, 1);
    let bf16 = parser.decode_greedy(&s.to_kind(Kind::BFloat16), &mask, &n_words, 1);
    assert_eq!(bf16.probabilities.kind(), Kind::Float);
    assert_eq!(bf16.steps, fp32.steps);
    let steps = fp32.probabilities.size()[1].min(bf16.probabilities.size()[1]);
    let (best32, best16) = (fp32.probabilities.argmax(2, false), bf16.probabilities.argmax(2, false));
    let total: i64 = fp32.steps.iter().map(|&cap| (cap as i64).min(steps)).sum();
    let mut compared = 0;
    for (b, &cap) in fp32.steps.iter().enumerate() {
        let b = b as i64;
        for step in 0..(cap as i64).min(steps) {
            let diff = (fp32.probabilities.get(b).get(step) - bf16.probabilities.get(b).get(step)).abs().max().double_value(&[]);
            assert!(diff < 0.03, "sentence {b} step {step}: bf16 and fp32 probabilities differ by {diff}");
            compared += 1;
            if best32.int64_value(&[b, step]) != best16.int64_value(&[b, step]) {
                break;
            }
        }
    }
    assert!(2 * compared >= total, "bf16 parted from fp32 early: {compared} of {total} steps compared");
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
    let gold = GoldActions {
        timesteps: best.one_hot(a).to_kind(Kind::Float),
        lengths,
        foreign: Tensor::zeros([b, a], (Kind::Float, Device::Cpu)),
        inner: None,
    };
    let forced = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, ShiftTarget::Hard, false);
    for (i, &len) in gold.lengths.iter().enumerate() {
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
    let gold = gold(&vocabulary, &spans, &n_words);
    let gradients = |vs: &nn::VarStore| -> Vec<Tensor> {
        let mut named: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        named.iter().map(|(_, t)| t.grad().copy()).collect()
    };

    let whole = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, ShiftTarget::Hard, false);
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
        let part = GoldActions {
            timesteps: gold.timesteps.index_select(0, &rows),
            lengths: rows.iter::<i64>().unwrap().map(|r| gold.lengths[r as usize]).collect(),
            foreign: gold.foreign.index_select(0, &rows),
            inner: None,
        };
        let out = parser.forward_teacher_forced(
            &s.index_select(0, &rows).narrow(1, 0, q as i64),
            &mask.index_select(0, &rows).narrow(1, 0, q as i64),
            words,
            &part,
            ShiftTarget::Hard,
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

/// Capacity check: a marker word opens two spans of type A and one of type B at once, so its
/// gold timesteps are `{TR(A)}` then `{TR(A), TR(B)}`: a repeated action and a multi-label one. A
/// small head, trained on these sentences alone, must decode every one of them exactly. If it cannot,
/// the network or the decoder cannot express GENIA's nested mentions.
#[test]
fn a_small_head_learns_repeated_and_multi_label_actions_exactly() {
    use sru_ner::transition::SpanDecoder;
    const WIDTH: i64 = 32;
    let vocabulary = ActionVocabulary::new(vec!["A".into(), "B".into()]);
    tch::manual_seed(11);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut config = HeadConfig::new(WIDTH, 2);
    config.half_context = 16;
    let parser = SruParser::new(&vs.root() / "head", &config);
    // Word vectors: 0 = CLS, 1 = SEP, 2 = marker, 3 = inner end, 4 = outer end, 5.. = fillers.
    let table = Tensor::randn([12, WIDTH], (Kind::Float, Device::Cpu));
    // Sentences of 5 to 12 words: fillers, the marker at m, the inner A span's last word at e1 and the
    // outer one's at e2 (m < e1 < e2); every third sentence has no marker and no span.
    let mut rng_state = 7u64;
    let mut next = |n: usize| {
        rng_state = rng_state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((rng_state >> 33) % n as u64) as usize
    };
    let (mut words, mut spans) = (Vec::new(), Vec::new());
    for i in 0..30 {
        let n = 5 + next(8);
        let mut sentence: Vec<i64> = (0..n).map(|_| 5 + next(7) as i64).collect();
        let mut gold = Vec::new();
        if i % 3 != 0 {
            let m = next(n - 2);
            let e1 = m + 1 + next(n - m - 2);
            let e2 = e1 + 1 + next(n - e1 - 1);
            (sentence[m], sentence[e1], sentence[e2]) = (2, 3, 4);
            gold = vec![span(m, e1 + 1, 0), span(m, e2 + 1, 0), span(m, m + 1, 1)];
        }
        words.push(sentence);
        spans.push(gold);
    }
    let n_words: Vec<usize> = words.iter().map(Vec::len).collect();
    let q = n_words.iter().max().unwrap() + 2;
    let mut ids = vec![0i64; words.len() * q];
    let mut mask = vec![0f32; words.len() * q];
    for (b, sentence) in words.iter().enumerate() {
        ids[b * q] = 0;
        ids[b * q + 1..b * q + 1 + sentence.len()].copy_from_slice(sentence);
        ids[b * q + 1 + sentence.len()] = 1;
        mask[b * q..b * q + sentence.len() + 2].fill(1.0);
    }
    let mask = Tensor::from_slice(&mask).view([words.len() as i64, q as i64]);
    let s = table.index_select(0, &Tensor::from_slice(&ids)).view([words.len() as i64, q as i64, WIDTH]) * mask.unsqueeze(-1);
    let gold = gold(&vocabulary, &spans, &n_words);
    assert!(gold.lengths.iter().max().unwrap() > &0);

    let mut adam = nn::OptimizerConfig::build(nn::Adam::default(), &vs, 3e-3).unwrap();
    for _ in 0..400 {
        let loss = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, ShiftTarget::Hard, false).loss();
        adam.backward_step(&loss);
    }

    let _guard = tch::no_grad_guard();
    let decoding = parser.decode_greedy(&s, &mask, &n_words, 1);
    let probabilities = decoding.probabilities.contiguous();
    let (_, t, a) = probabilities.size3().unwrap();
    let flat: Vec<f32> = Vec::try_from(probabilities.view([-1])).unwrap();
    let decoder = SpanDecoder::new(&vocabulary);
    let mut wrong = Vec::new();
    for (b, gold_spans) in spans.iter().enumerate() {
        let rows = &flat[b * (t * a) as usize..(b + 1) * (t * a) as usize];
        let mut found: Vec<WordSpan> = decoder.decode(rows.chunks(a as usize), n_words[b]).iter().map(|d| d.span).collect();
        let mut want = gold_spans.clone();
        found.sort();
        want.sort();
        if found != want {
            wrong.push((b, want, found));
        }
    }
    assert!(wrong.is_empty(), "{} of {} sentences decoded wrongly: {wrong:?}", wrong.len(), spans.len());
}

/// Position dropout by table rows reads the same rows of P as the plain lookup: with every
/// dropout probability near zero, a training-mode pass equals an eval-mode one, over sentences of
/// different lengths, a window smaller than the sentences (out-of-window ids) and padding.
#[test]
fn position_dropout_by_table_rows_reads_the_right_rows() {
    use sru_ner::network::PositionDropout;
    let vocabulary = ActionVocabulary::new(vec!["A".into(), "B".into()]);
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut config = HeadConfig::new(D, 2);
    config.half_context = 3;
    (config.dropout_features, config.dropout_latents, config.dropout_positions) = (0.0, 0.0, 1e-12);
    assert_eq!(config.position_dropout, PositionDropout::TableRows, "the default for new models");
    let parser = SruParser::new(&vs.root() / "head", &config);
    tch::no_grad(|| {
        for (name, mut var) in vs.variables() {
            if name.ends_with("latents") {
                var.copy_(&(var.randn_like() * 0.5));
            }
        }
    });
    let n_words = [9, 2, 5];
    let (s, mask) = sentences(&n_words);
    let spans = vec![vec![span(0, 3, 0), span(1, 2, 1)], vec![span(1, 2, 0)], vec![span(2, 5, 1)]];
    let gold = gold(&vocabulary, &spans, &n_words);
    let train = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, ShiftTarget::Hard, true);
    let eval = parser.forward_teacher_forced(&s, &mask, &n_words, &gold, ShiftTarget::Hard, false);
    let diff = ((&train.logits - &eval.logits) * train.step_mask.unsqueeze(-1)).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "table-row dropout path differs from the lookup by {diff}");
}
