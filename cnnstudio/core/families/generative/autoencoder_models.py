"""The book's convolutional autoencoder (chapter 6) as a Keras model with its own train_step.

For 28×28×1 digits the layers are the book's: three 3×3 convolutions (16, 8, 8 filters),
each followed by 2×2 max pooling, squeeze the image to a 4×4×8 code — 128 numbers, 16 %
of the 784 pixels; the decoder mirrors them with upsampling, its third convolution
unpadded (16 → 14) so four doublings land on 28, and a sigmoid gives pixels in [0, 1].
Other sizes use the same stack (32×32×3 CIFAR images: 64, 32, 32 filters → a 4×4×32
code, 512 of 3,072 numbers, 17 %).

The model takes pixels as the studio stores them (0..255) and returns a reconstruction
in [0, 1]. A denoising autoencoder corrupts its own input inside ``train_step`` /
``test_step`` — Gaussian noise of ``noise_factor`` on the [0, 1] image, clipped to
[0, 1], fresh every batch — and learns to give back the clean image.
``encoder`` and ``decoder`` are models of their own, so probes can read codes.
"""

from __future__ import annotations

from cnnstudio.core.keras_setup import keras

_k = keras()


def default_widths(channels: int) -> tuple[int, int]:
    """(first conv filters, code channels) when the options say 0 (auto)."""
    return (16, 8) if channels == 1 else (64, 32)


def _encoder(shape, filters: int, code_channels: int):
    layers = _k.layers
    inputs = _k.Input(shape, name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for i, width in enumerate((filters, code_channels, code_channels), start=1):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"enc_conv{i}")(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"enc_pool{i}")(x)
    return _k.Model(inputs, x, name="encoder")


def _decoder(code_shape, out_shape, filters: int, code_channels: int):
    layers = _k.layers
    height, width, channels = out_shape
    inputs = _k.Input(code_shape, name="code")
    x = layers.Conv2D(code_channels, 3, padding="same", activation="relu", name="dec_conv1")(inputs)
    x = layers.UpSampling2D(2, name="dec_up1")(x)
    x = layers.Conv2D(code_channels, 3, padding="same", activation="relu", name="dec_conv2")(x)
    x = layers.UpSampling2D(2, name="dec_up2")(x)
    # The book's trick for 28: an unpadded conv turns 16 into 14 so the last doubling gives 28.
    valid = (4 * code_shape[0] - 2 == -(-height // 2)) and (4 * code_shape[1] - 2 == -(-width // 2))
    x = layers.Conv2D(filters, 3, padding="valid" if valid else "same", activation="relu",
                      name="dec_conv3")(x)
    x = layers.UpSampling2D(2, name="dec_up3")(x)
    extra_h, extra_w = int(x.shape[1]) - height, int(x.shape[2]) - width
    if extra_h or extra_w:      # sizes that are not multiples of 8 (e.g. 12×12): trim the border
        x = layers.Cropping2D(((extra_h // 2, extra_h - extra_h // 2),
                               (extra_w // 2, extra_w - extra_w // 2)), name="dec_crop")(x)
    outputs = layers.Conv2D(channels, 3, padding="same", activation="sigmoid",
                            name="reconstruction")(x)
    return _k.Model(inputs, outputs, name="decoder")


def _images(data):
    """The images of a batch: fit may hand over x, (x,), or (x, labels)."""
    while isinstance(data, (tuple, list)):
        data = data[0]
    return data


@_k.saving.register_keras_serializable(package="cnnstudio")
class ConvAutoencoder(_k.Model):
    def __init__(self, image_shape, filters: int = 0, code_channels: int = 0,
                 denoise: bool = False, noise_factor: float = 0.5, seed: int = 1337, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        auto_filters, auto_code = default_widths(self.image_shape[2])
        self.filters = int(filters) or auto_filters
        self.code_channels = int(code_channels) or auto_code
        self.denoise = bool(denoise)
        self.noise_factor = float(noise_factor)
        self.seed = int(seed)
        self.encoder = _encoder(self.image_shape, self.filters, self.code_channels)
        code_shape = tuple(int(d) for d in self.encoder.output.shape[1:])
        self.decoder = _decoder(code_shape, self.image_shape, self.filters, self.code_channels)
        self.noise_seed = _k.random.SeedGenerator(self.seed)
        self.built = True        # its parts are built above; saving needs no first call

    @property
    def code_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.encoder.output.shape[1:])

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "filters": self.filters, "code_channels": self.code_channels,
                "denoise": self.denoise, "noise_factor": self.noise_factor, "seed": self.seed}

    def call(self, images, training=False):
        return self.decoder(self.encoder(images, training=training), training=training)

    def corrupt(self, clean):
        """Gaussian noise on [0, 1] images, clipped back to [0, 1] (the book's recipe)."""
        ops = _k.ops
        noise = _k.random.normal(ops.shape(clean), seed=self.noise_seed)
        return ops.clip(clean + self.noise_factor * noise, 0.0, 1.0)

    def _pair(self, data):
        """(input in 0..255, clean target in [0, 1]) for one batch."""
        ops = _k.ops
        x = ops.cast(_images(data), "float32")
        clean = x / 255.0
        if self.denoise:
            x = self.corrupt(clean) * 255.0
        return x, clean

    # Keras's own steps compute the loss, the gradient and the metrics; only the data differs,
    # so this works on every backend whose trainer has a train_step(data) (TensorFlow, PyTorch).
    def train_step(self, data):
        return super().train_step(self._pair(data))

    def test_step(self, data):
        return super().test_step(self._pair(data))

    def predict_step(self, data):
        return self(_k.ops.cast(_images(data), "float32"), training=False)


def build(input_shape, filters: int = 0, code_channels: int = 0, denoise: bool = False,
          noise_factor: float = 0.5):
    return ConvAutoencoder(input_shape, filters=filters, code_channels=code_channels,
                           denoise=denoise, noise_factor=noise_factor, name="conv_autoencoder")
