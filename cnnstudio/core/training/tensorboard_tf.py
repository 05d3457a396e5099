"""TensorBoard logs written at epoch ends only (TensorFlow backend).

Keras's own TensorBoard callback calls ``tf.summary.scalar`` for every metric on
every batch, even with ``update_freq="epoch"`` (the calls find no writer and do
nothing, slowly): about a tenth of a small model's training time on the CPU.
This writes the same ``epoch_*`` scalars into ``train/`` and ``validation/``.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from cnnstudio.core.keras_setup import keras


class EpochTensorBoard(keras().callbacks.Callback):
    def __init__(self, log_dir: str | Path):
        super().__init__()
        self.log_dir = Path(log_dir)
        self._writers: dict[str, tf.summary.SummaryWriter] = {}

    def _writer(self, split: str):
        if split not in self._writers:
            self._writers[split] = tf.summary.create_file_writer(str(self.log_dir / split))
        return self._writers[split]

    def on_epoch_end(self, epoch, logs=None):
        scalars = dict(logs or {})
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and "learning_rate" not in scalars:
            try:
                scalars["learning_rate"] = float(keras().ops.convert_to_numpy(
                    optimizer.learning_rate))
            except (TypeError, ValueError, AttributeError):
                pass
        for name, value in scalars.items():
            split = "validation" if name.startswith("val_") else "train"
            with self._writer(split).as_default():
                tf.summary.scalar("epoch_" + name.removeprefix("val_"), float(value), step=epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
