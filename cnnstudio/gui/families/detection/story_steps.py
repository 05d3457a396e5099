"""Chapter 7's story of detection on one image, as five scenes (what the R-CNN story tab
draws): selective search → R-CNN → Fast R-CNN → Faster R-CNN's region proposal network →
Mask R-CNN. Each model's answer comes from its own run:

    answers = {"rcnn": model.story(image), "fast-rcnn": model.story(image),
               "maskrcnn": maskrcnn_probes.pipeline(model, image) + {"ms": …}}
    scene = build_scene(step, image, answers, runs)    # what to draw, and the words for it

A scene is plain data (an RGB background, boxes in its pixels, colours, labels, a caption),
so what each step shows is checked without a window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from cnnstudio.core.families.detection.instances import class_color
from cnnstudio.core.probes.grid import tile
from cnnstudio.gui.widgets.mosaic import colourise

STAGES = ("rcnn", "fast-rcnn", "maskrcnn")          # the model ids, oldest idea first
NAMES = {"rcnn": "R-CNN", "fast-rcnn": "Fast R-CNN", "maskrcnn": "Mask R-CNN"}
PRESETS = {"rcnn": "chapter7-rcnn-shapes", "fast-rcnn": "chapter7-fast-rcnn-shapes",
           "maskrcnn": "chapter7-maskrcnn-shapes"}
STEPS = ("Selective search", "R-CNN: a CNN per region", "Fast R-CNN: one pass, RoI pooling",
         "Faster R-CNN: learned proposals", "Mask R-CNN: a mask per object")
# Which model's answer each step draws (selective search: whichever of the two ran it).
STEP_MODELS = (("rcnn", "fast-rcnn"), ("rcnn",), ("fast-rcnn",), ("maskrcnn",), ("maskrcnn",))
WHY = (
    "Uijlings et al. (2013): start from a fine over-segmentation (Felzenszwalb's graph "
    "method), merge the most similar neighbours (colour, texture, size, fill) again and "
    "again, and propose the box of every region formed — a few hundred boxes instead of a "
    "sliding window's tens of thousands.",
    "Girshick et al. (2014): warp each proposal to the CNN's input size and classify it "
    "(the classes and background), with a box correction. Right, but slow: the CNN runs once "
    "for every proposal.",
    "Girshick (2015): run the CNN once on the whole image; cut each proposal out of its "
    "feature map (RoI pooling to a fixed grid) and classify those. The convolutions are "
    "shared, so the time per image no longer grows with the proposals.",
    "Ren et al. (2015): selective search is now the slow part, so a small network on the "
    "same feature map — the region proposal network — scores anchor boxes and moves them: "
    "the proposals are learned, and nearly free.",
    "He et al. (2017): a third head on each region predicts its mask (28×28, pasted into "
    "the box), with RoIAlign instead of RoI pooling so the mask lines up with the pixels.",
)


@dataclass
class Scene:
    background: np.ndarray                       # uint8 RGB, the picture boxes are drawn on
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    colours: list = field(default_factory=list)  # (r, g, b) per box
    labels: list = field(default_factory=list)   # text at a box's corner (may be shorter)
    overlay: np.ndarray | None = None            # RGBA over the background (masks)
    caption: str = ""
    missing: str | None = None                   # the model whose run is absent


def total_ms(answer: dict | None) -> float | None:
    """One model's milliseconds for the whole image (its stages added)."""
    if not answer:
        return None
    return float(sum(answer.get("ms", {}).values()))


def rgb(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2 or image.shape[-1] == 1:
        image = np.repeat(image.reshape(image.shape[:2])[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)


def _missing(step: int, image) -> Scene:
    wanted = STEP_MODELS[step][0]
    return Scene(rgb(image), missing=wanted,
                 caption=f"No finished {NAMES[wanted]} run on this dataset beside this run: "
                         f"train the {PRESETS[wanted]} preset into the same runs folder and "
                         "this step shows it.")


def _labels(detections: dict) -> list[str]:
    names = detections.get("class_names", [])
    return [f"{names[c] if c < len(names) else c} {s:.2f}"
            for c, s in zip(detections["class_ids"], detections["scores"], strict=True)]


def _detection_boxes(detections: dict):
    boxes = np.asarray(detections["boxes"], np.float32).reshape(-1, 4)
    return boxes, [class_color(int(c)) for c in detections["class_ids"]], _labels(detections)


def _proposals(image, answer: dict, who: str) -> Scene:
    boxes = np.asarray(answer["proposals"], np.float32).reshape(-1, 4)
    ms = answer["ms"]["proposals"]
    # Many overlapping boxes: a few colours that repeat keep neighbours apart.
    palette = [(120, 200, 255), (255, 200, 60), (150, 255, 150), (255, 130, 200)]
    return Scene(rgb(image), boxes, [palette[i % 4] for i in range(len(boxes))],
                 caption=f"{len(boxes)} proposals in {ms:.0f} ms (selective search, as "
                         f"{NAMES[who]} runs it): boxes of every region the grouping formed.")


def _rcnn(answer: dict) -> Scene:
    crops = np.asarray(answer["crops"])
    names = answer["detections"].get("class_names", [])
    calls, ms = answer["cnn_calls"], answer["ms"]["cnn"]
    if not len(crops):
        return Scene(np.zeros((32, 32, 3), np.uint8),
                     caption=f"The CNN ran {calls} times ({ms:.0f} ms) and found nothing.")
    mosaic = tile(crops.astype(np.float32) / 255.0, cols=min(8, len(crops)))
    background = colourise(mosaic.image)
    scores = np.asarray(answer["crop_scores"], np.float32)
    best = scores[:, 1:].argmax(axis=1) + 1
    th, tw = mosaic.tile_shape
    boxes, colours, labels = [], [], []
    for i, (c, row) in enumerate(zip(best, scores, strict=True)):
        x, y = mosaic.tile_origin(i)
        boxes.append((y, x, y + th, x + tw))
        colours.append(class_color(int(c)))
        labels.append(f"{names[c] if c < len(names) else c} {row[c]:.2f}")
    per_call = ms / max(calls, 1)
    return Scene(background, np.asarray(boxes, np.float32), colours, labels,
                 caption=f"The CNN ran {calls} times, once per proposal ({ms:.0f} ms, "
                         f"{per_call:.2f} ms each): the {len(crops)} crops it found most "
                         f"object-like, each warped to {tw}×{th}; "
                         f"{len(answer['detections']['boxes'])} detections after NMS.")


def _fast_rcnn(image, answer: dict, shown: int = 20) -> Scene:
    image = rgb(image)
    h, w = image.shape[:2]
    fmap = np.asarray(answer["feature_map"], np.float32)
    span = float(fmap.max() - fmap.min()) or 1.0
    heat = colourise((fmap - fmap.min()) / span, "inferno")
    heat = cv2.resize(heat, (w, h), interpolation=cv2.INTER_NEAREST)
    background = (0.45 * image + 0.55 * heat).astype(np.uint8)
    rois = np.asarray(answer["rois"], np.float32).reshape(-1, 4)
    probs = np.asarray(answer["roi_scores"], np.float32)
    order = np.argsort(-probs[:, 1:].max(axis=1))[:shown] if len(rois) else np.zeros(0, int)
    best = probs[order, 1:].argmax(axis=1) + 1 if len(order) else []
    ms = answer["ms"]
    fh, fw = fmap.shape
    return Scene(background, rois[order], [class_color(int(c)) for c in best],
                 caption=f"One backbone pass ({ms['backbone']:.0f} ms) → a {fh}×{fw} feature "
                         f"map (stride {answer['feature_stride']}, its mean activation shown); "
                         f"RoI pooling cut all {len(rois)} proposals out of it and the heads "
                         f"scored them in {ms['heads']:.0f} ms; the {len(order)} most "
                         f"object-like drawn, {len(answer['detections']['boxes'])} detections.")


def _rpn(image, answer: dict) -> Scene:
    from pyqtgraph import colormap

    boxes = np.asarray(answer["proposals"], np.float32).reshape(-1, 4)
    score = np.asarray(answer["objectness"], np.float32).reshape(-1)
    order = np.argsort(score)                   # the surest drawn last, on top
    cmap = colormap.get("viridis")
    colours = [tuple(int(v) for v in cmap.map(float(s), mode="byte")[:3]) for s in score[order]]
    anchors = sum(len(np.asarray(a).reshape(-1, 4)) for a in answer.get("anchors", {}).values())
    return Scene(rgb(image), boxes[order], colours,
                 caption=f"The region proposal network scored {anchors} anchors on the "
                         f"feature map and moved them: its top {len(boxes)} proposals, "
                         "coloured by objectness (yellow: surely an object). No selective "
                         "search: the proposals cost one small convolution.")


def _masks(image, answer: dict) -> Scene:
    from cnnstudio.core.families.detection.instances import Instances

    image = rgb(image)
    found = answer["detections"]
    det = found if isinstance(found, Instances) else Instances.from_dict(found,
                                                                          image.shape[:2])
    rgba = np.zeros((*image.shape[:2], 4), np.uint8)
    if det.masks is not None:
        for m, c in zip(det.masks, det.class_ids, strict=True):
            rgba[m] = (*class_color(int(c)), 150)
    boxes, colours, labels = _detection_boxes(answer["detections"])
    return Scene(image, boxes, colours, labels, overlay=rgba,
                 caption=f"{len(boxes)} objects, each with its mask, in "
                         f"{total_ms(answer):.0f} ms for the whole image.")


def build_scene(step: int, image, answers: dict) -> Scene:
    """What step ``step`` shows of ``image`` given the models' answers (absent ones: None)."""
    models = [m for m in STEP_MODELS[step] if answers.get(m)]
    if not models:
        return _missing(step, image)
    answer = answers[models[0]]
    if step == 0:
        return _proposals(image, answer, models[0])
    if step == 1:
        return _rcnn(answer)
    if step == 2:
        return _fast_rcnn(image, answer)
    if step == 3:
        return _rpn(image, answer)
    return _masks(image, answer)


PART_NAMES = {"proposals": "selective search", "cnn": "CNN", "backbone": "backbone",
              "heads": "heads", "nms": "NMS", "all": "RPN, heads and masks"}


def timing_rows(answers: dict) -> list[tuple[str, list[tuple[str, float]], int]]:
    """(name, [(part, ms), …] in the order spent, CNN passes) of each model that answered,
    oldest idea first: the strip under the story. The parts show where the time goes — once
    the CNN is shared, selective search is most of it, which is why Faster R-CNN learned its
    proposals."""
    rows = []
    for model in STAGES:
        answer = answers.get(model)
        if answer:
            parts = [(PART_NAMES.get(k, k), float(v)) for k, v in answer.get("ms", {}).items()]
            rows.append((NAMES[model], parts, int(answer.get("cnn_calls", 1))))
    return rows
