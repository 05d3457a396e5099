"""The architecture registry. A new architecture is one module that calls ``ARCHITECTURES.register``."""

from __future__ import annotations

from cnnstudio.core.models.alexnet import ALEXNET
from cnnstudio.core.models.base import Architecture, format_table, layer_table
from cnnstudio.core.models.book_cnns import DOGS_VS_CATS, TRAFFIC_SIGNS_BN
from cnnstudio.core.models.classic import BOOK_CIFAR, LENET5, MLP
from cnnstudio.core.models.googlenet import GOOGLENET
from cnnstudio.core.models.resnet import RESNET
from cnnstudio.core.models.transfer import TRANSFER
from cnnstudio.core.models.vgg import VGG16, VGG_SMALL
from cnnstudio.core.registry import Registry

ARCHITECTURES: Registry[Architecture] = Registry("model")
for _arch in (MLP, LENET5, BOOK_CIFAR, DOGS_VS_CATS, TRAFFIC_SIGNS_BN, ALEXNET, VGG_SMALL,
              VGG16, GOOGLENET, RESNET, TRANSFER):
    ARCHITECTURES.register(_arch.id, _arch)

# The families of the book's second half register their architectures (and tasks) here too.
# Registration order is the model picker's order (chapters 6 and 8, 9, 7).
# isort: off
from cnnstudio.core.families import generative  # noqa: E402, F401
from cnnstudio.core.families import attention  # noqa: E402, F401
from cnnstudio.core.families import detection  # noqa: E402, F401
# isort: on

__all__ = ["ARCHITECTURES", "Architecture", "format_table", "layer_table"]
