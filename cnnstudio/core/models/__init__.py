"""The architecture registry. A new architecture is one module that calls ``ARCHITECTURES.register``."""

from __future__ import annotations

from cnnstudio.core.models.base import Architecture, format_table, layer_table
from cnnstudio.core.models.classic import BOOK_CIFAR, LENET5, MLP
from cnnstudio.core.registry import Registry

ARCHITECTURES: Registry[Architecture] = Registry("model")
for _arch in (MLP, LENET5, BOOK_CIFAR):
    ARCHITECTURES.register(_arch.id, _arch)

__all__ = ["ARCHITECTURES", "Architecture", "format_table", "layer_table"]
