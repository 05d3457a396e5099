"""How an architecture of the detection family builds its model: square colour images only,
placeholder class names (the task puts the data's names on the model when it compiles a
fresh one), the network's module imported only then — registering stays free of Keras."""

from __future__ import annotations

import importlib

from cnnstudio.core.errors import ModelError


def square_colour_build(arch_id: str, module: str, builder: str):
    """``build(input_shape, num_classes, **options)`` calling ``module.builder(side, names,
    **options)``."""
    def build(input_shape, num_classes, **options):
        height, width = input_shape[:2]
        if height != width or input_shape[2] != 3:
            raise ModelError(f"{arch_id} needs square colour images, got {height}×{width}×"
                             f"{input_shape[2]}; set the dataset's size option")
        names = ["background", *(f"class {i}" for i in range(1, int(num_classes) + 1))]
        return getattr(importlib.import_module(module), builder)(height, names, **options)
    return build
