"""R-CNN (Girshick et al. 2014) as one ``keras.Model``: a small CNN that classifies warped
region crops and regresses their boxes, plus the numpy pipeline around it.

    model = build_rcnn(64, ["background", "square", "circle", "triangle"])
    model.fit({"crops": uint8 (M, crop, crop, 3), "class_ids": (M,) int32 (0 background),
               "box_targets": (M, 4) box_coding deltas of the matched ground truth})
    found = model.detect_image(image_uint8)        # Instances-format dict
    story = model.story(image_uint8, top=16)       # every stage, timed

Detection, as in the paper: selective-search proposals of the image (at the model's
``image_size``) → each proposal warped, with ``context`` pixels of surroundings, to
crop×crop (``warp_crops``) → the CNN: softmax over classes + background and per-class box
deltas (decoded against the proposal) → per-class NMS (``region_targets.per_class_nms``).
The loss: cross-entropy over all crops + smooth L1 on the foreground crops' own-class
deltas (averaged over the foreground crops).
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
from cnnstudio.core.keras_setup import keras

K = keras()
L = K.layers
LOSS_NAMES = ("loss", "class_loss", "box_loss", "accuracy")
BATCH = 512                     # crops per CNN call at inference
_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # model → inference fn


# -- numpy: proposals and crops ------------------------------------------------------------
def warp_crops(image: np.ndarray, boxes: np.ndarray, crop: int, context: int = 0
               ) -> np.ndarray:
    """(N, crop, crop, 3) uint8: each box warped (aspect not kept, as the paper does) so
    that it fills the crop less ``context`` pixels on every side, which show its
    surroundings; outside the image the border pixels repeat."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    out = np.empty((len(boxes), crop, crop, 3), np.uint8)
    inner = max(crop - 2 * context, 1)
    for i, (y1, x1, y2, x2) in enumerate(boxes):
        sy, sx = max(y2 - y1, 1e-3) / inner, max(x2 - x1, 1e-3) / inner
        oy, ox = y1 - context * sy, x1 - context * sx
        # Output pixel (u, v)'s centre samples image point (o + (u + ½)·s − ½).
        matrix = np.array([[sx, 0, ox + 0.5 * sx - 0.5], [0, sy, oy + 0.5 * sy - 0.5]],
                          np.float64)
        out[i] = cv2.warpAffine(image, matrix, (crop, crop), flags=cv2.INTER_LINEAR
                                | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return out


# -- the network -----------------------------------------------------------------------------
def crop_network(crop: int, filters: int, units: int, classes: int):
    """Crop (crop, crop, 3) uint8 → class logits (classes + 1) and box deltas (classes·4)."""
    inp = K.Input((crop, crop, 3), name="crop")
    x = L.Rescaling(1 / 127.5, offset=-1.0, name="scale")(inp)
    for stage, width in enumerate((filters, filters * 2, filters * 4), start=1):
        x = L.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{stage}")(x)
        x = L.BatchNormalization(name=f"conv{stage}_bn")(x)
        x = L.ReLU(name=f"conv{stage}_relu")(x)
        x = L.MaxPooling2D(2, name=f"pool{stage}")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(units, activation="relu", name="fc")(x)
    logits = L.Dense(classes + 1, name="class_logits")(x)
    deltas = L.Dense(classes * 4, name="box_deltas",
                     kernel_initializer=K.initializers.RandomNormal(stddev=0.001))(x)
    return K.Model(inp, [logits, deltas], name="crop_cnn")


@K.saving.register_keras_serializable(package="cnnstudio")
class RCNN(LossPartsSteps, K.Model):
    def __init__(self, image_size=64, class_names=("background", "object"), crop=32,
                 context=2, filters=16, units=128, crops_per_image=24, fg_fraction=0.25,
                 proposal_mode="fast", max_proposals=300, min_score=0.05, nms_iou=0.3,
                 max_detections=20, **kwargs):
        super().__init__(**kwargs)
        self.image_size, self.crop, self.context = int(image_size), int(crop), int(context)
        self.class_names = [str(c) for c in class_names]
        self.num_classes = len(self.class_names) - 1
        if self.num_classes < 1:
            raise ModelError("rcnn needs at least one object class")
        if 2 * self.context >= self.crop:
            raise ModelError(f"rcnn: context ({context} px a side) leaves no room for the "
                             f"region in a {crop}-pixel crop")
        self.filters, self.units = int(filters), int(units)
        self.crops_per_image, self.fg_fraction = int(crops_per_image), float(fg_fraction)
        self.proposal_mode, self.max_proposals = str(proposal_mode), int(max_proposals)
        self.min_score, self.nms_iou = float(min_score), float(nms_iou)
        self.max_detections = int(max_detections)
        self.net = crop_network(self.crop, self.filters, self.units, self.num_classes)
        self.trackers = {name: K.metrics.Mean(name=name) for name in LOSS_NAMES}
        self.build((None, self.crop, self.crop, 3))

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size,
                "class_names": self.class_names, "crop": self.crop, "context": self.context,
                "filters": self.filters, "units": self.units,
                "crops_per_image": self.crops_per_image, "fg_fraction": self.fg_fraction,
                "proposal_mode": self.proposal_mode, "max_proposals": self.max_proposals,
                "min_score": self.min_score, "nms_iou": self.nms_iou,
                "max_detections": self.max_detections}

    def build(self, input_shape=None):
        self.built = True           # the crop CNN is a built functional model

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, crops, training=False):
        logits, deltas = self.net(crops, training=training)
        return {"class_logits": logits, "box_deltas": deltas}

    # -- training ------------------------------------------------------------------------
    def compute_losses(self, data, training):
        ids = tf.cast(tf.reshape(data["class_ids"], (-1,)), tf.int32)
        targets = tf.cast(data["box_targets"], tf.float32)
        logits, deltas = self.net(data["crops"], training=training)
        class_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(ids, logits))
        deltas = tf.reshape(deltas, (-1, self.num_classes, 4))
        # Each crop's own-class deltas (B, 4), picked by a one-hot product rather than a
        # gather: dense gradients, summed in a fixed order (a resume repeats to the bit).
        pick = tf.one_hot(tf.maximum(ids - 1, 0), self.num_classes)[..., None]
        own = tf.reduce_sum(deltas * pick, axis=1)
        error = tf.abs(own - targets)
        smooth_l1 = tf.reduce_sum(tf.where(error < 1.0, 0.5 * error ** 2, error - 0.5), -1)
        fg = tf.cast(ids > 0, tf.float32)
        box_loss = tf.reduce_sum(smooth_l1 * fg) / tf.maximum(tf.reduce_sum(fg), 1.0)
        right = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), ids), tf.float32)
        return {"loss": class_loss + box_loss, "class_loss": class_loss,
                "box_loss": box_loss, "accuracy": tf.reduce_mean(right)}

    def predict_step(self, data):
        data = self._inputs(data)
        return self(data["crops"] if isinstance(data, dict) else data, training=False)

    # -- inference -------------------------------------------------------------------------
    def classify_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(softmax (N, C+1), box deltas (N, C, 4)) of uint8 crops, in calls of BATCH."""
        fn = _TRACED.get(self)
        if fn is None:
            spec = tf.TensorSpec((None, self.crop, self.crop, 3), tf.uint8)
            fn = tf.function(lambda x: self.net(x, training=False), input_signature=[spec])
            _TRACED[self] = fn
        scores, deltas = [], []
        for start in range(0, len(crops), BATCH):
            logits, d = fn(tf.constant(crops[start:start + BATCH]))
            scores.append(tf.nn.softmax(logits).numpy())
            deltas.append(d.numpy())
        if not scores:
            return (np.zeros((0, self.num_classes + 1), np.float32),
                    np.zeros((0, self.num_classes, 4), np.float32))
        return (np.concatenate(scores).astype(np.float32),
                np.concatenate(deltas).reshape(-1, self.num_classes, 4).astype(np.float32))

    def _seen(self, image) -> tuple[np.ndarray, float, float]:
        from cnnstudio.core.families.detection.maskrcnn_probes import as_rgb

        image = as_rgb(image)
        h, w = image.shape[:2]
        size = self.image_size
        if (h, w) == (size, size):
            return image, 1.0, 1.0
        seen = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA
                          if min(h, w) > size else cv2.INTER_LINEAR)
        return seen, h / size, w / size

    def _finish(self, proposals, scores, deltas, sy, sx, shape) -> dict:
        size = float(self.image_size)
        refined = box_coding.decode(deltas, proposals[:, None, :]) if len(proposals) else \
            np.zeros((0, self.num_classes, 4), np.float32)
        refined = np.clip(refined, 0.0, size).astype(np.float32)
        boxes, ids, kept = region_targets.per_class_nms(
            refined, scores, iou=self.nms_iou, score_min=self.min_score,
            max_detections=self.max_detections) if len(proposals) else (
            np.zeros((0, 4), np.float32), np.zeros(0, np.int32), np.zeros(0, np.float32))
        scale = np.array([sy, sx, sy, sx], np.float32)
        return {"boxes": (boxes * scale).astype(np.float32), "class_ids": ids,
                "scores": kept, "class_names": list(self.class_names),
                "image_size": tuple(int(s) for s in shape)}

    def detect_batch(self, images) -> list[dict]:
        """Instances-format dicts of several images, their crops classified together."""
        seen = [self._seen(image) for image in images]
        props = [selective_search.cached(s, self.proposal_mode, self.max_proposals) for s, _, _ in seen]
        crops = [warp_crops(s, p, self.crop, self.context) for (s, _, _), p in
                 zip(seen, props, strict=True)]
        scores, deltas = self.classify_crops(np.concatenate(crops) if crops else
                                             np.zeros((0, self.crop, self.crop, 3), np.uint8))
        out, start = [], 0
        for image, (_, sy, sx), p in zip(images, seen, props, strict=True):
            end = start + len(p)
            out.append(self._finish(p, scores[start:end], deltas[start:end], sy, sx,
                                    np.shape(image)[:2]))
            start = end
        return out

    def detect_image(self, image) -> dict:
        return self.detect_batch([image])[0]

    def story(self, image, top: int = 16) -> dict:
        """Every stage of one image, timed. ``crops``/``crop_scores``/``crop_boxes``: the
        ``top`` proposals the CNN found most object-like (best class score, background
        aside), their softmax and their proposal boxes; ``refined_boxes``: those boxes
        after their best class's regression. Boxes in the pixels of the image given."""
        seen, sy, sx = self._seen(image)
        t0 = time.perf_counter()
        # Proposed afresh (not from the cache), so the time is selective search's own.
        props = selective_search.propose(seen, self.proposal_mode, self.max_proposals)
        t1 = time.perf_counter()
        crops = warp_crops(seen, props, self.crop, self.context)
        scores, deltas = self.classify_crops(crops)
        t2 = time.perf_counter()
        found = self._finish(props, scores, deltas, sy, sx, np.shape(image)[:2])
        t3 = time.perf_counter()
        order = np.argsort(-scores[:, 1:].max(axis=1), kind="stable")[:max(0, int(top))] \
            if len(props) else np.zeros(0, np.int64)
        best = scores[order, 1:].argmax(axis=1) if len(order) else np.zeros(0, np.int64)
        refined = box_coding.decode(deltas[order, best], props[order]) if len(order) else \
            np.zeros((0, 4), np.float32)
        scale = np.array([sy, sx, sy, sx], np.float32)
        return {"proposals": props * scale, "crops": crops[order],
                "crop_scores": scores[order], "crop_boxes": props[order] * scale,
                "refined_boxes": np.clip(refined, 0, self.image_size) * scale,
                "detections": found, "cnn_calls": int(len(props)),
                "ms": {"proposals": (t1 - t0) * 1e3, "cnn": (t2 - t1) * 1e3,
                       "nms": (t3 - t2) * 1e3}}


def build_rcnn(image_size, class_names, **options) -> RCNN:
    return RCNN(image_size, class_names, name="rcnn", **options)
