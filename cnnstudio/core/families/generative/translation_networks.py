"""The networks and losses image-to-image translation shares (book chapter 8): pix2pix's
U-Net generator and PatchGAN discriminator, also used by CycleGAN.

    G = unet_generator((64, 64, 1), out_channels=3, filters=32)    # tanh, [−1, 1]
    D = patch_discriminator((64, 64, 4), filters=32, layers=3)      # logits (N, 8, 8, 1)
    patch_map_size(64, 3) == 8;  receptive_field(3) == 70           # the paper's 70×70 PatchGAN
    loss = bce_logits(1.0, D(...)) + 100 * l1(G(x), y)

Images cross the studio's APIs as uint8 0..255; ``to_unit`` and ``to_uint8`` convert to and
from the networks' [−1, 1].

Normalisation is instance norm (``GroupNormalization(groups=-1)``), in both networks, as
pix2pix at batch size 1 and CycleGAN use it. Why not batch norm: instance norm keeps no
running statistics, so the generator does the same thing in training and in inference
(batch norm's averages, gathered while G and D chase each other, blur test outputs), it
works at any batch size (the drawing pad translates one image), and a resumed run has no
moving averages to restore. The outermost encoder block and the innermost one (a 2 × 2
bottleneck, where per-image statistics of 4 pixels are meaningless) have no norm, as in
the paper's code.

Everything here is keras.ops, so it runs on any Keras 3 backend.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.errors import ModelError
from cnnstudio.core.keras_setup import keras

K = keras()
ops = K.ops
KERNEL = 4                  # every convolution of both networks is 4 × 4, as in the paper
MAX_MULTIPLE = 8            # filters double per level up to 8 × the base, as in the paper
MIN_BOTTLENECK = 2          # the U-Net halves the side down to 2 px (64 → 2 in 5 halvings)
DROPOUT_BLOCKS = 3          # the paper's dropout sits on the three innermost decoder blocks


def _norm(name: str):
    return K.layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)


def unet_depth(side: int) -> int:
    """How many stride-2 halvings fit a side: while it stays even and ≥ MIN_BOTTLENECK px
    (64 → 5, 32 → 4, 28 → 2). Only even sides halve, so each skip joins equal sizes."""
    depth = 0
    while side % 2 == 0 and side // 2 >= MIN_BOTTLENECK:
        side //= 2
        depth += 1
    return depth


def unet_generator(input_shape, out_channels: int, filters: int = 32, depth: int | None = None,
                   dropout: float = 0.5, name: str = "unet"):
    """pix2pix's U-Net: encoder ``enc1..encD`` (Conv 4×4 stride 2 + norm + LeakyReLU 0.2),
    decoder ``dec{D-1}..dec1`` (Conv2DTranspose 4×4 stride 2 + norm + ReLU, dropout on the
    innermost DROPOUT_BLOCKS as the paper's noise), ``skip{i}`` = concatenate(dec{i}, enc{i}),
    and a last transposed convolution to ``out_channels`` with tanh."""
    height, width, _ = (int(s) for s in input_shape)
    most = unet_depth(min(height, width))
    depth = most if depth is None else int(depth)
    if not 1 <= depth <= most or height % 2 ** depth or width % 2 ** depth:
        raise ModelError(f"a U-Net of depth {depth} cannot halve a {height}×{width} image "
                         f"(at most {most} halvings for this size; sides must stay even)")
    layers = K.layers
    inputs = K.Input(tuple(int(s) for s in input_shape), name=f"{name}_input")
    width_at = [min(filters * 2 ** i, filters * MAX_MULTIPLE) for i in range(depth)]
    x, encoded = inputs, []
    for i in range(1, depth + 1):
        x = layers.Conv2D(width_at[i - 1], KERNEL, strides=2, padding="same",
                          name=f"enc{i}_conv")(x)
        if 1 < i < depth:
            x = _norm(f"enc{i}_norm")(x)
        x = layers.LeakyReLU(0.2, name=f"enc{i}")(x)
        encoded.append(x)
    for i in range(depth - 1, 0, -1):
        x = layers.Conv2DTranspose(width_at[i - 1], KERNEL, strides=2, padding="same",
                                   name=f"dec{i}_conv")(x)
        x = _norm(f"dec{i}_norm")(x)
        if dropout and depth - i <= DROPOUT_BLOCKS:
            x = layers.Dropout(dropout, name=f"dec{i}_dropout")(x)
        x = layers.ReLU(name=f"dec{i}")(x)
        x = layers.Concatenate(name=f"skip{i}")([x, encoded[i - 1]])
    outputs = layers.Conv2DTranspose(int(out_channels), KERNEL, strides=2, padding="same",
                                     activation="tanh", name=f"{name}_output")(x)
    return K.Model(inputs, outputs, name=name)


def patch_discriminator(input_shape, filters: int = 32, layers: int = 3, name: str = "patchgan"):
    """PatchGAN: ``layers`` stride-2 convolutions (no norm on the first), a stride-1
    convolution with norm, then a 1-channel stride-1 convolution → logits (N, h, w, 1), one
    per overlapping patch of receptive_field(layers) px. For pix2pix the caller concatenates
    the input's and the output's channels first."""
    if int(layers) < 0:
        raise ModelError(f"a PatchGAN needs 0 or more stride-2 layers, got {layers}")
    L = K.layers
    inputs = K.Input(tuple(int(s) for s in input_shape), name=f"{name}_input")
    x = inputs
    for i in range(int(layers)):
        x = L.Conv2D(min(filters * 2 ** i, filters * MAX_MULTIPLE), KERNEL, strides=2,
                     padding="same", name=f"{name}_conv{i + 1}")(x)
        if i:
            x = _norm(f"{name}_norm{i + 1}")(x)
        x = L.LeakyReLU(0.2)(x)
    x = L.Conv2D(min(filters * 2 ** int(layers), filters * MAX_MULTIPLE), KERNEL, padding="same",
                 name=f"{name}_conv{int(layers) + 1}")(x)
    x = _norm(f"{name}_norm{int(layers) + 1}")(x)
    x = L.LeakyReLU(0.2)(x)
    outputs = L.Conv2D(1, KERNEL, padding="same", name=f"{name}_logits")(x)
    return K.Model(inputs, outputs, name=name)


def patch_map_size(input_side: int, layers: int = 3) -> int:
    """The side of PatchGAN's logits map: each "same" stride-2 layer takes ⌈n/2⌉."""
    side = int(input_side)
    for _ in range(int(layers)):
        side = -(-side // 2)
    return side


def receptive_field(layers: int = 3) -> int:
    """Each logit's receptive field in input pixels: 70 for 3 layers (the paper's 70×70),
    34 for 2, 16 for 1 — walked back from the logit through every 4×4 convolution."""
    field = 1
    for stride in reversed([2] * int(layers) + [1, 1]):
        field = (field - 1) * stride + KERNEL
    return field


# -- losses (scalars) --------------------------------------------------------------------------
def l1(a, b):
    """Mean absolute difference."""
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))


def bce_logits(target_value: float, logits):
    """Mean binary cross-entropy of ``logits`` against one constant target (1 real, 0 fake);
    from logits, which is numerically safer than a sigmoid followed by a log."""
    logits = ops.cast(logits, "float32")
    labels = ops.full(ops.shape(logits), target_value, dtype="float32")
    return ops.mean(ops.binary_crossentropy(labels, logits, from_logits=True))


def lsgan(target_value: float, outputs):
    """Least-squares GAN loss (Mao et al. 2017), as CycleGAN uses: mean (D − target)²."""
    return ops.mean(ops.square(ops.cast(outputs, "float32") - target_value))


# -- pixels -------------------------------------------------------------------------------------
def to_unit(images_uint8):
    """uint8 0..255 → float32 [−1, 1]; numpy stays numpy, a tensor stays a tensor."""
    if isinstance(images_uint8, np.ndarray):
        return images_uint8.astype(np.float32) / 127.5 - 1.0
    return ops.cast(images_uint8, "float32") / 127.5 - 1.0


def to_uint8(unit) -> np.ndarray:
    """[−1, 1] (numpy or tensor) → uint8 0..255, rounded and clipped."""
    x = np.asarray(ops.convert_to_numpy(unit), dtype=np.float32)
    return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)
