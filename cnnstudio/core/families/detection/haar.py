"""``haar-cascade``: Viola-Jones face (and eye, smile, body, cat, plate) detection as a
model the studio can pick (task "haar"), so the preset ``chapter7-haar-faces`` opens the
Haar tab.

How it fits the Run model: a cascade comes trained — OpenCV ships the XML files, each
boosted on thousands of object and non-object windows — and the studio does not retrain
cascades (that is ``opencv_traincascade``'s job, hours of work, outside Keras). So there
is no Keras model to build and no run to start: building says so (the architecture panel
shows the sentence and Start stays off), and a run is refused before its folder exists
(``haar_task.py``). What the user does instead is in the Haar tab: pick a cascade, tune
scale factor / min neighbours / min size, and watch the stages reject windows — or
``cnnstudio detect IMAGE --haar frontalface``.

Light on purpose: no OpenCV work and no Keras here.
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.errors import ModelError
from cnnstudio.core.families.detection.haar_cascades import ALIASES
from cnnstudio.core.families.profile import Profile
from cnnstudio.core.options import Choice

TASK = "haar"

NOTHING_TO_TRAIN = (
    "haar-cascade is OpenCV's Viola-Jones detector: its cascades ship already trained, so "
    "there is nothing to build or train here. Use the Haar cascade tab (pick a cascade, "
    "move the sliders, drop a photo) or run: cnnstudio detect IMAGE --haar frontalface")


def _build(input_shape, num_classes, cascade="frontalface"):
    raise ModelError(NOTHING_TO_TRAIN)


HAAR_CASCADE = Architecture(
    "haar-cascade", "Haar cascade, Viola-Jones (OpenCV, no training)",
    "Viola and Jones's boosted cascade of Haar-like features (chapter 7's first detector): "
    "a 24×24 window slides over an image pyramid; each stage of weak classifiers, one "
    "rectangle feature each, rejects most windows early, so only faces pay for all stages. "
    "OpenCV ships the trained cascades (faces, eyes, smiles, bodies, cat faces, plates).",
    "Viola & Jones 2001; Lienhart & Maydt 2002; OpenCV's CascadeClassifier; the book's "
    "chapter 7", _build,
    specs=(Choice("cascade", "frontalface", tuple(ALIASES), "the cascade the Haar tab opens "
                  "with (frontalface, eye, smile, fullbody, catface, plate, …)",
                  editable=True, rebuild=False),),
    task=TASK)

# No curves (nothing trains); a dropped photo gets the cascade's boxes in the dock.
HAAR_PROFILE = Profile(TASK, "detection", (), prediction="haar",
                                        best_metric="loss", best_mode="min")
