"""Fast R-CNN (Girshick 2015) as one ``keras.Model`` with its own ``train_step``.

    model = build_fast_rcnn(64, ["background", "square", "circle", "triangle"])
    model.fit({"images": uint8 (N, S, S, 3), "rois": (N, P, 4) px,
               "roi_labels": (N, P) int32 (class, 0 background, −1 ignored or padding),
               "roi_targets": (N, P, 4) box_coding deltas to the matched ground truth})
    found = model.detect_image(image_uint8)        # Instances-format dict
    story = model.story(image_uint8)               # every stage, timed

The network: a small VGG-like backbone (three stages of two 3×3 conv + batch norm, max
pooling between: stride 4), RoI max pooling of each proposal to 7×7 (``roi_pool_tf``), two
dense layers, then a softmax over the classes + background and per-class box deltas.
Each step samples ``rois_per_image`` of every image's labelled proposals, at most
``fg_fraction`` foreground (the paper: 64 and 25%; 32 here by default), from the model's
own random stream (saved with each checkpoint: a resumed run samples what an
uninterrupted one did).
The loss is the paper's multi-task loss: cross-entropy + smooth L1 on the foreground
RoIs' own-class deltas, both averaged over the sampled RoIs (λ = 1).
"""

from __future__ import annotations

import time
import weakref

import cv2
import numpy as np
import tensorflow as tf

from cnnstudio.core.errors import ModelError
from cnnstudio.core.families.detection import box_coding, region_targets, selective_search
from cnnstudio.core.families.detection.loss_parts_tf import LossPartsSteps
from cnnstudio.core.families.detection.roi_pool_tf import roi_pool_tf
from cnnstudio.core.keras_setup import keras

K = keras()
L = K.layers
POOL = 7
STRIDE = 4
LOSS_NAMES = ("loss", "class_loss", "box_loss", "fg_fraction")
_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # model → traced pieces


def backbone_network(size, filters):
    inp = K.Input((size, size, 3), name="image")
    x = inp
    for stage, width in enumerate((filters, filters * 2, filters * 4)):
        if stage:
            x = L.MaxPooling2D(2, name=f"pool{stage}")(x)
        for j in (1, 2):
            x = L.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{stage + 1}_{j}")(x)
            x = L.BatchNormalization(name=f"conv{stage + 1}_{j}_bn")(x)
            x = L.ReLU(name=f"conv{stage + 1}_{j}_relu")(x)
    return K.Model(inp, x, name="backbone")


def head_network(channels, units, classes):
    inp = K.Input((POOL, POOL, channels), name="roi")
    x = L.Flatten(name="flatten")(inp)
    for i in (1, 2):
        x = L.Dense(units, activation="relu", name=f"fc{i}")(x)
    logits = L.Dense(classes + 1, name="class_logits")(x)
    deltas = L.Reshape((classes + 1, 4), name="deltas")(
        L.Dense((classes + 1) * 4, name="box_deltas", kernel_initializer=K.initializers
                .RandomNormal(stddev=0.001))(x))
    return K.Model(inp, [logits, deltas], name="heads")


def sample_rois(labels, u, count: int, fg_count: int):
    """Batched ``region_targets.sample`` in TensorFlow: per image the indices (B, count) of
    up to ``fg_count`` random foreground (label > 0) then random background (label 0)
    proposals, and which of the ``count`` slots hold one (B, count)."""
    fg_key = tf.where(labels > 0, u, -1.0)
    bg_key = tf.where(tf.equal(labels, 0), u, -1.0)
    v_f, i_f = tf.math.top_k(fg_key, fg_count)
    v_b, i_b = tf.math.top_k(bg_key, count)
    cand = tf.concat([i_f, i_b], axis=1)
    ok = tf.concat([v_f >= 0.0, v_b >= 0.0], axis=1)
    pos = tf.cast(tf.range(tf.shape(cand)[1]), tf.float32)[None]
    # The first `count` valid candidates, in order: valid ones rank by position first.
    _, order = tf.math.top_k(tf.where(ok, -pos, -pos - 1e6), count)
    return tf.gather(cand, order, batch_dims=1), tf.gather(ok, order, batch_dims=1)


@K.saving.register_keras_serializable(package="cnnstudio")
class FastRCNN(LossPartsSteps, K.Model):
    def __init__(self, image_size=64, class_names=("background", "object"), filters=16,
                 head_units=256, rois_per_image=32, fg_fraction=0.25, bg_low=0.0,
                 proposal_mode="fast", max_proposals=300, min_score=0.05, max_detections=20,
                 **kwargs):
        super().__init__(**kwargs)
        self.image_size = int(image_size)
        if self.image_size % STRIDE or not 32 <= self.image_size <= 1024:
            raise ModelError(f"fast-rcnn needs square images whose side is a multiple of "
                             f"{STRIDE} between 32 and 1024, got {image_size}")
        self.class_names = [str(c) for c in class_names]
        self.num_classes = len(self.class_names) - 1
        if self.num_classes < 1:
            raise ModelError("fast-rcnn needs at least one object class")
        self.filters, self.head_units = int(filters), int(head_units)
        self.rois_per_image, self.fg_fraction = int(rois_per_image), float(fg_fraction)
        self.bg_low, self.proposal_mode = float(bg_low), str(proposal_mode)
        self.max_proposals, self.min_score = int(max_proposals), float(min_score)
        self.max_detections = int(max_detections)
        self.backbone = backbone_network(self.image_size, self.filters)
        self.heads = head_network(self.filters * 4, self.head_units, self.num_classes)
        self.trackers = {name: K.metrics.Mean(name=name) for name in LOSS_NAMES}
        self.sample_seed = K.random.SeedGenerator()       # drawn from the run's seed
        self.build((None, self.image_size, self.image_size, 3))

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size,
                "class_names": self.class_names, "filters": self.filters,
                "head_units": self.head_units, "rois_per_image": self.rois_per_image,
                "fg_fraction": self.fg_fraction, "bg_low": self.bg_low,
                "proposal_mode": self.proposal_mode, "max_proposals": self.max_proposals,
                "min_score": self.min_score, "max_detections": self.max_detections}

    def build(self, input_shape=None):
        self.built = True           # both sub-networks are built functional models

    @property
    def metrics(self):
        return list(self.trackers.values())

    # -- the forward pieces --------------------------------------------------------------
    def features(self, images, training=False):
        return self.backbone(tf.cast(images, tf.float32) / 127.5 - 1.0, training=training)

    def head(self, features, rois, batch_index, training=False):
        """(R, C+1) softmax and (R, C+1, 4) deltas of pixel RoIs (R, 4) on their images."""
        pooled = roi_pool_tf(features, rois, batch_index, self.image_size, POOL)
        logits, deltas = self.heads(pooled, training=training)
        return logits, deltas

    def call(self, inputs, training=False):
        """{"images" (B, S, S, 3), "rois" (B, N, 4)} → {"probs" (B, N, C+1),
        "deltas" (B, N, C+1, 4)}; plain images give the feature map."""
        if not isinstance(inputs, dict):
            return self.features(inputs, training)
        rois = tf.cast(inputs["rois"], tf.float32)
        b, n = tf.shape(rois)[0], tf.shape(rois)[1]
        logits, deltas = self.head(self.features(inputs["images"], training),
                                   tf.reshape(rois, (-1, 4)), tf.repeat(tf.range(b), n),
                                   training)
        c = self.num_classes + 1
        return {"probs": tf.reshape(tf.nn.softmax(logits), (b, n, c)),
                "deltas": tf.reshape(deltas, (b, n, c, 4))}

    # -- training ------------------------------------------------------------------------
    def compute_losses(self, data, training):
        rois, labels = tf.cast(data["rois"], tf.float32), tf.cast(data["roi_labels"], tf.int32)
        targets = tf.cast(data["roi_targets"], tf.float32)
        b = tf.shape(rois)[0]
        count = self.rois_per_image
        u = K.random.uniform(tf.shape(labels), seed=self.sample_seed)
        pick, ok = sample_rois(labels, u, count, max(1, round(count * self.fg_fraction)))
        rois = tf.gather(rois, pick, batch_dims=1)
        labels = tf.where(ok, tf.gather(labels, pick, batch_dims=1), 0)
        targets = tf.gather(targets, pick, batch_dims=1)
        logits, deltas = self.head(self.features(data["images"], training),
                                   tf.reshape(rois, (-1, 4)), tf.repeat(tf.range(b), count),
                                   training)
        labels, ok = tf.reshape(labels, (-1,)), tf.cast(tf.reshape(ok, (-1,)), tf.float32)
        n = tf.maximum(tf.reduce_sum(ok), 1.0)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        own = tf.gather(deltas, labels, batch_dims=1)                    # (R, 4)
        diff = tf.abs(own - tf.reshape(targets, (-1, 4)))
        smooth = tf.reduce_sum(tf.where(diff < 1.0, 0.5 * diff * diff, diff - 0.5), axis=1)
        fg = tf.cast(labels > 0, tf.float32) * ok
        parts = {"class_loss": tf.reduce_sum(ce * ok) / n,
                 "box_loss": tf.reduce_sum(smooth * fg) / n}
        parts["loss"] = parts["class_loss"] + parts["box_loss"]
        parts["fg_fraction"] = tf.reduce_sum(fg) / n
        return parts

    # -- inference (numpy in, numpy out) --------------------------------------------------
    def _pieces(self):
        if self.run_eagerly:
            return self.features, self._scores
        fns = _TRACED.get(self)
        if fns is None:
            s = self.image_size
            fns = _TRACED[self] = (
                tf.function(self.features, input_signature=[
                    tf.TensorSpec((1, s, s, 3), tf.uint8)], autograph=False),
                tf.function(self._scores, input_signature=[
                    tf.TensorSpec((1, None, None, self.filters * 4), tf.float32),
                    tf.TensorSpec((None, 4), tf.float32)], autograph=False))
        return fns

    def _scores(self, features, rois):
        logits, deltas = self.head(features, rois, tf.zeros(tf.shape(rois)[:1], tf.int32))
        return tf.nn.softmax(logits), deltas

    def story(self, image_uint8, cache: bool = False) -> dict:
        """Every stage on one image, in its own pixels (the model sees it resized to its
        square input): proposals, the feature map's mean activation (h, w), the RoIs
        scored, the detections and each stage's milliseconds; one CNN pass."""
        from cnnstudio.core.families.detection.maskrcnn_probes import as_rgb

        image = as_rgb(image_uint8)
        h, w = image.shape[:2]
        s = self.image_size
        seen = image if (h, w) == (s, s) else cv2.resize(
            image, (s, s), interpolation=cv2.INTER_AREA if min(h, w) > s else cv2.INTER_LINEAR)
        backbone, scores = self._pieces()
        t0 = time.perf_counter()
        rois = selective_search.cached(seen, self.proposal_mode, self.max_proposals, cache)
        t1 = time.perf_counter()
        features = backbone(tf.constant(seen[None]))
        fmap = features.numpy()[0]
        t2 = time.perf_counter()
        if len(rois):
            probs, deltas = (v.numpy() for v in scores(features, tf.constant(rois)))
        else:
            probs = np.zeros((0, self.num_classes + 1), np.float32)
            deltas = np.zeros((0, self.num_classes + 1, 4), np.float32)
        t3 = time.perf_counter()
        boxes = np.clip(box_coding.decode(deltas, rois[:, None, :]), 0, s)
        found = region_targets.per_class_nms(boxes, probs, iou=0.3, score_min=self.min_score,
                                             max_detections=self.max_detections)
        t4 = time.perf_counter()
        scale = np.array([h / s, w / s, h / s, w / s], np.float32)
        detections = {"boxes": (found[0] * scale).astype(np.float32), "class_ids": found[1],
                      "scores": found[2], "class_names": list(self.class_names),
                      "image_size": (h, w)}
        return {"proposals": (rois * scale).astype(np.float32),
                "feature_map": fmap.mean(axis=-1).astype(np.float32),
                "feature_stride": max(1, round(h / fmap.shape[0])),   # in the image's pixels
                "rois": (rois * scale).astype(np.float32), "roi_scores": probs,
                "detections": detections, "cnn_calls": 1,
                "ms": {"proposals": (t1 - t0) * 1e3, "backbone": (t2 - t1) * 1e3,
                       "heads": (t3 - t2) * 1e3, "nms": (t4 - t3) * 1e3}}

    def detect_image(self, image_uint8, cache: bool = False) -> dict:
        """The detections (an Instances-format dict, no masks) of one image."""
        return self.story(image_uint8, cache)["detections"]


def build_fast_rcnn(image_size, class_names, **options) -> FastRCNN:
    return FastRCNN(image_size, class_names, name="fast_rcnn", **options)
