//! A BERT encoder in tch, mirroring Hugging Face `transformers.BertModel` (post-LayerNorm transformer,
//! absolute position embeddings, exact-erf GELU), returning the last hidden states.
use std::path::Path;

use serde::Deserialize;
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use super::Int8Linear;
use crate::error::{read_to_string, Result, SruNerError, TorchContext};

/// The fields of an HF `config.json` that a BERT encoder needs.
///
/// ```
/// use sru_ner::encoder::{BertConfig, HiddenAct, PositionEmbeddingType};
/// let json = r#"{"vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 12,
///     "num_attention_heads": 12, "intermediate_size": 1536, "max_position_embeddings": 512,
///     "hidden_act": "gelu_new"}"#;
/// let config: BertConfig = serde_json::from_str(json).unwrap();
/// assert_eq!(config.hidden_act, HiddenAct::GeluNew);
/// assert_eq!(config.position_embedding_type, PositionEmbeddingType::Absolute);
/// // An activation the encoder does not implement is refused when the file is read.
/// let silu = json.replace("gelu_new", "silu");
/// assert!(serde_json::from_str::<BertConfig>(&silu).unwrap_err().to_string().contains("unknown variant `silu`"));
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct BertConfig {
    /// Word pieces in the vocabulary.
    pub vocab_size: i64,
    /// d, the width of every layer.
    pub hidden_size: i64,
    /// Transformer layers.
    pub num_hidden_layers: i64,
    /// Attention heads per layer.
    pub num_attention_heads: i64,
    /// Width of the feed-forward layer.
    pub intermediate_size: i64,
    /// The feed-forward activation.
    #[serde(default)]
    pub hidden_act: HiddenAct,
    /// Longest input, in word pieces, including `[CLS]` and `[SEP]`.
    pub max_position_embeddings: i64,
    /// Token types (segments).
    #[serde(default = "default_type_vocab_size")]
    pub type_vocab_size: i64,
    /// Layer-norm epsilon.
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// Dropout on hidden states (training only).
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention weights (training only).
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    /// How positions are embedded.
    #[serde(default)]
    pub position_embedding_type: PositionEmbeddingType,
}

/// The feed-forward activation of a BERT layer (`hidden_act` in `config.json`). Any other value fails
/// to load, naming the values supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HiddenAct {
    /// GELU with the exact erf (`gelu`), BERT's own.
    #[default]
    Gelu,
    /// GELU's tanh approximation (`gelu_new`).
    GeluNew,
    /// GELU's tanh approximation (`gelu_pytorch_tanh`, PyTorch's name for `gelu_new`).
    GeluPytorchTanh,
    /// `relu`.
    Relu,
}

/// How a BERT encoder embeds positions (`position_embedding_type` in `config.json`). Only learned
/// absolute positions are implemented; relative kinds fail to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionEmbeddingType {
    /// One learned embedding per position (`absolute`).
    #[default]
    Absolute,
}

fn default_type_vocab_size() -> i64 {
    2
}
fn default_layer_norm_eps() -> f64 {
    1e-12
}
fn default_dropout() -> f64 {
    0.1
}

impl BertConfig {
    /// Reads and checks a `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = read_to_string(path)?;
        let config: Self = serde_json::from_str(&text).map_err(|source| SruNerError::Json { path: path.to_path_buf(), source })?;
        let unsupported = |reason: String| SruNerError::Encoder { path: path.to_path_buf(), reason };
        if config.hidden_size % config.num_attention_heads != 0 {
            return Err(unsupported("hidden_size is not a multiple of num_attention_heads".into()));
        }
        Ok(config)
    }

    fn activation(&self, xs: &Tensor) -> Tensor {
        match self.hidden_act {
            HiddenAct::Relu => xs.relu(),
            HiddenAct::GeluNew | HiddenAct::GeluPytorchTanh => xs.gelu("tanh"),
            HiddenAct::Gelu => xs.gelu("none"),
        }
    }
}

fn layer_norm(p: nn::Path<'_>, config: &BertConfig) -> nn::LayerNorm {
    let ln = nn::LayerNormConfig { eps: config.layer_norm_eps, ..Default::default() };
    nn::layer_norm(p, vec![config.hidden_size], ln)
}

/// `t` in `kind`: itself when it is already of that kind, else a differentiable cast, so that an fp32
/// weight used in bf16 compute still receives an fp32 gradient (mixed-precision training).
fn in_kind(t: &Tensor, kind: Kind) -> Tensor {
    if t.kind() == kind {
        t.shallow_clone()
    } else {
        t.to_kind(kind)
    }
}

/// `xs Wᵀ + b` in the kind of `xs`.
fn linear(layer: &nn::Linear, xs: &Tensor) -> Tensor {
    let kind = xs.kind();
    xs.linear(&in_kind(&layer.ws, kind), layer.bs.as_ref().map(|b| in_kind(b, kind)))
}

/// LayerNorm over the last dimension in the kind of `xs`.
fn normalize(layer: &nn::LayerNorm, xs: &Tensor, eps: f64) -> Tensor {
    let kind = xs.kind();
    let weight = layer.ws.as_ref().map(|w| in_kind(w, kind));
    let bias = layer.bs.as_ref().map(|b| in_kind(b, kind));
    xs.layer_norm(layer.normalized_shape.as_slice(), weight.as_ref(), bias.as_ref(), eps, true)
}

/// `BertEmbeddings`: word + position + token-type embeddings, LayerNorm, dropout.
#[derive(Debug)]
struct BertEmbeddings {
    word_embeddings: nn::Embedding,
    position_embeddings: nn::Embedding,
    token_type_embeddings: nn::Embedding,
    layer_norm: nn::LayerNorm,
    layer_norm_eps: f64,
    dropout: f64,
}

impl BertEmbeddings {
    fn new(p: nn::Path<'_>, config: &BertConfig) -> Self {
        let d = config.hidden_size;
        Self {
            word_embeddings: nn::embedding(&p / "word_embeddings", config.vocab_size, d, Default::default()),
            position_embeddings: nn::embedding(&p / "position_embeddings", config.max_position_embeddings, d, Default::default()),
            token_type_embeddings: nn::embedding(&p / "token_type_embeddings", config.type_vocab_size, d, Default::default()),
            layer_norm: layer_norm(&p / "LayerNorm", config),
            layer_norm_eps: config.layer_norm_eps,
            dropout: config.hidden_dropout_prob,
        }
    }

    /// Embedded tokens (B, T, d) in `kind`: the sum is taken in the tables' kind, then cast.
    fn forward_t(&self, input_ids: &Tensor, kind: Kind, train: bool) -> Tensor {
        let seq_len = input_ids.size()[1];
        let positions = Tensor::arange(seq_len, (Kind::Int64, input_ids.device())).unsqueeze(0);
        // Token type 0 for every token: our sentences are single segments.
        let token_types = self.token_type_embeddings.ws.get(0);
        let xs = self.word_embeddings.forward(input_ids) + self.position_embeddings.forward(&positions) + token_types;
        normalize(&self.layer_norm, &in_kind(&xs, kind), self.layer_norm_eps).dropout(self.dropout, train)
    }
}

/// A linear layer that can also serve inference in int8 ([`BertEncoder::set_int8`]).
#[derive(Debug)]
struct Projection {
    linear: nn::Linear,
    /// Its int8 form, quantized from `linear`'s weights, while int8 is on.
    int8: Option<Int8Linear>,
}

impl Projection {
    fn new(p: nn::Path<'_>, inputs: i64, outputs: i64) -> Self {
        Self { linear: nn::linear(p, inputs, outputs, Default::default()), int8: None }
    }

    /// `xs Wᵀ + b`: through the int8 form when there is one and the pass is an fp32 inference, else in
    /// the kind of `xs`.
    fn forward(&self, xs: &Tensor, train: bool) -> Tensor {
        match &self.int8 {
            Some(int8) if !train && xs.kind() == Kind::Float => {
                int8.forward(xs).expect("an int8 linear layer that quantized fails on a tensor of its width")
            }
            _ => linear(&self.linear, xs),
        }
    }

    fn set_int8(&mut self, int8: bool) -> Result<()> {
        self.int8 = if int8 { Some(Int8Linear::quantize(&self.linear)?) } else { None };
        Ok(())
    }
}

/// `BertLayer`: self-attention + `BertSelfOutput`, then `BertIntermediate` + `BertOutput`.
#[derive(Debug)]
struct BertLayer {
    query: Projection,
    key: Projection,
    value: Projection,
    attention_output: Projection,
    attention_layer_norm: nn::LayerNorm,
    intermediate: Projection,
    /// The feed-forward block's second layer, never in int8: it reads the GELU's outputs, whose range
    /// one int8 scale serves badly. In int8 too (simulated), the default model's dev F1 fell by 0.54
    /// over the five corpora and by 1.17 on BC2GM; without it, by 0.07 (benches/history.md).
    output: nn::Linear,
    output_layer_norm: nn::LayerNorm,
    n_heads: i64,
    attention_dropout: f64,
    hidden_dropout: f64,
    config: BertConfig,
}

impl BertLayer {
    fn new(p: nn::Path<'_>, config: &BertConfig) -> Self {
        let (d, inner) = (config.hidden_size, config.intermediate_size);
        let attention = &p / "attention";
        Self {
            query: Projection::new(&attention / "self" / "query", d, d),
            key: Projection::new(&attention / "self" / "key", d, d),
            value: Projection::new(&attention / "self" / "value", d, d),
            attention_output: Projection::new(&attention / "output" / "dense", d, d),
            attention_layer_norm: layer_norm(&attention / "output" / "LayerNorm", config),
            intermediate: Projection::new(&p / "intermediate" / "dense", d, inner),
            output: nn::linear(&p / "output" / "dense", inner, d, Default::default()),
            output_layer_norm: layer_norm(&p / "output" / "LayerNorm", config),
            n_heads: config.num_attention_heads,
            attention_dropout: config.attention_probs_dropout_prob,
            hidden_dropout: config.hidden_dropout_prob,
            config: config.clone(),
        }
    }

    /// Turns the int8 forms of its projections on or off.
    fn set_int8(&mut self, int8: bool) -> Result<()> {
        for projection in [&mut self.query, &mut self.key, &mut self.value, &mut self.attention_output, &mut self.intermediate] {
            projection.set_int8(int8)?;
        }
        Ok(())
    }

    /// `attention_bias`: (B, 1, 1, T) additive mask, 0 for real tokens and -inf-like for padding.
    fn forward_t(&self, xs: &Tensor, attention_bias: &Tensor, train: bool) -> Tensor {
        let (b, t, d) = xs.size3().expect("hidden states are (B, T, d)");
        let heads = |x: Tensor| x.view([b, t, self.n_heads, d / self.n_heads]).transpose(1, 2);
        let (q, k, v) = (heads(self.query.forward(xs, train)), heads(self.key.forward(xs, train)), heads(self.value.forward(xs, train)));
        // softmax(q kᵀ / sqrt(d_head) + mask) v, as `BertSdpaSelfAttention`.
        let dropout = if train { self.attention_dropout } else { 0.0 };
        let context = Tensor::scaled_dot_product_attention(&q, &k, &v, Some(attention_bias), dropout, false, None, false);
        let context = context.transpose(1, 2).contiguous().view([b, t, d]);
        let eps = self.config.layer_norm_eps;
        let attended = normalize(
            &self.attention_layer_norm,
            &(self.attention_output.forward(&context, train).dropout(self.hidden_dropout, train) + xs),
            eps,
        );
        let inner = self.config.activation(&self.intermediate.forward(&attended, train));
        normalize(&self.output_layer_norm, &(linear(&self.output, &inner).dropout(self.hidden_dropout, train) + attended), eps)
    }
}

/// `BertModel` without the pooler: token ids to last hidden states.
#[derive(Debug)]
pub struct BertEncoder {
    embeddings: BertEmbeddings,
    layers: Vec<BertLayer>,
    config: BertConfig,
}

impl BertEncoder {
    /// Builds the encoder's variables under `p` with the HF names (`embeddings.*`, `encoder.layer.N.*`).
    pub fn new(p: nn::Path<'_>, config: &BertConfig) -> Self {
        let layers = (0..config.num_hidden_layers).map(|i| BertLayer::new(&p / "encoder" / "layer" / i, config)).collect();
        Self { embeddings: BertEmbeddings::new(&p / "embeddings", config), layers, config: config.clone() }
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// Last hidden states (B, T, d) for `input_ids` (B, T) and `attention_mask` (B, T; 1 = token, 0 = padding),
    /// computed in the kind of the encoder's weights.
    pub fn forward_t(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        self.forward_in(input_ids, attention_mask, self.embeddings.position_embeddings.ws.kind(), train)
    }

    /// Runs inference with int8 products in every layer's linear layers but the feed-forward block's
    /// second (`true`), or with the weights as they are (`false`). The int8 forms are quantized now
    /// from the current fp32 weights; they serve only fp32 passes that do not train. CPU only: fbgemm
    /// needs AVX2, and its error says so.
    pub fn set_int8(&mut self, int8: bool) -> Result<()> {
        for layer in &mut self.layers {
            layer.set_int8(int8)?;
        }
        Ok(())
    }

    /// [`BertEncoder::forward_t`] with activations (and the output) in `kind`: weights of another kind
    /// are cast on the way, differentiably. Training in `Kind::BFloat16` on fp32 weights is mixed
    /// precision: bf16 matrix products, fp32 master weights and fp32 gradients.
    pub fn forward_in(&self, input_ids: &Tensor, attention_mask: &Tensor, kind: Kind, train: bool) -> Tensor {
        let mut xs = self.embeddings.forward_t(input_ids, kind, train);
        let bias = (attention_mask.to_kind(xs.kind()).ones_like() - attention_mask.to_kind(xs.kind())).unsqueeze(1).unsqueeze(1)
            * f64::from(f32::MIN);
        for layer in &self.layers {
            xs = layer.forward_t(&xs, &bias, train);
        }
        xs
    }
}

/// Copies the tensors of an HF `model.safetensors` into the variables of `vs` whose names start with
/// `prefix` (e.g. `bert.`). File names may carry the `bert.` prefix or not; the pooler, the position-id
/// buffer and pre-training heads are ignored. Missing tensors and shape mismatches are errors.
pub fn load_hf_weights(vs: &nn::VarStore, path: &Path, prefix: &str) -> Result<()> {
    let tensors = Tensor::read_safetensors(path).context(format!("reading {}", path.display()))?;
    let mut variables = vs.variables();
    variables.retain(|name, _| name.starts_with(prefix));
    let mut missing: Vec<&String> = Vec::new();
    let by_name: std::collections::HashMap<String, &Tensor> =
        tensors.iter().map(|(name, t)| (name.strip_prefix("bert.").unwrap_or(name).to_string(), t)).collect();
    tch::no_grad(|| -> Result<()> {
        for (name, variable) in variables.iter_mut() {
            let key = &name[prefix.len()..];
            match by_name.get(key) {
                Some(source) if source.size() == variable.size() => {
                    variable.copy_(&source.to_kind(variable.kind()).to_device(variable.device()));
                }
                Some(source) => {
                    return Err(SruNerError::Weights {
                        path: path.to_path_buf(),
                        reason: format!("{key} has shape {:?}, the config says {:?}", source.size(), variable.size()),
                    })
                }
                None => missing.push(name),
            }
        }
        Ok(())
    })?;
    if !missing.is_empty() {
        missing.sort();
        return Err(SruNerError::Weights {
            path: path.to_path_buf(),
            reason: format!("missing tensors: {}", missing.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")),
        });
    }
    Ok(())
}
