"""What the classification family adds to the window (chapters 1–5): seven linked insight
tabs, driven by one controller."""

from __future__ import annotations

from cnnstudio.gui.registry import (
    ControllerSpec,
    PanelSpec,
    register_controller,
    register_panel,
    register_prediction_view,
)

TASKS = frozenset({"classification", "transfer"})
CONTROLLER = "classifier-insight"

# Views a run shows while it trains (confusion and errors come with a finished run): in the
# screenshots as insight-<id>.png.
LIVE = ("filters", "feature-maps", "gradcam", "epochs")
# (panel id, tab title, tool tip, ClassifierInsight attribute holding the panel)
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


def register() -> None:
    from cnnstudio.gui.families.classification.adversarial_panel import AdversarialPanel
    from cnnstudio.gui.families.classification.calibration_panel import CalibrationPanel
    from cnnstudio.gui.families.classification.classify_view import ClassifyView
    from cnnstudio.gui.families.classification.insight import ClassifierInsight

    register_prediction_view("classify", ClassifyView)

    register_controller(ControllerSpec(CONTROLLER, ClassifierInsight, TASKS))
    for panel_id, title, tip, attr in TABS:
        register_panel(PanelSpec(
            panel_id, title, tip,
            lambda window, attr=attr: getattr(window.tabs.controller(CONTROLLER), attr),
            tasks=TASKS, hooks=False,
            screenshot=f"insight-{panel_id}.png" if panel_id in LIVE else None))
    # Experiments on the trained network (issue 27): their own panels, their own hooks.
    register_panel(PanelSpec("adversarial", "Fool it", "Adversarial examples (FGSM, PGD): "
                             "the smallest changes that make the network wrong",
                             AdversarialPanel, tasks=TASKS, screenshot="adversarial.png"))
    register_panel(PanelSpec("calibration", "Calibration", "How sure is it: the reliability "
                             "diagram, the ECE per epoch and temperature scaling",
                             CalibrationPanel, tasks=TASKS, screenshot="calibration.png"))
