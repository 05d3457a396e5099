"""The Recurrent Attention Model (Mnih, Heess, Graves & Kavukcuoglu 2014; book chapter 9)
as one ``keras.Model`` with its own ``train_step``.

    model = RecurrentAttention((60, 60, 1), 10, glimpses=6, patch=12, scales=3, std=0.15)
    model.compile(optimizer=Adam(1e-3))
    model.fit(batches, epochs=…)              # logs loss, accuracy, ce, reinforce, reward…
    model(images_0_255)                       # class probabilities, looking at location means
    model.trace(images, mode="mean")          # locations, glimpses, probabilities per step

Per step t: the Glimpse Sensor reads k patches at l_t; the glimpse network mixes a patch
pathway and a location pathway, g_t = ReLU(W_g·ReLU(W_p·patches) + W_l·ReLU(W_q·l_t))
(``glimpse_mix="add"``, the paper's), or "what" times "where",
g_t = ReLU(W_g·ReLU(W_p·patches) + b_g) ⊙ ReLU(W_l·ReLU(W_q·l_t) + b_l) ("multiply", Ba et
al. 2015's glimpse network);
the core network (LSTM, or the paper's ReLU RNN) updates h_t; the location network's
tanh gives the mean of l_{t+1} ~ N(mean, std²) (std fixed); the baseline network predicts
the final reward from h_t. The first glimpse is at the centre.

Loss = cross-entropy of the last step's classes
     + REINFORCE: −Σ_t log π(l_t | h) · (R − b_t), R = 1 when the class is right
     + (b_t − R)²     the baseline's regression.
The location and baseline networks see h_t with its gradient stopped (the usual practice:
the classifier's cross-entropy trains the core, REINFORCE trains where to look), and the
sampled locations enter the sensor without a gradient: they are chosen, not computed.
"""

from __future__ import annotations

import math

from cnnstudio.core.errors import ModelError
from cnnstudio.core.families.attention.ram_options import RAM_SPECS
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.options import require

K = keras()
ops = K.ops
MODES = ("mean", "sample", "random")


@K.saving.register_keras_serializable(package="cnnstudio")
class GlimpseSensor(K.layers.Layer):
    """(images (B, H, W, C), locations (B, 2)) → (B, scales, patch, patch, C).

    Each scale is two averaging matrices, rows (B, patch, H) and columns (B, patch, W),
    applied as matrix products: a block average of the square around the location, and
    rows or columns outside the image simply select nothing (zeros). Backend-neutral
    ``keras.ops`` only; the numpy twin is ``glimpse.glimpse``.
    """

    def __init__(self, patch: int = 12, scales: int = 3, ratio: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.patch, self.scales, self.ratio = int(patch), int(scales), int(ratio)

    def get_config(self):
        return {**super().get_config(), "patch": self.patch, "scales": self.scales,
                "ratio": self.ratio}

    def _averager(self, start, factor: int, size: int):
        """(B, patch, size): row u averages pixels start + u·factor … + factor − 1."""
        u = ops.arange(self.patch, dtype="int32")
        r = ops.arange(size, dtype="int32")
        low = ops.expand_dims(ops.expand_dims(start, 1) + u[None, :] * factor, -1)
        inside = ops.logical_and(r[None, None, :] >= low, r[None, None, :] < low + factor)
        return ops.cast(inside, "float32") / float(factor)

    def centres(self, locations, height: int, width: int):
        loc = ops.clip(ops.cast(locations, "float32"), -1.0, 1.0)
        cy = ops.cast(ops.floor((loc[:, 0] + 1.0) / 2.0 * height), "int32")
        cx = ops.cast(ops.floor((loc[:, 1] + 1.0) / 2.0 * width), "int32")
        return ops.minimum(cy, height - 1), ops.minimum(cx, width - 1)

    def call(self, images, locations):
        images = ops.cast(images, "float32")
        height, width = int(images.shape[1]), int(images.shape[2])
        cy, cx = self.centres(locations, height, width)
        out = []
        for i in range(self.scales):
            factor = self.ratio ** i
            half = self.patch * factor // 2
            rows = self._averager(cy - half, factor, height)
            cols = self._averager(cx - half, factor, width)
            x = ops.einsum("bgh,bhwc->bgwc", rows, images)
            out.append(ops.einsum("bgwc,bkw->bgkc", x, cols))
        return ops.stack(out, axis=1)


def gaussian_log_prob(locations, means, std: float):
    """log N(l; mean, std²) summed over the two coordinates (gradient to the mean only)."""
    z = (ops.stop_gradient(locations) - means) / std
    return ops.sum(-0.5 * z * z - math.log(std * math.sqrt(2 * math.pi)), axis=-1)


def reinforce_terms(log_pi, reward, baselines):
    """REINFORCE with a baseline, and the baseline's regression, for log π (B, T) of the
    chosen locations, the episode's reward (B,) and the baselines (B, T):

        −mean_b Σ_t log π_t · (R − b_t)      its gradient raises the probability of
                                             locations that earned more than expected
        mean (b_t − R)²
    """
    advantage = ops.stop_gradient(reward[:, None] - baselines)
    return (-ops.mean(ops.sum(log_pi * advantage, axis=1)),
            ops.mean(ops.square(baselines - reward[:, None])))


@K.saving.register_keras_serializable(package="cnnstudio")
class RecurrentAttention(K.Model):
    def __init__(self, image_shape=(60, 60, 1), num_classes: int = 10, glimpses: int = 6,
                 patch: int = 12, scales: int = 3, ratio: int = 2, std: float = 0.15,
                 hidden: int = 256, core: str = "lstm", samples: int = 1,
                 hint_epochs: int = 0, patch_net: str = "dense", glimpse_mix: str = "add",
                 **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.num_classes, self.glimpses = int(num_classes), int(glimpses)
        self.patch, self.scales, self.ratio = int(patch), int(scales), int(ratio)
        self.std, self.hidden, self.core_kind = float(std), int(hidden), str(core)
        self.samples, self.hint_epochs = int(samples), int(hint_epochs)
        self.patch_net_kind, self.glimpse_mix = str(patch_net), str(glimpse_mix)
        # A saved file's config meets the same specs as the form and the run config.
        for spec in RAM_SPECS:
            if spec.kind == "choice":
                require(spec, {"core": self.core_kind, "patch_net": self.patch_net_kind,
                               "glimpse_mix": self.glimpse_mix}[spec.name])
        layers = K.layers
        self.sensor = GlimpseSensor(self.patch, self.scales, self.ratio, name="glimpse_sensor")
        self.patch_convs = [] if self.patch_net_kind == "dense" else [
            layers.Conv2D(32, 3, padding="same", activation="relu", name="patch_conv1"),
            layers.Conv2D(64, 3, strides=2, padding="same", activation="relu",
                          name="patch_conv2")]
        self.patch_net = layers.Dense(128, activation="relu", name="patch_pathway")
        self.where_net = layers.Dense(128, activation="relu", name="location_pathway")
        self.glimpse_from_patch = layers.Dense(self.hidden, name="glimpse_what")
        # Multiplied, the "where" gate starts open (bias 1): at the first glimpse, at the
        # centre l = 0, a zero bias would shut every feature and ReLU's zero gradient there
        # would keep them shut.
        multiply = self.glimpse_mix == "multiply"
        self.glimpse_from_where = layers.Dense(self.hidden, use_bias=multiply,
                                               bias_initializer="ones", name="glimpse_where")
        self.core = (layers.LSTMCell(self.hidden, name="core_lstm") if self.core_kind == "lstm"
                     else layers.SimpleRNNCell(self.hidden, activation="relu", name="core_rnn"))
        self.locator = layers.Dense(2, activation="tanh", name="location_network")
        self.baseliner = layers.Dense(1, name="baseline_network")
        self.classifier = layers.Dense(self.num_classes, name="action_network")
        self.seed_generator = K.random.SeedGenerator()
        self.trackers = {name: K.metrics.Mean(name=name) for name in
                         ("loss", "accuracy", "ce", "reinforce", "baseline_loss", "reward")}
        # 1 while the location hint is on (the first hint_epochs epochs), else 0; a
        # variable, so switching it needs no retracing of train_step.
        self.hint_weight = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                           name="hint_weight")
        self._unroll(ops.zeros((1, *self.image_shape)), "mean")     # creates every weight
        self.built = True

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape,
                "num_classes": self.num_classes, "glimpses": self.glimpses,
                "patch": self.patch, "scales": self.scales, "ratio": self.ratio,
                "std": self.std, "hidden": self.hidden, "core": self.core_kind,
                "samples": self.samples, "hint_epochs": self.hint_epochs,
                "patch_net": self.patch_net_kind, "glimpse_mix": self.glimpse_mix}

    def build(self, input_shape=None):
        self.built = True        # built in __init__

    # -- looking --------------------------------------------------------------------------
    def _next_location(self, h, mode: str, n, seed):
        mean = self.locator(ops.stop_gradient(h))
        if mode == "mean":
            return mean, mean
        if mode == "random":
            return mean, K.random.uniform((n, 2), -1.0, 1.0, seed=seed)
        noise = K.random.normal((n, 2), stddev=self.std, seed=seed)
        return mean, ops.stop_gradient(ops.clip(mean + noise, -1.0, 1.0))

    def _unroll(self, images, mode: str, training: bool = False, seed=None):
        """Every step's logits, locations (including the first, the centre), location means,
        baselines and glimpses; random draws from ``seed`` (a SeedGenerator), by default
        the model's own."""
        seed = seed or self.seed_generator
        x = ops.cast(images, "float32") / 255.0
        n = ops.shape(x)[0]
        loc = ops.zeros((n, 2), "float32")
        state = [ops.zeros((n, self.hidden))] * (2 if self.core_kind == "lstm" else 1)
        out = {k: [] for k in ("logits", "locations", "means", "baselines", "glimpses")}
        for t in range(self.glimpses):
            patches = self.sensor(x, ops.stop_gradient(loc))
            flat = self._patch_features(patches, n)
            what = self.glimpse_from_patch(self.patch_net(flat))
            where = self.glimpse_from_where(self.where_net(loc))
            g = (ops.relu(what) * ops.relu(where) if self.glimpse_mix == "multiply"
                 else ops.relu(what + where))
            h, state = self.core(g, state, training=training)
            state = list(state) if isinstance(state, (list, tuple)) else [state]
            out["logits"].append(self.classifier(h))
            out["locations"].append(loc)
            out["glimpses"].append(patches)
            if t + 1 < self.glimpses:
                mean, loc = self._next_location(h, mode, n, seed)
                out["means"].append(mean)
                out["baselines"].append(ops.squeeze(self.baseliner(ops.stop_gradient(h)), -1))
        return out

    def _patch_features(self, patches, n):
        """(B, scales, g, g, C) → what the patch pathway reads: the pixels (dense), or the
        convolutions' maps over the scales stacked as channels (they share one centre)."""
        if not self.patch_convs:
            return ops.reshape(patches, (n, -1))
        x = ops.transpose(patches, (0, 2, 3, 1, 4))
        x = ops.reshape(x, (n, self.patch, self.patch, -1))
        for conv in self.patch_convs:
            x = conv(x)
        return ops.reshape(x, (n, -1))

    def call(self, images, training=False):
        """Class probabilities: the location means, or the average of ``samples`` sampled
        runs when samples > 1."""
        if self.samples <= 1:
            return ops.softmax(self._unroll(images, "mean", training)["logits"][-1])
        runs = [ops.softmax(self._unroll(images, "sample", training)["logits"][-1])
                for _ in range(self.samples)]
        return ops.mean(ops.stack(runs), axis=0)

    def trace(self, images, mode: str = "mean", seed: int | None = None) -> dict:
        """numpy: locations (B, T, 2), glimpses (B, T, k, g, g, C), probabilities (B, T, C)
        after each glimpse, for the glimpse panel, the probes and ``cnnstudio predict``.
        An int ``seed`` repeats the random draws ("sample", "random") exactly."""
        import numpy as np

        if mode not in MODES:
            raise ModelError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        generator = K.random.SeedGenerator(int(seed)) if seed is not None else None
        out = self._unroll(ops.convert_to_tensor(np.asarray(images, np.float32)), mode,
                           seed=generator)
        logits = ops.stack(out["logits"], axis=1)
        return {"locations": np.asarray(ops.stack(out["locations"], axis=1)),
                "glimpses": np.asarray(ops.stack(out["glimpses"], axis=1)),
                "probabilities": np.asarray(ops.softmax(logits, axis=-1))}

    # -- learning -------------------------------------------------------------------------
    @property
    def metrics(self):
        return list(self.trackers.values())

    def log_prob(self, locations, means):
        return gaussian_log_prob(locations, means, self.std)

    def losses_of(self, images, labels, training: bool = True, centres=None):
        out = self._unroll(images, "sample", training)
        logits = out["logits"][-1]
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        ce = ops.mean(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))
        reward = ops.cast(ops.equal(ops.cast(ops.argmax(logits, -1), "int32"), labels),
                          "float32")
        parts = {"ce": ce, "reward": ops.mean(reward), "logits": logits}
        if out["means"]:
            log_pi = ops.stack([self.log_prob(loc, mean) for loc, mean in
                                zip(out["locations"][1:], out["means"], strict=True)], axis=1)
            parts["reinforce"], parts["baseline_loss"] = reinforce_terms(
                log_pi, reward, ops.stack(out["baselines"], axis=1))
        else:          # one glimpse: nothing is chosen, nothing to reinforce
            parts["reinforce"] = parts["baseline_loss"] = ops.zeros(())
        parts["loss"] = ce + parts["reinforce"] + parts["baseline_loss"]
        if centres is not None and out["means"]:
            # The optional hybrid start: the location means also regress onto the digit's
            # centre while hint_weight is 1 (ram_task switches it off after hint_epochs).
            target = ops.cast(centres, "float32")[:, None, :]
            hint = ops.mean(ops.sum(ops.square(ops.stack(out["means"], 1) - target), -1))
            parts["loss"] = parts["loss"] + self.hint_weight * hint
        return parts

    def train_step(self, data):
        from cnnstudio.core.training.gradients_tf import value_and_grads

        images, labels = data[0], data[1]
        centres = None
        if isinstance(labels, (tuple, list)):     # (labels, digit centres): SceneBatches
            labels, centres = labels
        variables = self.trainable_variables
        loss, parts, grads = value_and_grads(lambda: self._loss(images, labels, centres),
                                             variables)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        return self._update(parts, labels)

    def _loss(self, images, labels, centres=None):
        parts = self.losses_of(images, labels, training=True, centres=centres)
        return parts["loss"], parts

    def _update(self, parts, labels):
        t = self.trackers
        for name in ("loss", "ce", "reinforce", "baseline_loss", "reward"):
            t[name].update_state(parts[name])
        t["accuracy"].update_state(parts["reward"])
        return {name: m.result() for name, m in t.items()}

    def test_step(self, data):
        """Validation looks at the location means: loss is the cross-entropy there."""
        images, labels = data[0], data[1]
        if isinstance(labels, (tuple, list)):
            labels = labels[0]
        probs = self(images, training=False)
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        ce = ops.mean(ops.sparse_categorical_crossentropy(labels, probs))
        right = ops.cast(ops.equal(ops.cast(ops.argmax(probs, -1), "int32"), labels), "float32")
        self.trackers["loss"].update_state(ce)
        self.trackers["accuracy"].update_state(ops.mean(right))
        return {"loss": self.trackers["loss"].result(),
                "accuracy": self.trackers["accuracy"].result()}


def build_ram(input_shape, num_classes, **options) -> RecurrentAttention:
    return RecurrentAttention(input_shape, num_classes, name="ram", **options)
