"""CycleGAN's pool of past fakes (Shrivastava et al. 2017; Zhu et al. 2017, §4): the
discriminators learn from a history of generated images, not only from the last batch,
which damps the oscillation of G and D chasing each other.

    pool = ImagePool(50, (32, 32, 3))     # a Keras layer: its buffer is saved with the model
    for_d = pool(fakes)                   # inside train_step (graph mode, several steps a call)

For each image in turn, as in the paper's code: while fewer than ``size`` are stored, store
it and return it; afterwards, with probability 0.5 return a randomly chosen stored image and
store the new one in its place, else return the new one. ``size`` 0 passes images through.

The buffer and its fill count are non-trainable weights and the draws come from the
layer's own SeedGenerator, so a checkpoint holds the pool and a resumed run draws what an
uninterrupted one would. The images of a batch are taken one by one (a graph loop
carrying the buffer), so two images that pick the same slot behave as they would in turn.
"""

from __future__ import annotations

from cnnstudio.core.keras_setup import keras

K = keras()
ops = K.ops
PAST_PROBABILITY = 0.5


@K.saving.register_keras_serializable(package="cnnstudio")
class ImagePool(K.layers.Layer):
    def __init__(self, size: int = 50, image_shape=(32, 32, 3), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.size, self.image_shape = int(size), tuple(int(s) for s in image_shape)
        self.seed_generator = K.random.SeedGenerator(seed)
        self.images = self.add_weight(shape=(max(self.size, 1), *self.image_shape),
                                      initializer="zeros", trainable=False, name="images")
        self.count = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                     trainable=False, name="count")
        self.built = True

    def get_config(self):
        return {**super().get_config(), "size": self.size, "image_shape": self.image_shape}

    def call(self, fakes):
        """The images D sees for the batch ``fakes`` (same shape), and the pool updated."""
        if self.size == 0:
            return fakes
        fakes = ops.stop_gradient(ops.cast(fakes, self.images.dtype))
        n = ops.shape(fakes)[0]
        draws = K.random.uniform((n,), seed=self.seed_generator)
        slots = K.random.randint((n,), 0, self.size, seed=self.seed_generator)
        zero = (0,) * len(self.image_shape)

        def one(i, state):
            buffer, count, out = state
            image = fakes[i]
            filling = count < self.size
            past = ops.logical_and(ops.logical_not(filling), draws[i] < PAST_PROBABILITY)
            slot = ops.where(filling, count, slots[i])
            stored = ops.take(buffer, slot, axis=0)
            returned = ops.where(past, stored, image)
            kept = ops.where(ops.logical_or(filling, past), image, stored)
            buffer = ops.slice_update(buffer, (slot, *zero), kept[None])
            out = ops.slice_update(out, (i, *zero), returned[None])
            return buffer, count + ops.cast(filling, "int32"), out

        buffer, count, out = ops.fori_loop(
            0, n, one, (ops.convert_to_tensor(self.images), ops.convert_to_tensor(self.count),
                        ops.zeros_like(fakes)))
        self.images.assign(buffer)
        self.count.assign(count)
        return out

    def compute_output_shape(self, input_shape):
        return input_shape
