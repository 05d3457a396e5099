"""What the generative family adds to the studio (chapters 6 and 8)."""

from __future__ import annotations

from cnnstudio.core.registry import (
    ARCHITECTURES,
    CLI_HOOKS,
    COMMANDS,
    DATASETS,
    PROFILES,
    TASKS,
    register_model_module,
)

PACKAGE = "cnnstudio.core.families.generative"


def register() -> None:
    from cnnstudio.core.families.generative import (
        autoencoder,
        cyclegan,
        gan,
        pix2pix,
        ssgan,
        translation_data,
        unpaired_data,
    )

    for arch in (autoencoder.CONV_AUTOENCODER, gan.GAN_MLP, gan.DCGAN, ssgan.SSGAN,
                 pix2pix.PIX2PIX, cyclegan.CYCLEGAN):
        ARCHITECTURES.register(arch.id, arch)
    # pix2pix's paired datasets (edges → scenes, outlines → digits) and CycleGAN's unpaired
    # domains, generated offline.
    for source in (*translation_data.PAIRED_SOURCES, *unpaired_data.UNPAIRED_SOURCES):
        DATASETS.register(source.id, source)
    for profile, module in ((autoencoder.PROFILE, "autoencoder"), (gan.GAN_PROFILE, "gan"),
                            (ssgan.PROFILE, "ssgan"), (pix2pix.PROFILE, "pix2pix"),
                            (cyclegan.PROFILE, "cyclegan")):
        PROFILES.register(profile.task, profile)
        TASKS.register(profile.task, f"{PACKAGE}.{module}_task:INSTANCE", lazy=True)
        register_model_module(f"{PACKAGE}.{module}_models")
        # No classes to rank: `predict` says what to use instead.
        CLI_HOOKS.register(f"predict:{profile.task}", f"{PACKAGE}.generate_cli:refuse_predict",
                           lazy=True)
    COMMANDS.register("generate", f"{PACKAGE}.generate_cli", lazy=True)
    COMMANDS.register("translate", f"{PACKAGE}.translate_cli", lazy=True)
