"""A compact Mask R-CNN as one ``keras.Model`` (TensorFlow backend: its glue is
``maskrcnn_tf``), with its own ``train_step`` so the engine trains it like any model.

    model = build_maskrcnn(128, ["background", "square", "circle", "triangle"])
    model.compile(optimizer=Adam(1e-3))
    model.fit({"images": uint8 (N, 128, 128, 3), "gt_boxes": (N, G, 4) px,
               "gt_class_ids": (N, G) int32 (0 = empty slot), "gt_masks": (N, G, H, W) uint8})
    out = model(images)        # boxes (B, K, 4) px, class_ids, scores, masks (B, K, 28, 28), valid

The network (He et al. 2017, on a budget):
- backbone: a stem and three ResNet basic-block stages, strides 4, 8, 16 (C2–C4);
- FPN: 1×1 laterals + top-down ×2 upsampling + 3×3 smoothing → P2, P3, P4;
- RPN: one shared head on P3 and P4 (anchors.py: 2 sizes × 3 ratios per cell);
- proposals: top pre-NMS anchors, decoded, NMS at 0.7 (``maskrcnn_tf.proposals``);
- RoIAlign on P2 only: FPN's own level rule k = 4 + log2(√(wh)/224) puts every RoI under
  112 px — all of them on 128×128 images — on P2, so the other levels would never be read;
- heads: 7×7 RoIAlign → two dense layers → class logits and per-class box deltas;
  14×14 RoIAlign → two 3×3 convolutions → ×2 transposed conv → a 28×28 mask per class
  (batch norm after each dense and convolution layer of the heads, as matterport has).
"""

from __future__ import annotations

import weakref

import numpy as np
import tensorflow as tf

from cnnstudio.core.errors import ModelError
from cnnstudio.core.families.detection import anchors as anchor_lib
from cnnstudio.core.families.detection import maskrcnn_losses_tf as losses
from cnnstudio.core.families.detection import maskrcnn_tf as ops_tf
from cnnstudio.core.families.detection.loss_parts_tf import LossPartsSteps
from cnnstudio.core.keras_setup import keras

K = keras()
L = K.layers
MASK_SIZE = 28
_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # model → traced stages
LOSS_NAMES = ("loss", "rpn_class_loss", "rpn_box_loss", "class_loss", "box_loss", "mask_loss")
CLIP_NORM = 5.0     # matterport's GRADIENT_CLIP_NORM: early RPN/box losses can spike


def _conv_bn(x, filters, kernel, stride, name, relu=True):
    x = L.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=name)(x)
    x = L.BatchNormalization(name=name + "_bn")(x)
    return L.ReLU(name=name + "_relu")(x) if relu else x


def _res_block(x, filters, stride, name):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, stride, name + "_proj", relu=False)
    y = _conv_bn(x, filters, 3, stride, name + "_a")
    y = _conv_bn(y, filters, 3, 1, name + "_b", relu=False)
    return L.ReLU(name=name + "_out")(L.Add(name=name + "_add")([shortcut, y]))


def feature_network(size, filters, fpn_filters, blocks):
    """Image (size, size, 3) in [−1, 1] → P2, P3, P4 (strides 4, 8, 16)."""
    inp = K.Input((size, size, 3), name="image")
    x = _conv_bn(inp, filters, 3, 2, "stem")
    stages = []
    for i, width in enumerate((filters, filters * 2, filters * 4)):
        for j in range(blocks):
            x = _res_block(x, width, 2 if j == 0 else 1, f"c{i + 2}_{j}")
        stages.append(x)
    c2, c3, c4 = stages
    p4 = L.Conv2D(fpn_filters, 1, name="fpn_c4p4")(c4)
    p3 = L.Add(name="fpn_p3add")([L.UpSampling2D(2, name="fpn_p4up")(p4),
                                  L.Conv2D(fpn_filters, 1, name="fpn_c3p3")(c3)])
    p2 = L.Add(name="fpn_p2add")([L.UpSampling2D(2, name="fpn_p3up")(p3),
                                  L.Conv2D(fpn_filters, 1, name="fpn_c2p2")(c2)])
    outs = [L.Conv2D(fpn_filters, 3, padding="same", name=f"fpn_p{k}")(p)
            for k, p in ((2, p2), (3, p3), (4, p4))]
    return K.Model(inp, outs, name="backbone_fpn")


def rpn_network(fpn_filters, per_cell):
    inp = K.Input((None, None, fpn_filters), name="level")
    x = L.Conv2D(fpn_filters, 3, padding="same", activation="relu", name="rpn_conv")(inp)
    logits = L.Conv2D(per_cell, 1, name="rpn_objectness")(x)
    deltas = L.Conv2D(per_cell * 4, 1, name="rpn_deltas")(x)
    return K.Model(inp, [logits, deltas], name="rpn")


def box_network(fpn_filters, units, classes):
    inp = K.Input((7, 7, fpn_filters), name="roi")
    x = L.Flatten(name="flatten")(inp)
    for i in (1, 2):    # batch norm as in matterport's heads: without it most fc1 ReLUs died
        x = L.Dense(units, use_bias=False, name=f"fc{i}")(x)
        x = L.ReLU(name=f"fc{i}_relu")(L.BatchNormalization(name=f"fc{i}_bn")(x))
    logits = L.Dense(classes + 1, name="class_logits")(x)
    deltas = L.Reshape((classes + 1, 4), name="deltas")(L.Dense((classes + 1) * 4,
                                                                 name="box_deltas")(x))
    return K.Model(inp, [logits, deltas], name="box_head")


def mask_network(fpn_filters, filters, classes):
    inp = K.Input((14, 14, fpn_filters), name="roi")
    x = inp
    for i in (1, 2):
        x = L.Conv2D(filters, 3, padding="same", use_bias=False, name=f"mask_conv{i}")(x)
        x = L.ReLU(name=f"mask_conv{i}_relu")(L.BatchNormalization(name=f"mask_conv{i}_bn")(x))
    x = L.Conv2DTranspose(filters, 2, 2, activation="relu", name="mask_up")(x)
    return K.Model(inp, L.Conv2D(classes, 1, name="mask_logits")(x), name="mask_head")


@K.saving.register_keras_serializable(package="cnnstudio")
class MaskRCNN(LossPartsSteps, K.Model):
    clip_norm = CLIP_NORM

    def __init__(self, image_size=128, class_names=("background", "object"), filters=32,
                 fpn_filters=64, head_units=256, mask_filters=32, blocks=1,
                 anchor_sizes=((32.0, 45.0), (64.0, 90.0)), anchor_ratios=(0.5, 1.0, 2.0),
                 pre_nms=300, train_proposals=64, proposals=50, rois_per_image=24,
                 positive_rois=8, max_detections=20, min_score=0.05, **kwargs):
        super().__init__(**kwargs)
        self.image_size = int(image_size)
        if self.image_size % 16 or not 32 <= self.image_size <= 1024:
            raise ModelError(f"maskrcnn needs square images whose side is a multiple of 16 "
                             f"between 32 and 1024, got {image_size}")
        self.class_names = [str(c) for c in class_names]
        self.num_classes = len(self.class_names) - 1
        if self.num_classes < 1:
            raise ModelError("maskrcnn needs at least one object class")
        self.filters, self.fpn_filters = int(filters), int(fpn_filters)
        self.head_units, self.mask_filters, self.blocks = int(head_units), int(mask_filters), \
            int(blocks)
        self.anchor_sizes = [[float(s) for s in level] for level in anchor_sizes]
        self.anchor_ratios = [float(r) for r in anchor_ratios]
        self.pre_nms, self.train_proposals = int(pre_nms), int(train_proposals)
        self.proposals, self.rois_per_image = int(proposals), int(rois_per_image)
        self.positive_rois, self.max_detections = int(positive_rois), int(max_detections)
        self.min_score = float(min_score)
        self.levels = tuple((name, stride, tuple(sizes)) for (name, stride), sizes in
                            zip((("P3", 8), ("P4", 16)), self.anchor_sizes, strict=True))
        self.anchor_table = anchor_lib.anchor_levels(self.image_size, self.levels,
                                                     self.anchor_ratios)
        per_cell = anchor_lib.anchors_per_cell(self.levels, self.anchor_ratios)
        self.backbone = feature_network(self.image_size, self.filters, self.fpn_filters,
                                        self.blocks)
        self.rpn = rpn_network(self.fpn_filters, per_cell)
        self.box_head = box_network(self.fpn_filters, self.head_units, self.num_classes)
        self.mask_head = mask_network(self.fpn_filters, self.mask_filters, self.num_classes)
        self.trackers = {name: K.metrics.Mean(name=name) for name in LOSS_NAMES}
        # RoI sampling draws from the model's own stream: saved with each checkpoint, so a
        # resumed run samples what the uninterrupted one sampled.
        self.sample_seed = K.random.SeedGenerator()       # drawn from the run's seed
        self.build((None, self.image_size, self.image_size, 3))

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size,
                "class_names": self.class_names, "filters": self.filters,
                "fpn_filters": self.fpn_filters, "head_units": self.head_units,
                "mask_filters": self.mask_filters, "blocks": self.blocks,
                "anchor_sizes": self.anchor_sizes, "anchor_ratios": self.anchor_ratios,
                "pre_nms": self.pre_nms, "train_proposals": self.train_proposals,
                "proposals": self.proposals, "rois_per_image": self.rois_per_image,
                "positive_rois": self.positive_rois, "max_detections": self.max_detections,
                "min_score": self.min_score}

    def build(self, input_shape=None):
        self.built = True           # every sub-network is a built functional model

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def anchors(self) -> np.ndarray:
        return np.concatenate(list(self.anchor_table.values()), axis=0)

    # -- the forward pieces ------------------------------------------------------------
    def _features(self, images, training):
        x = tf.cast(images, tf.float32) / 127.5 - 1.0
        return self.backbone(x, training=training)

    def _rpn(self, p3, p4, training):
        logits, deltas = [], []
        for level in (p3, p4):
            lg, dl = self.rpn(level, training=training)
            b = tf.shape(lg)[0]
            logits.append(tf.reshape(lg, (b, -1)))
            deltas.append(tf.reshape(dl, (b, -1, 4)))
        return tf.concat(logits, axis=1), tf.concat(deltas, axis=1)

    def _box_head(self, p2, rois, training):
        b, n = tf.shape(rois)[0], tf.shape(rois)[1]
        crops = ops_tf.roi_align(p2, rois, 4.0, 7)
        logits, deltas = self.box_head(tf.reshape(crops, (-1, 7, 7, self.fpn_filters)),
                                       training=training)
        return (tf.reshape(logits, (b, n, self.num_classes + 1)),
                tf.reshape(deltas, (b, n, self.num_classes + 1, 4)))

    def _mask_head(self, p2, boxes, training):
        b, n = tf.shape(boxes)[0], tf.shape(boxes)[1]
        crops = ops_tf.roi_align(p2, boxes, 4.0, 14)
        logits = self.mask_head(tf.reshape(crops, (-1, 14, 14, self.fpn_filters)),
                                training=training)
        return tf.reshape(logits, (b, n, MASK_SIZE, MASK_SIZE, self.num_classes))

    def _detect(self, p2, rois, roi_valid, training=False, batched=True):
        """The heads on proposals: refined, class-wise NMS'd detections and their masks.
        ``batched=False`` (a batch of one, eagerly: the probes) skips ``map_fn``, which
        would run autograph on every eager call."""
        logits, deltas = self._box_head(p2, rois, training)
        probs = tf.nn.softmax(logits)
        size = float(self.image_size)
        k = self.max_detections

        @tf.autograph.experimental.do_not_convert
        def one(args):
            return ops_tf.detections(*args, size, k, self.min_score)

        if batched:
            boxes, ids, scores, valid = tf.map_fn(
                one, (rois, roi_valid, probs, deltas), fn_output_signature=(
                    tf.TensorSpec((k, 4), tf.float32), tf.TensorSpec((k,), tf.int32),
                    tf.TensorSpec((k,), tf.float32), tf.TensorSpec((k,), tf.bool)))
        else:
            boxes, ids, scores, valid = (t[None] for t in one((rois[0], roi_valid[0],
                                                               probs[0], deltas[0])))
        mask_logits = self._mask_head(p2, boxes, training)
        channel = tf.maximum(ids - 1, 0)
        picked = tf.gather(tf.transpose(mask_logits, (0, 1, 4, 2, 3)), channel, batch_dims=2)
        return {"boxes": boxes, "class_ids": ids, "scores": scores, "valid": valid,
                "masks": tf.sigmoid(picked)}

    def call(self, images, training=False):
        """Detections of uint8 images (B, S, S, 3): boxes (B, K, 4) px, class_ids (B, K)
        1-based (0 in empty rows), scores, valid (B, K) and 28×28 box masks (B, K, 28, 28)."""
        p2, p3, p4 = self._features(images, training)
        logits, deltas = self._rpn(p3, p4, training)
        rois, _, valid = ops_tf.proposals(logits, deltas, tf.constant(self.anchors),
                                          float(self.image_size), self.pre_nms,
                                          self.proposals)
        return self._detect(p2, rois, valid, training)

    def stage_tensors(self, images) -> dict:
        """Every step of ``call`` for a batch of one: the RPN's ``pre_nms`` best refined
        anchors and their objectness before NMS (best first), the proposals NMS keeps
        (padded, with ``kept_valid``), and the detections."""
        p2, p3, p4 = self._features(images, False)
        logits, deltas = self._rpn(p3, p4, False)
        boxes, scores = ops_tf.top_proposals(logits[0], deltas[0], tf.constant(self.anchors),
                                             float(self.image_size), self.pre_nms)
        kept, kept_scores, valid, _ = ops_tf.nms_padded(boxes, scores, self.proposals, 0.7)
        out = self._detect(p2, kept[None], valid[None], batched=False)
        return {"pool": boxes, "pool_objectness": scores, "kept": kept,
                "kept_objectness": kept_scores, "kept_valid": valid,
                **{key: value[0] for key, value in out.items()}}

    def stages(self, images, top_n: int = 50) -> dict:
        """``stage_tensors`` as numpy, traced once per model (eager when the model is
        compiled with ``run_eagerly``); ``top_n`` (at most ``pre_nms``) boxes before NMS
        and at most ``top_n`` after."""
        if self.run_eagerly:
            fn = self.stage_tensors
        else:
            fn = _TRACED.get(self)
            if fn is None:
                spec = tf.TensorSpec((1, self.image_size, self.image_size, 3), tf.uint8)
                fn = _TRACED[self] = tf.function(self.stage_tensors, input_signature=[spec],
                                                 autograph=False)
        out = {key: value.numpy() for key, value in
               fn(tf.convert_to_tensor(np.asarray(images, np.uint8))).items()}
        top_n = max(1, int(top_n))
        kept = min(int(out.pop("kept_valid").sum()), top_n)
        return {"proposals": out.pop("pool")[:top_n],
                "objectness": out.pop("pool_objectness")[:top_n],
                "after_nms": out.pop("kept")[:kept],
                "after_nms_objectness": out.pop("kept_objectness")[:kept], **out}

    # -- training ------------------------------------------------------------------------
    def compute_losses(self, data, training):
        images, gt_boxes = data["images"], tf.cast(data["gt_boxes"], tf.float32)
        gt_ids = tf.cast(data["gt_class_ids"], tf.int32)
        gt_masks = data["gt_masks"]
        p2, p3, p4 = self._features(images, training)
        logits, deltas = self._rpn(p3, p4, training)
        anchors = tf.constant(self.anchors)
        labels, target_deltas = ops_tf.rpn_targets(anchors, gt_boxes, gt_ids)
        props, _, props_valid = ops_tf.proposals(
            tf.stop_gradient(logits), tf.stop_gradient(deltas), anchors,
            float(self.image_size), self.pre_nms, self.train_proposals)
        t, p = self.rois_per_image, self.positive_rois

        @tf.autograph.experimental.do_not_convert
        def targets(args):
            *image, key = args
            return ops_tf.detection_targets(*image, t, p, MASK_SIZE, seed=key)

        keys = K.random.randint((tf.shape(images)[0], 2), 0, 2 ** 31 - 1,
                                seed=self.sample_seed, dtype="int32")
        rois, roi_valid, roi_ids, roi_deltas, mask_targets, mask_valid = tf.map_fn(
            targets, (props, props_valid, gt_boxes, gt_ids, gt_masks, keys),
            fn_output_signature=(
                tf.TensorSpec((t, 4), tf.float32), tf.TensorSpec((t,), tf.bool),
                tf.TensorSpec((t,), tf.int32), tf.TensorSpec((t, 4), tf.float32),
                tf.TensorSpec((p, MASK_SIZE, MASK_SIZE), tf.float32),
                tf.TensorSpec((p,), tf.bool)))
        rois = tf.stop_gradient(rois)
        class_logits, box_deltas = self._box_head(p2, rois, training)
        mask_logits = self._mask_head(p2, rois[:, :p], training)
        parts = {
            "rpn_class_loss": losses.rpn_class_loss(labels, logits),
            "rpn_box_loss": losses.rpn_box_loss(labels, target_deltas, deltas),
            "class_loss": losses.class_loss(roi_ids, roi_valid, class_logits),
            "box_loss": losses.box_loss(roi_ids, roi_deltas, box_deltas),
            "mask_loss": losses.mask_loss(roi_ids[:, :p], mask_targets, mask_valid,
                                          mask_logits),
        }
        parts["loss"] = tf.add_n(list(parts.values()))
        return parts

    def predict_step(self, data):
        return self(self._inputs(data), training=False)


def build_maskrcnn(image_size, class_names, **options) -> MaskRCNN:
    return MaskRCNN(image_size, class_names, name="maskrcnn", **options)
