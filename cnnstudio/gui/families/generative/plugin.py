"""What the generative family adds to the window (chapters 6 and 8): its centre tabs and its
prediction views."""

from __future__ import annotations

from cnnstudio.gui.registry import PanelSpec, register_panel, register_prediction_view


def register() -> None:
    from cnnstudio.gui.families.generative.autoencoder_panel import AutoencoderPanel
    from cnnstudio.gui.families.generative.cycle_panel import CyclePanel
    from cnnstudio.gui.families.generative.cycle_view import CycleView
    from cnnstudio.gui.families.generative.gan_console import GanConsole
    from cnnstudio.gui.families.generative.gan_prediction_view import GanPredictionView
    from cnnstudio.gui.families.generative.reconstruction_view import ReconstructionView
    from cnnstudio.gui.families.generative.sketch_view import SketchView
    from cnnstudio.gui.families.generative.translation_panel import TranslationPanel

    register_panel(PanelSpec(
        "autoencoder", "Autoencoder",
        "Reconstructions per epoch, the code, a map of the test codes and image search",
        AutoencoderPanel, tasks={"autoencoder"}))
    register_panel(PanelSpec(
        "gan-console", "GAN console",
        "The generator's samples of fixed noise, epoch by epoch; latent interpolation; "
        "mode-collapse warning", GanConsole, tasks={"gan", "ssgan"}))
    register_panel(PanelSpec(
        "pix2pix", "pix2pix",
        "Probe pairs translated epoch by epoch: input | output | target | the "
        "discriminator's patch map; an L1-only run beside it when there is one",
        TranslationPanel, tasks={"pix2pix"}, screenshot_window=True))
    register_panel(PanelSpec(
        "cyclegan", "CycleGAN",
        "Both translations and their round trips, epoch by epoch", CyclePanel,
        tasks={"cyclegan"}))
    register_prediction_view("discriminate", GanPredictionView)
    register_prediction_view("translate", SketchView)
    register_prediction_view("translate-cycle", CycleView)
    register_prediction_view("reconstruct", ReconstructionView)
