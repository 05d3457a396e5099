"""What the attention family adds to the studio (chapter 9)."""

from __future__ import annotations

from cnnstudio.core.registry import (
    ARCHITECTURES,
    CLI_HOOKS,
    DATASETS,
    PROFILES,
    TASKS,
    register_model_module,
)

PACKAGE = "cnnstudio.core.families.attention"


def register() -> None:
    from cnnstudio.core.families.attention import captioner, ram
    from cnnstudio.core.families.attention.canvas_datasets import CANVAS_SOURCES
    from cnnstudio.core.families.attention.scene_dataset import SHAPE_SCENES

    for arch in (captioner.CAPTIONER, ram.RAM, ram.FC_256, ram.CONV_2, ram.CONV_POOL):
        ARCHITECTURES.register(arch.id, arch)
    for source in (*CANVAS_SOURCES, SHAPE_SCENES):
        DATASETS.register(source.id, source)
    PROFILES.register(captioner.TASK, captioner.PROFILE)
    PROFILES.register(ram.RAM_PROFILE.task, ram.RAM_PROFILE)
    TASKS.register(captioner.TASK, f"{PACKAGE}.caption_task:INSTANCE", lazy=True)
    TASKS.register(ram.RAM_PROFILE.task, f"{PACKAGE}.ram_task:INSTANCE", lazy=True)
    register_model_module(f"{PACKAGE}.captioner_models")
    register_model_module(ram.MODELS)
    # `predict` on these runs: a sentence, or a class and where the model looked.
    CLI_HOOKS.register(f"predict:{captioner.TASK}", f"{PACKAGE}.caption_cli:predict", lazy=True)
    CLI_HOOKS.register(f"predict:{ram.RAM_PROFILE.task}", f"{PACKAGE}.ram_predict:predict_cli",
                       lazy=True)
