"""Chapter 9, image captioning with attention: the ``captioner`` — registration only.

Light on purpose (no Keras here): the architecture, the ``captioning`` task's profile
(loss and teacher-forced word accuracy; a dropped image is captioned) and the names of
the modules holding the Keras model (``captioner_models``) and the task
(``caption_task``). Decoding is in ``caption_decode``, scores in ``caption_metrics``,
per-epoch probes in ``caption_probes``; the data is ``shape-scenes`` (``shape_scenes``).
"""

from __future__ import annotations

from cnnstudio.core.errors import ModelError
from cnnstudio.core.families import register_model_module, register_task_module
from cnnstudio.core.families.profile import Plot, Profile, Series, register_profile
from cnnstudio.core.models import ARCHITECTURES
from cnnstudio.core.models.base import Architecture

TASK = "captioning"

PROFILE = register_profile(Profile(
    TASK, "attention",
    (Plot("Caption loss (teacher forcing)", (Series("loss", "loss"),), log_y=True),
     Plot("Next-word accuracy (teacher forcing)", (Series("word_accuracy", "word accuracy"),),
          y_range=(0, 1))),
    prediction="caption", best_metric="val_loss", best_mode="min"))


def _positive(**values) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2048:
            raise ModelError(f"{name} must be an integer between 1 and 2048, got {value!r}")


def _build(input_shape, num_classes, filters=16, units=128, attention_units=64, embedding=32,
           cell="gru", attention_penalty=0.0, box_attention=0.0, attention="soft"):
    from cnnstudio.core.families.attention import captioner_models

    _positive(filters=filters, units=units, attention_units=attention_units,
              embedding=embedding)
    if input_shape[2] != 3:
        raise ModelError(f"the captioner reads colour scenes (H×W×3), got {input_shape[2]} "
                         "channel(s)")
    try:
        penalty, box = float(attention_penalty), float(box_attention)
    except (TypeError, ValueError):
        raise ModelError(f"attention_penalty and box_attention must be numbers ≥ 0, got "
                         f"{attention_penalty!r} and {box_attention!r}") from None
    return captioner_models.build(tuple(input_shape), filters, units, attention_units,
                                  embedding, str(cell), penalty, box, attention)


CAPTIONER = Architecture(
    "captioner", "Captioner with soft attention (book ch. 9)",
    "A CNN encoder turns a scene into an 8×8 grid of features; a GRU (or LSTM) decoder "
    "writes the caption word by word, looking at the grid through additive (Bahdanau) "
    "attention. Teacher forcing in training; greedy or beam decoding; hard attention "
    "(the most attended cell) beside soft, or trained hard with REINFORCE.",
    "Xu et al. 2015, Show, Attend and Tell; Bahdanau et al. 2015; the book's chapter 9",
    _build,
    defaults={"filters": 16, "units": 128, "attention_units": 64, "embedding": 32,
              "cell": "gru", "attention_penalty": 0.0, "box_attention": 0.0,
              "attention": "soft"},
    options_help={"filters": "filters of the encoder's first block (×2, ×4 deeper)",
                  "units": "hidden units of the decoder's recurrent cell",
                  "attention_units": "size of the additive attention's hidden layer",
                  "embedding": "length of each word's embedding vector",
                  "cell": "decoder cell: gru or lstm",
                  "attention_penalty": "λ of the doubly stochastic attention penalty "
                                       "(0: off; Xu et al. use 1)",
                  "box_attention": "λ of a loss pulling each size, colour and shape word's "
                                   "attention into that shape's box (0: off)",
                  "attention": "soft: the decoder reads the α-weighted mean of the grid; "
                               "hard: in training it reads one cell sampled from α, "
                               "learnt by REINFORCE (Xu et al.'s stochastic hard attention)"},
    task=TASK, min_size=16, preferred_size=64)

ARCHITECTURES.register(CAPTIONER.id, CAPTIONER)
register_model_module("cnnstudio.core.families.attention.captioner_models")
register_task_module("cnnstudio.core.families.attention.caption_task")
