"""The RAM's options, declared once: read by ``ram.py`` (the architecture, the form, the run
config) and by ``ram_models.py`` (a saved file's config)."""

from __future__ import annotations

from cnnstudio.core.options import Choice, Float, Int

# Each glimpse is one unrolled step of the core network and one REINFORCE decision; past
# this the graph is slow to build and the credit for the last answer too thinly spread.
MAX_GLIMPSES = 16

RAM_SPECS = (
    Int("glimpses", 6, 1, MAX_GLIMPSES, "how many glimpses the model takes before it answers; "
        "each is one unrolled step of the core network and one decision for REINFORCE to "
        "credit"),
    Int("patch", 12, 2, 128, "side g of each glimpse patch in pixels (at most the canvas side)",
        unit="px"),
    Int("scales", 3, 1, 6, "patches per glimpse: g×g, then 2g×2g, 4g×4g… each shrunk to g×g"),
    Int("scale_ratio", 2, 1, 8, "how much wider each further scale looks (2: doubling)"),
    Float("std", 0.15, 0.001, 1.0, "standard deviation of the Gaussian location policy, in "
          "[−1, 1] units", step=0.01),
    Int("hidden", 256, 8, 4096, "size of the core network's state (and of the glimpse vector)"),
    Choice("core", "lstm", ("lstm", "rnn"), "core network: lstm, or rnn (the paper's ReLU "
           "recurrent net)"),
    Int("samples", 1, 1, 64, "at test time: 1 looks at the location means; M > 1 averages M "
        "sampled runs", rebuild=False),
    Int("hint_epochs", 0, 0, 10_000, "hybrid start: for this many first epochs the location "
        "network is also taught to look at the digit (its known centre on the canvas "
        "datasets), then REINFORCE alone; 0 = pure REINFORCE, as in the paper"),
    Choice("patch_net", "dense", ("dense", "conv"), "the glimpse network's patch pathway: "
           "dense (the paper's one layer of 128 units) or conv (two small convolutions over "
           "the patch, its scales as channels, then 128 units: reads a digit's strokes from "
           "fewer glimpses)"),
    Choice("glimpse_mix", "add", ("add", "multiply"), "how the glimpse network joins the patch "
           "(\"what\") and location (\"where\") pathways: add (the paper's) or multiply (what × "
           "where, Ba et al. 2015: each feature gated by where it was seen)"),
)
