"""What the attention family adds to the window (chapter 9): its centre tabs and its
prediction views."""

from __future__ import annotations

from cnnstudio.gui.registry import PanelSpec, register_panel, register_prediction_view


def register() -> None:
    from cnnstudio.gui.families.attention.caption_prediction_view import CaptionPredictionView
    from cnnstudio.gui.families.attention.captions_panel import CaptionsPanel
    from cnnstudio.gui.families.attention.glimpse_panel import GlimpsePanel
    from cnnstudio.gui.families.attention.glimpse_prediction_view import GlimpsePredictionView

    register_prediction_view("caption", CaptionPredictionView)
    register_panel(PanelSpec(
        "captions", "Captions",
        "The caption word by word with each word's attention map (soft and hard), the reference "
        "beside it; draw or drop a scene to caption it", CaptionsPanel, tasks={"captioning"}))
    register_panel(PanelSpec(
        "glimpses", "Glimpses",
        "Where the Recurrent Attention Model looks: scanpath, glimpses and answers step by step",
        GlimpsePanel, tasks={"ram"}))
    register_prediction_view("glimpse", GlimpsePredictionView)
