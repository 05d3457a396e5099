"""Chapter 9, image captioning with attention: the ``captioner`` — registration only.

Light on purpose (no Keras here): the architecture, the ``captioning`` task's profile
(loss and teacher-forced word accuracy; a dropped image is captioned) and the names of
the modules holding the Keras model (``captioner_models``) and the task
(``caption_task``). Decoding is in ``caption_decode``, scores in ``caption_metrics``,
per-epoch probes in ``caption_probes``; the data is ``shape-scenes`` (``shape_scenes``).
"""

from __future__ import annotations

from cnnstudio.core.architecture import Architecture
from cnnstudio.core.errors import ModelError
from cnnstudio.core.families.attention.captioner_options import ATTENTION, BOX, CELL, PENALTY
from cnnstudio.core.families.profile import Plot, Profile, Series
from cnnstudio.core.options import Int

TASK = "captioning"

PROFILE = Profile(
    TASK, "attention",
    (Plot("Caption loss (teacher forcing)", (Series("loss", "loss"),), log_y=True),
     Plot("Next-word accuracy (teacher forcing)", (Series("word_accuracy", "word accuracy"),),
          y_range=(0, 1))),
    prediction="caption", best_metric="val_loss", best_mode="min")


def _build(input_shape, num_classes, filters=16, units=128, attention_units=64, embedding=32,
           cell="gru", attention_penalty=0.0, box_attention=0.0, attention="soft"):
    from cnnstudio.core.families.attention import captioner_models

    if input_shape[2] != 3:
        raise ModelError(f"the captioner reads colour scenes (H×W×3), got {input_shape[2]} "
                         "channel(s)")
    return captioner_models.build(tuple(input_shape), filters, units, attention_units,
                                  embedding, cell, attention_penalty, box_attention, attention)


CAPTIONER = Architecture(
    "captioner", "Captioner with soft attention (book ch. 9)",
    "A CNN encoder turns a scene into an 8×8 grid of features; a GRU (or LSTM) decoder "
    "writes the caption word by word, looking at the grid through additive (Bahdanau) "
    "attention. Teacher forcing in training; greedy or beam decoding; hard attention "
    "(the most attended cell) beside soft, or trained hard with REINFORCE.",
    "Xu et al. 2015, Show, Attend and Tell; Bahdanau et al. 2015; the book's chapter 9",
    _build,
    specs=(Int("filters", 16, 1, 2048, "filters of the encoder's first block (×2, ×4 deeper)"),
           Int("units", 128, 1, 2048, "hidden units of the decoder's recurrent cell"),
           Int("attention_units", 64, 1, 2048, "size of the additive attention's hidden layer"),
           Int("embedding", 32, 1, 2048, "length of each word's embedding vector"),
           CELL,
           PENALTY, BOX,
           ATTENTION),
    task=TASK, min_size=16, preferred_size=64)

