"""Shuffled arrays as a tf.data pipeline whose order depends on (seed, epoch) alone
(``epoch_order.fit_inputs`` on the TensorFlow backend)."""

from __future__ import annotations

import math

import tensorflow as tf


def ordered_arrays(x, y, n: int, batch_size: int, seed: int, initial_epoch: int):
    """(dataset of one epoch's batches, the epoch variable it reads). Each iteration is one
    epoch, so a call of several steps stops at the epoch's end; the epoch is read when the
    iteration starts (EpochSeeds has set it by then)."""
    epoch = tf.Variable(int(initial_epoch), dtype=tf.int64, trainable=False)
    data = (x,) if y is None else (x, y)
    tensors = tf.nest.map_structure(tf.convert_to_tensor, data)
    key = tf.constant(int(seed) & 0x7FFFFFFF, tf.int64)

    def one_epoch(_):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n, dtype=tf.int64), seed=tf.stack([key, epoch.read_value()]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    def gather(indices):
        # The same gather Keras's own array adapter runs: no speed is lost.
        return tf.nest.map_structure(lambda t: tf.gather(t, indices), tensors)

    dataset = (tf.data.Dataset.range(1).flat_map(one_epoch)
               .map(gather, num_parallel_calls=tf.data.AUTOTUNE)
               .apply(tf.data.experimental.assert_cardinality(math.ceil(n / batch_size)))
               .prefetch(tf.data.AUTOTUNE))
    return dataset, epoch
