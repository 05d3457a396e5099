"""The classifier family's centre tabs (chapters 1–5): filters, feature maps, Grad-CAM,
filter dreams, confusion, errors and epoch replay.

They share one inference copy of a reopened run and link to each other (a clicked
confusion cell goes to feature maps and Grad-CAM), so InsightTabs builds and wires
them together; here they only declare the tasks they serve.
"""

from __future__ import annotations

from cnnstudio.gui.families.registry import PanelSpec, register_panel

CLASSIFIER_TASKS = frozenset({"classification", "transfer"})

# (panel id, tab title, tool tip, InsightTabs attribute holding the panel)
TABS = (
    ("filters", "Filters", "The learned convolution kernels of each layer", "filters"),
    ("feature-maps", "Feature maps", "What each layer makes of one image", "feature_maps"),
    ("gradcam", "Grad-CAM", "Where the network looks when it picks a class", "gradcam"),
    ("activation-max", "Filter dreams", "An image that makes one filter fire hardest",
     "activation"),
    ("confusion", "Confusion", "Which classes the test set mixes up", "confusion"),
    ("errors", "Errors", "The test images the model gets wrong, worst first", "errors"),
    ("epochs", "Epoch replay", "Scrub filters and maps through the epochs", "epochs"),
)

for _id, _title, _tip, _attr in TABS:
    register_panel(PanelSpec(_id, _title, _tip,
                             lambda window, attr=_attr: getattr(window.insight, attr),
                             tasks=CLASSIFIER_TASKS))
