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

TASKS = frozenset({"classification", "transfer", "from-run"})   # from-run: fine-tuning a run
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
    # Cut it (issue 27, section 2): filters switched off in a copy, ranked, saved as a run.
    from cnnstudio.gui.families.classification.surgery_panel import SurgeryPanel

    register_panel(PanelSpec("surgery", "Cut it", "Network surgery: switch filters off and "
                             "see accuracy and the confusion matrix change; rank a layer's "
                             "filters; save the cut model as a new run", SurgeryPanel,
                             tasks=TASKS, screenshot="surgery.png"))
    # Audit its data (issue 27, section 3): cleanlab's suspects, decisions, loss ranking.
    from cnnstudio.gui.families.classification.suspects_panel import SuspectsPanel

    register_panel(PanelSpec("suspects", "Suspect labels", "Training images whose labels are "
                             "probably wrong (k-fold probabilities, cleanlab): keep, relabel "
                             "or exclude; the training images ranked by loss",
                             SuspectsPanel, tasks=TASKS, screenshot="suspects.png"))
    # What a unit sees, what changed between epochs, the projector (issue 27, section 5).
    from cnnstudio.gui.families.classification.projector_panel import ProjectorPanel
    from cnnstudio.gui.families.classification.receptive_field_panel import ReceptiveFieldPanel
    from cnnstudio.gui.families.classification.what_changed_panel import WhatChangedPanel

    register_panel(PanelSpec("receptive-field", "What a unit sees", "Click a unit of a feature "
                             "map: its theoretical and effective receptive field, and the "
                             "test patches that excite it most", ReceptiveFieldPanel,
                             tasks=TASKS, screenshot="receptive-field.png"))
    register_panel(PanelSpec("what-changed", "What changed", "The test images whose "
                             "prediction flipped between two epochs", WhatChangedPanel,
                             tasks=TASKS, screenshot="what-changed.png"))
    register_panel(PanelSpec("projector", "Projector", "The test set's penultimate features "
                             "in 2-D (PCA, t-SNE, UMAP): click a point, lasso a region",
                             ProjectorPanel, tasks=TASKS, screenshot="projector.png"))
    # A camera as a live dataset and predictor (issue 28, section 2): live prediction of the
    # run, Grad-CAM over it, Teachable-Machine-style capture and training. Not in screenshot
    # mode (no source while a run trains there): docs/screenshots/camera.png comes from its test.
    from cnnstudio.gui.camera.camera_panel import PANEL_ID, CameraPanel

    register_panel(PanelSpec(PANEL_ID, "Camera", "Predict live from a camera, a video file, "
                             "a screen region or generated digits; record your own classes "
                             "and train on them", CameraPanel, tasks=TASKS, screenshot=None))
    # Models from elsewhere (issue 28, section 3): File → Open Teachable Machine model…
    from cnnstudio.gui.families.classification import teachable_open
    from cnnstudio.gui.registry import MenuAction, register_menu_action

    register_menu_action(MenuAction(teachable_open.ACTION_ID, "File", teachable_open.ACTION_TEXT,
                                    teachable_open.open_dialog, tip=teachable_open.TIP))
    # Multi-task learning (chapter 5): its own tab and prediction view (one answer per head).
    from cnnstudio.gui.families.classification.multitask_panel import (
        MultiTaskPanel,
        MultiTaskView,
    )

    register_prediction_view("multitask", MultiTaskView)
    register_panel(PanelSpec("multitask", "Multi-task", "One trunk, a head per task: each "
                             "head's curves, the loss weights of the next run, and single-"
                             "task runs of the same trunk compared", MultiTaskPanel,
                             tasks={"multitask"}, screenshot="multitask.png"))
