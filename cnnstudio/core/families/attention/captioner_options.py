"""The captioner's options its Keras model checks too (a saved file's config), declared once
for ``captioner.py`` (the architecture) and ``captioner_models.py``."""

from __future__ import annotations

from cnnstudio.core.options import Choice, Float

CELL = Choice("cell", "gru", ("gru", "lstm"), "decoder cell: gru or lstm")
ATTENTION = Choice("attention", "soft", ("soft", "hard"), "soft: the decoder reads the "
                   "α-weighted mean of the grid; hard: in training it reads one cell sampled "
                   "from α, learnt by REINFORCE (Xu et al.'s stochastic hard attention)")
PENALTY = Float("attention_penalty", 0.0, 0.0, 100.0, "λ of the doubly stochastic attention "
                "penalty (0: off; Xu et al. use 1)", step=0.1)
BOX = Float("box_attention", 0.0, 0.0, 100.0, "λ of a loss pulling each size, colour and shape "
            "word's attention into that shape's box (0: off)", step=0.1)
