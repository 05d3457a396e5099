"""The captioner as one ``keras.Model``: a CNN encoder, additive attention and a GRU/LSTM decoder.

    model = build(image_shape=(64, 64, 3), units=128)
    model.compile(optimizer=Adam(1e-3))
    model.fit(images_uint8, tokens, batch_size=64)   # tokens: <start> words <end> <pad>…
    feats, keys, state = model.start(images)         # the feature grid, once per image
    logits, state, alpha = model.step(tokens, state, feats, keys)   # one word

"Show, Attend and Tell" (Xu et al. 2015) in small: the encoder's last block is an 8×8
grid of feature vectors (plus two coordinate channels, so "above" and "left of" are
easy to read off). At every word the decoder scores each cell against its hidden state
with Bahdanau's additive score ``v·tanh(W_f f + W_h h)``; the softmax over the 64 cells
(α, summing to 1) weighs the context vector that, with the previous word, feeds the
recurrent cell. Training uses teacher forcing: the reference's previous word, not the
model's own. The doubly stochastic penalty ``λ Σ_cells (1 − Σ_t α_t)²`` (option
``attention_penalty``) asks every cell to be looked at about once over the caption.
``box_attention`` (λ ≥ 0, off by default) adds −log Σ_{cells in the box} α for each
size, colour and shape word: the scene's boxes supervise where the model looks, so the
attention at a shape word lands on that shape instead of wherever the recurrent state
already remembers it from (without it the model reads the object at the colour word).

Hard attention (the book's contrast): ``step(..., hard=True)`` feeds the single most
attended cell's features instead of the α-weighted mean. A model built with
``attention="hard"`` is also *trained* that way, as Xu et al.'s stochastic hard attention:
each word's cell is sampled from α and only its features feed the decoder, so no gradient
reaches α through the words; REINFORCE supplies it instead, with the caption's own
log-likelihood as the reward, a moving-average baseline (b ← 0.9 b + 0.1 mean reward) and an
entropy bonus on α. As in the paper, half the captions of a batch (chosen at random) are
given the expected context α instead of a sample, which steadies learning and keeps soft
decoding of the same model sensible. Decoding a hard-trained model uses the argmax cell.
"""

from __future__ import annotations

from cnnstudio.core.families.attention import shape_scenes as scenes
from cnnstudio.core.families.attention.captioner_options import ATTENTION as ATTENTION_SPEC
from cnnstudio.core.families.attention.captioner_options import BOX, CELL, PENALTY
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.options import require

K = keras()
ops = K.ops

ATTENTION = ("soft", "hard")
REINFORCE_WEIGHT = 1.0      # λ_r of Xu et al.'s hard-attention rule
ENTROPY_WEIGHT = 0.01       # λ_e: keeps α from collapsing onto one cell too early
EXPECTED_SHARE = 0.5        # captions given the expected context α (Xu et al. §4.1)


def encoder_network(shape, filters: int):
    """A convolution, then three stride-2 ones and one more at the end: 64×64 → an 8×8 grid
    of 4·filters features, each cell seeing 31×31 pixels (a large shape is 19 wide). One
    convolution per scale keeps it cheap: on a CPU the encoder costs more than the decoder."""
    layers = K.layers
    net = [K.Input(shape), layers.Rescaling(1 / 255.0),
           layers.Conv2D(filters, 3, padding="same", activation="relu")]
    for mult in (1, 2, 4):
        net.append(layers.Conv2D(filters * mult, 3, strides=2, padding="same",
                                 activation="relu"))
    net.append(layers.Conv2D(filters * 4, 3, padding="same", activation="relu"))
    return K.Sequential(net, name="encoder")


@K.saving.register_keras_serializable(package="cnnstudio")
class Captioner(K.Model):
    def __init__(self, image_shape=(64, 64, 3), vocab=scenes.VOCAB, filters: int = 16,
                 units: int = 128, attention_units: int = 64, embedding: int = 32,
                 cell: str = "gru", attention_penalty: float = 0.0,
                 box_attention: float = 0.0, attention: str = "soft", **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.vocab = [str(w) for w in vocab]
        self.filters, self.units = int(filters), int(units)
        self.attention_units, self.embedding_size = int(attention_units), int(embedding)
        # A saved file's config meets the same specs as the form and the run config.
        self.cell_kind = require(CELL, cell)
        self.attention_penalty = require(PENALTY, attention_penalty)
        self.box_attention = require(BOX, box_attention)
        self.attention = require(ATTENTION_SPEC, attention)
        layers, v = K.layers, len(self.vocab)
        self.encoder = encoder_network(self.image_shape, self.filters)
        gh, gw, depth = (int(d) for d in self.encoder.compute_output_shape((1, *self.image_shape))[1:])
        self.grid = (gh, gw)
        self.feature_size = depth + 2                       # + the coordinate channels
        self.embed = layers.Embedding(v, self.embedding_size, name="embed")
        self.key_proj = layers.Dense(self.attention_units, name="attention_keys")
        self.query_proj = layers.Dense(self.attention_units, name="attention_query")
        self.score = layers.Dense(1, name="attention_score")
        self.init_h = layers.Dense(self.units, activation="tanh", name="init_h")
        self.init_c = layers.Dense(self.units, activation="tanh", name="init_c") \
            if self.cell_kind == "lstm" else None
        self.rnn = (layers.GRUCell if self.cell_kind == "gru" else layers.LSTMCell)(
            self.units, name="decoder_cell")
        self.out_hidden = layers.Dense(self.embedding_size, activation="tanh", name="deep_out")
        self.out_logits = layers.Dense(v, name="word_logits")
        names = ["loss", "word_accuracy", "attention_penalty", "box_attention_loss"]
        if self.attention == "hard":
            # Only hard models carry these, so soft models saved before them still load.
            self.sample_seed = K.random.SeedGenerator()   # drawn from the run's seed
            self.reward_baseline = self.add_weight(shape=(), initializer="zeros",
                                                   trainable=False, name="reward_baseline")
            names += ["reward", "attention_entropy"]
        self.trackers = {name: K.metrics.Mean(name=name) for name in names}
        self._build_parts()

    def _build_parts(self) -> None:
        f, u, e = self.feature_size, self.units, self.embedding_size
        self.embed.build((None,))
        self.key_proj.build((None, f))
        self.query_proj.build((None, u))
        self.score.build((None, self.attention_units))
        self.init_h.build((None, f))
        if self.init_c is not None:
            self.init_c.build((None, f))
        self.rnn.build((None, e + f))
        self.out_hidden.build((None, u + f + e))
        self.out_logits.build((None, e))
        self.built = True

    def build(self, input_shape=None):
        self.built = True

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape, "vocab": self.vocab,
                "filters": self.filters, "units": self.units,
                "attention_units": self.attention_units, "embedding": self.embedding_size,
                "cell": self.cell_kind, "attention_penalty": self.attention_penalty,
                "box_attention": self.box_attention, "attention": self.attention}

    # -- the pieces decoding is made of ---------------------------------------------
    def features(self, images, training=False):
        """(N, cells, features): the encoder's grid flattened, x and y in [−1, 1] appended."""
        grid = self.encoder(ops.cast(images, "float32"), training=training)
        n = ops.shape(grid)[0]
        gh, gw = self.grid
        ys, xs = ops.meshgrid(ops.linspace(-1.0, 1.0, gh), ops.linspace(-1.0, 1.0, gw),
                              indexing="ij")
        coords = ops.stack([ops.reshape(xs, (-1,)), ops.reshape(ys, (-1,))], axis=-1)
        coords = ops.broadcast_to(coords[None], (n, gh * gw, 2))
        flat = ops.reshape(grid, (n, gh * gw, self.feature_size - 2))
        return ops.concatenate([flat, ops.cast(coords, flat.dtype)], axis=-1)

    def start(self, images, training=False):
        """(features, attention keys, initial recurrent state) of a batch of images."""
        feats = self.features(images, training)
        mean = ops.mean(feats, axis=1)
        state = [self.init_h(mean)]
        if self.init_c is not None:
            state.append(self.init_c(mean))
        return feats, self.key_proj(feats), state

    def attend(self, h, feats, keys):
        """α (N, cells), summing to 1 over the cells, and the soft context vector."""
        query = self.query_proj(h)[:, None, :]
        alpha = ops.softmax(ops.squeeze(self.score(ops.tanh(keys + query)), -1), axis=-1)
        return alpha, ops.sum(alpha[..., None] * feats, axis=1)

    def step(self, tokens, state, feats, keys, hard=False, training=False):
        """One decoder step: logits of the next word, the new state and this step's α."""
        logits, state, alpha, _ = self._step(tokens, state, feats, keys,
                                             "argmax" if hard else "soft", training)
        return logits, state, alpha

    def _step(self, tokens, state, feats, keys, mode, training, expected=None):
        """``mode``: "soft" (α-weighted mean), "argmax" (the most attended cell) or "sample"
        (a cell drawn from α; rows where ``expected`` is 1 take the soft context instead).
        Also returns the one-hot picked cells (None for "soft")."""
        alpha, context = self.attend(state[0], feats, keys)
        pick = None
        if mode == "argmax":
            pick = ops.one_hot(ops.argmax(alpha, axis=-1), ops.shape(alpha)[1])
        elif mode == "sample":
            cell = K.random.categorical(ops.log(alpha + 1e-8), 1, seed=self.sample_seed)[:, 0]
            pick = ops.one_hot(cell, ops.shape(alpha)[1])
        if pick is not None:
            hard_context = ops.sum(pick[..., None] * feats, axis=1)
            context = hard_context if expected is None else \
                expected[:, None] * context + (1.0 - expected[:, None]) * hard_context
        emb = self.embed(tokens)
        out, new_state = self.rnn(ops.concatenate([emb, context], -1), state, training=training)
        new_state = list(new_state) if isinstance(new_state, (list, tuple)) else [new_state]
        logits = self.out_logits(self.out_hidden(ops.concatenate([out, context, emb], -1)))
        return logits, new_state, alpha, pick

    def call(self, inputs, training=False):
        """Teacher-forced logits (N, T, vocab) and α (N, T, cells) for (images, tokens_in)."""
        logits, alphas, _ = self._teacher_forced(*inputs, training=training)
        return logits, alphas

    def _teacher_forced(self, images, tokens, training=False, mode=None, expected=None):
        """(logits, α, picked cells or None) over the reference's words. ``mode`` defaults
        to the model's own: soft, or argmax for a hard model (training samples instead)."""
        mode = mode or ("argmax" if self.attention == "hard" else "soft")
        feats, keys, state = self.start(images, training)
        logits, alphas, picks = [], [], []
        for t in range(tokens.shape[1]):
            out, state, alpha, pick = self._step(tokens[:, t], state, feats, keys, mode,
                                                 training, expected)
            logits.append(out)
            alphas.append(alpha)
            picks.append(pick)
        picked = None if picks[0] is None else ops.stack(picks, axis=1)
        return ops.stack(logits, axis=1), ops.stack(alphas, axis=1), picked

    # -- training ------------------------------------------------------------------
    @property
    def metrics(self):
        return list(self.trackers.values())

    def _caption_losses(self, images, targets_in, training, sample=False):
        """A dict of the loss (cross-entropy + the options' penalties), the word accuracy,
        the penalties and, for a hard model, the REINFORCE surrogate, the mean reward and
        α's entropy (cells sampled with ``sample``, in training; else the argmax cells).
        ``targets_in`` is the token matrix, or (tokens, boxes) with the box cells of each
        written word."""
        tokens, boxes = (targets_in if isinstance(targets_in, (tuple, list))
                         else (targets_in, None))
        tokens = ops.cast(tokens, "int32")
        expected = None
        if sample:
            draw = K.random.uniform((ops.shape(tokens)[0],), seed=self.sample_seed)
            expected = ops.cast(draw < EXPECTED_SHARE, "float32")
        logits, alphas, picks = self._teacher_forced(
            images, tokens[:, :-1], training, "sample" if sample else None, expected)
        targets = tokens[:, 1:]
        mask = ops.cast(ops.not_equal(targets, scenes.PAD), "float32")
        ce = K.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
        words = ops.maximum(ops.sum(mask), 1.0)
        out = {"loss": ops.sum(ce * mask) / words}
        seen = ops.sum(alphas * mask[..., None], axis=1)              # Σ_t α per cell
        out["attention_penalty"] = ops.mean(ops.sum(ops.square(1.0 - seen), axis=-1))
        hits = ops.cast(ops.equal(ops.argmax(logits, -1), targets), "float32")
        out["word_accuracy"] = ops.sum(hits * mask) / words
        out["box_attention_loss"] = ops.zeros(())
        if boxes is not None:
            boxes = ops.cast(boxes, "float32")
            named = ops.cast(ops.sum(boxes, axis=-1) > 0, "float32")       # words with a box
            inside = ops.sum(alphas * boxes, axis=-1)
            out["box_attention_loss"] = (ops.sum(-ops.log(inside + 1e-6) * named)
                                         / ops.maximum(ops.sum(named), 1.0))
        out["loss"] = (out["loss"] + self.attention_penalty * out["attention_penalty"]
                       + self.box_attention * out["box_attention_loss"])
        if self.attention == "hard":     # evaluation: the argmax cells' log-likelihood
            credited = 1.0 - expected if sample else ops.ones((ops.shape(tokens)[0],))
            out.update(reinforce_terms(ce, mask, alphas, picks, credited,
                                       self.reward_baseline))
        return out

    def _update(self, values: dict):
        for name, tracker in self.trackers.items():
            tracker.update_state(values[name])
        return {name: m.result() for name, m in self.trackers.items()}

    def train_step(self, data):
        from cnnstudio.core.training.gradients_tf import value_and_grads

        images, tokens = data[0], data[1]
        variables = self.trainable_variables
        hard = self.attention == "hard"

        def loss_fn():
            out = self._caption_losses(images, tokens, True, sample=hard)
            objective = out["loss"]
            if hard:
                objective = (objective + REINFORCE_WEIGHT * out["surrogate"]
                             - ENTROPY_WEIGHT * out["attention_entropy"])
            return objective, out

        _, out, grads = value_and_grads(loss_fn, variables)
        grads, _ = _clip(grads, 5.0)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        if hard:    # Xu et al.: b_k = 0.9 b_(k−1) + 0.1 log p(y | s̃_k, a)
            self.reward_baseline.assign(0.9 * self.reward_baseline + 0.1 * out["reward"])
        return self._update(out)

    def test_step(self, data):
        return self._update(self._caption_losses(data[0], data[1], False))


def reinforce_terms(ce, mask, alphas, picks, sampled, baseline) -> dict:
    """Xu et al.'s rule for stochastic hard attention, as a loss whose gradient is it.

    ``ce`` (N, T) per-word cross-entropy, ``mask`` (N, T) real words, ``alphas`` (N, T,
    cells), ``picks`` (N, T, cells) one-hot sampled cells, ``sampled`` (N,) 1 for captions
    whose contexts were sampled (the others had the expected context, no sample to credit).
    Reward: the caption's log-likelihood log p(y | s̃) = −Σ_t ce. The surrogate
    −(reward − b) · Σ_t log α_t[s̃_t], summed over sampled captions and divided by the
    words (as the cross-entropy is), raises the probability of cells that made the caption
    likelier than usual. Returns the surrogate, the mean reward (for the baseline) and the
    mean entropy of α over the words."""
    reward = ops.stop_gradient(-ops.sum(ce * mask, axis=1))
    log_pick = ops.log(ops.sum(alphas * picks, axis=-1) + 1e-8)           # (N, T)
    advantage = (reward - baseline) * sampled
    words = ops.maximum(ops.sum(mask), 1.0)
    surrogate = -ops.sum(advantage * ops.sum(log_pick * mask, axis=1)) / words
    entropy = -ops.sum(alphas * ops.log(alphas + 1e-8), axis=-1)
    return {"surrogate": surrogate,
            "reward": ops.sum(reward * sampled) / ops.maximum(ops.sum(sampled), 1.0),
            "attention_entropy": ops.sum(entropy * mask) / words}


def _clip(grads, norm: float):
    """Global-norm clipping: recurrent nets' gradients can spike early in training."""
    total = ops.sqrt(sum(ops.sum(ops.square(g)) for g in grads if g is not None))
    scale = ops.minimum(1.0, norm / ops.maximum(total, 1e-12))
    return [None if g is None else g * scale for g in grads], total


def build(image_shape, filters=16, units=128, attention_units=64, embedding=32, cell="gru",
          attention_penalty=0.0, box_attention=0.0, attention="soft") -> Captioner:
    return Captioner(image_shape, scenes.VOCAB, filters, units, attention_units, embedding,
                     cell, attention_penalty, box_attention, attention, name="captioner")
