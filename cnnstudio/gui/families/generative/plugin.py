"""What the generative family adds to the window (chapters 6 and 8): its centre tabs and its
prediction views."""

from __future__ import annotations

from cnnstudio.gui.registry import PanelSpec, register_panel, register_prediction_view


def register() -> None:
    from cnnstudio.gui.families.generative.autoencoder_panel import AutoencoderPanel
    from cnnstudio.gui.families.generative.gan_console import GanConsole
    from cnnstudio.gui.families.generative.gan_prediction_view import GanPredictionView
    from cnnstudio.gui.families.generative.reconstruction_view import ReconstructionView

    register_panel(PanelSpec(
        "autoencoder", "Autoencoder",
        "Reconstructions per epoch, the code, a map of the test codes and image search",
        AutoencoderPanel, tasks={"autoencoder"}))
    register_panel(PanelSpec(
        "gan-console", "GAN console",
        "The generator's samples of fixed noise, epoch by epoch; latent interpolation; "
        "mode-collapse warning", GanConsole, tasks={"gan", "ssgan"}))
    register_prediction_view("discriminate", GanPredictionView)
    register_prediction_view("reconstruct", ReconstructionView)
