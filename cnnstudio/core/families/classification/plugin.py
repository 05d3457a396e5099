"""What the classification family adds to the studio (chapters 1–5)."""

from __future__ import annotations

from dataclasses import replace

from cnnstudio.core.registry import (
    ARCHITECTURES,
    COMMANDS,
    PROFILES,
    TASKS,
    register_model_module,
)

PACKAGE = "cnnstudio.core.families.classification"


def register() -> None:
    from cnnstudio.core.families.classification.alexnet import ALEXNET
    from cnnstudio.core.families.classification.book_cnns import DOGS_VS_CATS, TRAFFIC_SIGNS_BN
    from cnnstudio.core.families.classification.classic import BOOK_CIFAR, LENET5, MLP
    from cnnstudio.core.families.classification.googlenet import GOOGLENET
    from cnnstudio.core.families.classification.resnet import RESNET
    from cnnstudio.core.families.classification.transfer import TRANSFER
    from cnnstudio.core.families.classification.vgg import VGG16, VGG_SMALL
    from cnnstudio.core.families.profile import CLASSIFIER

    for arch in (MLP, LENET5, BOOK_CIFAR, DOGS_VS_CATS, TRAFFIC_SIGNS_BN, ALEXNET, VGG_SMALL,
                 VGG16, GOOGLENET, RESNET, TRANSFER):
        ARCHITECTURES.register(arch.id, arch)
    PROFILES.register("classification", CLASSIFIER)
    # A transfer model's own Keras layers do not export yet: `export` says so.
    PROFILES.register("transfer", replace(CLASSIFIER, task="transfer", exportable=False))
    TASKS.register("classification", f"{PACKAGE}.task:INSTANCE", lazy=True)
    TASKS.register("transfer", f"{PACKAGE}.transfer_task:INSTANCE", lazy=True)
    # GoogLeNet's auxiliary classifiers and the transfer models' layers, before a .keras loads.
    register_model_module(f"{PACKAGE}.keras_classes")
    COMMANDS.register("calibrate", f"{PACKAGE}.calibrate_cli", lazy=True)
    COMMANDS.register("attack", f"{PACKAGE}.attack_cli", lazy=True)     # FGSM / PGD
    COMMANDS.register("audit", f"{PACKAGE}.audit_cli", lazy=True)       # suspect labels
    COMMANDS.register("surgery", f"{PACKAGE}.surgery_cli", lazy=True)   # switch filters off
    COMMANDS.register("import-tm", f"{PACKAGE}.import_tm_cli", lazy=True)  # Teachable Machine
    # Fine-tuning a finished or imported run: its model.keras is the start.
    from cnnstudio.core.families.classification.from_run import FROM_RUN

    ARCHITECTURES.register(FROM_RUN.id, FROM_RUN)
    PROFILES.register("from-run", replace(CLASSIFIER, task="from-run"))
    TASKS.register("from-run", f"{PACKAGE}.from_run_task:INSTANCE", lazy=True)
    # Multi-task learning (chapter 5): one trunk, a head per task, datasets of several labels.
    from cnnstudio.core.families.classification import multitask, multitask_data
    from cnnstudio.core.registry import DATASETS

    ARCHITECTURES.register(multitask.MULTITASK.id, multitask.MULTITASK)
    PROFILES.register("multitask", multitask.MULTITASK_PROFILE)
    TASKS.register("multitask", f"{PACKAGE}.multitask_task:INSTANCE", lazy=True)
    for source in (multitask_data.SCENES, multitask_data.MNIST):
        DATASETS.register(source.id, source)
