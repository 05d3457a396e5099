"""What the generative family adds to the studio (chapters 6 and 8)."""

from __future__ import annotations

from cnnstudio.core.registry import (
    ARCHITECTURES,
    CLI_HOOKS,
    COMMANDS,
    PROFILES,
    TASKS,
    register_model_module,
)

PACKAGE = "cnnstudio.core.families.generative"


def register() -> None:
    from cnnstudio.core.families.generative import autoencoder, gan, ssgan

    for arch in (autoencoder.CONV_AUTOENCODER, gan.GAN_MLP, gan.DCGAN, ssgan.SSGAN):
        ARCHITECTURES.register(arch.id, arch)
    for profile, module in ((autoencoder.PROFILE, "autoencoder"), (gan.GAN_PROFILE, "gan"),
                            (ssgan.PROFILE, "ssgan")):
        PROFILES.register(profile.task, profile)
        TASKS.register(profile.task, f"{PACKAGE}.{module}_task:INSTANCE", lazy=True)
        register_model_module(f"{PACKAGE}.{module}_models")
        # No classes to rank: `predict` says what to use instead.
        CLI_HOOKS.register(f"predict:{profile.task}", f"{PACKAGE}.generate_cli:refuse_predict",
                           lazy=True)
    COMMANDS.register("generate", f"{PACKAGE}.generate_cli", lazy=True)
