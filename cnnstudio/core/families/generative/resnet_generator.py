"""The CycleGAN paper's ResNet generator, small (Zhu et al. 2017, appendix 7.2; after
Johnson et al. 2016): c7s1-f, d2f, d4f, R4f × blocks, u2f, uf, c7s1-C with tanh.

    G = resnet_generator((32, 32, 3), 3, filters=32)      # 3 residual blocks at 32×32

Convolutions pad by reflection, as the paper does, so the borders carry no zero frame for
the discriminator to spot; instance normalisation as in the U-Net (translation_networks).
"""

from __future__ import annotations

from cnnstudio.core.errors import ModelError
from cnnstudio.core.keras_setup import keras

K = keras()
ops = K.ops


@K.saving.register_keras_serializable(package="cnnstudio")
class ReflectionPad(K.layers.Layer):
    """Pads height and width by ``pad`` pixels, mirroring the image at its edges."""

    def __init__(self, pad: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.pad = int(pad)

    def call(self, x):
        p = self.pad
        return ops.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")

    def compute_output_shape(self, shape):
        grow = lambda s: None if s is None else s + 2 * self.pad   # noqa: E731
        return (shape[0], grow(shape[1]), grow(shape[2]), shape[3])

    def get_config(self):
        return {**super().get_config(), "pad": self.pad}


def resnet_blocks(side: int) -> int:
    """The paper uses 9 blocks at 256 px and 6 at 128; smaller images need fewer."""
    return 9 if side >= 256 else 6 if side >= 128 else 4 if side >= 64 else 3


def _norm():
    return K.layers.GroupNormalization(groups=-1, epsilon=1e-5)


def _conv(x, filters: int, kernel: int, relu: bool = True):
    x = ReflectionPad(kernel // 2)(x)
    x = K.layers.Conv2D(filters, kernel)(x)
    x = _norm()(x)
    return K.layers.ReLU()(x) if relu else x


def resnet_generator(input_shape, out_channels: int, filters: int = 32,
                     blocks: int | None = None, name: str = "resnet"):
    height, width, _ = (int(s) for s in input_shape)
    if height % 4 or width % 4:
        raise ModelError(f"the ResNet generator halves the image twice: its sides must be "
                         f"divisible by 4, got {height}×{width}")
    blocks = resnet_blocks(min(height, width)) if blocks is None else int(blocks)
    layers = K.layers
    inputs = K.Input((height, width, int(input_shape[2])), name=f"{name}_input")
    x = _conv(inputs, filters, 7)
    for k in (2, 4):                                    # d2f, d4f
        x = layers.Conv2D(filters * k, 3, strides=2, padding="same")(x)
        x = layers.ReLU()(_norm()(x))
    for _ in range(blocks):                             # R4f: two 3×3 convolutions + skip
        y = _conv(x, filters * 4, 3)
        y = _conv(y, filters * 4, 3, relu=False)
        x = layers.Add()([x, y])
    for k in (2, 1):                                    # u2f, uf
        x = layers.Conv2DTranspose(filters * k, 3, strides=2, padding="same")(x)
        x = layers.ReLU()(_norm()(x))
    x = ReflectionPad(3)(x)
    outputs = layers.Conv2D(int(out_channels), 7, activation="tanh", name=f"{name}_output")(x)
    return K.Model(inputs, outputs, name=name)
