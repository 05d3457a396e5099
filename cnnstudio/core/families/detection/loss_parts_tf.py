"""The train and test steps the detection models share: ``compute_losses(data, training)``
returns named loss parts ("loss" their sum, the rest shown as curves), one Mean tracker per
part in ``self.trackers`` reports them. A model mixes this in before ``keras.Model``."""

from __future__ import annotations

import tensorflow as tf


class LossPartsSteps:
    clip_norm: float | None = None      # clip the gradients' global norm (Mask R-CNN's)

    def _record(self, parts):
        for name, tracker in self.trackers.items():
            tracker.update_state(parts[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    @staticmethod
    def _inputs(data):
        return data[0] if isinstance(data, (tuple, list)) else data

    def train_step(self, data):
        data = self._inputs(data)
        variables = self.trainable_variables
        with tf.GradientTape() as tape:
            parts = self.compute_losses(data, training=True)
        grads = tape.gradient(parts["loss"], variables)
        if self.clip_norm is not None:
            grads, _ = tf.clip_by_global_norm(grads, self.clip_norm)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        return self._record(parts)

    def test_step(self, data):
        return self._record(self.compute_losses(self._inputs(data), training=False))
