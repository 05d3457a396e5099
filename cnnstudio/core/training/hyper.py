"""The book's hyperparameters, each one Keras's own object: optimizers, learning-rate
schedules, initialisers, regularisers, dropout, and the plateau/early-stopping callbacks.

Initialiser, L1/L2 and dropout are applied to an already built model (any architecture,
including ones that know nothing about them) before its first compile; they are written
into the layers' configs too, so a saved or resumed model keeps them.
"""

from __future__ import annotations

from cnnstudio.core.config import TrainConfig
from cnnstudio.core.keras_setup import keras

INITIALIZERS = {"glorot": "GlorotUniform", "he": "HeNormal", "truncated-normal": "TruncatedNormal"}


def learning_rate(cfg: TrainConfig, steps_per_epoch: int | None = None):
    """A float, or a keras.optimizers.schedules object for step decay and cosine."""
    lr = float(cfg.learning_rate)
    schedules = keras().optimizers.schedules
    steps = max(1, int(steps_per_epoch or 1))
    if cfg.lr_schedule == "step":
        # Multiply by lr_decay every lr_step_epochs epochs (staircase exponential decay).
        return schedules.ExponentialDecay(lr, decay_steps=cfg.lr_step_epochs * steps,
                                          decay_rate=cfg.lr_decay, staircase=True)
    if cfg.lr_schedule == "cosine":
        return schedules.CosineDecay(lr, decay_steps=cfg.epochs * steps)
    return lr   # constant, and plateau (the ReduceLROnPlateau callback changes it)


def make_optimizer(cfg: TrainConfig, steps_per_epoch: int | None = None):
    opt = keras().optimizers
    lr = learning_rate(cfg, steps_per_epoch)
    if cfg.optimizer == "sgd":
        return opt.SGD(learning_rate=lr, momentum=0.9)
    return {"adam": opt.Adam, "rmsprop": opt.RMSprop, "adamw": opt.AdamW,
            "adagrad": opt.Adagrad, "nadam": opt.Nadam}[cfg.optimizer](learning_rate=lr)


def _weighted_layers(model):
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if getattr(layer, "kernel", None) is not None and hasattr(layer, "kernel_initializer"):
            yield layer


def apply_hyperparameters(model, cfg: TrainConfig, only_trainable: bool = True) -> dict:
    """Re-initialise kernels, attach L1/L2 and set dropout rates as ``cfg`` asks.

    Returns what was changed (layer counts), so callers can report it.
    """
    k = keras()
    changed = {"initialized": 0, "regularized": 0, "dropout": 0}
    regularizer = (k.regularizers.L1L2(l1=float(cfg.l1), l2=float(cfg.l2))
                   if cfg.l1 or cfg.l2 else None)
    for i, layer in enumerate(_weighted_layers(model)):
        if only_trainable and not layer.trainable:
            continue   # a frozen pretrained base keeps its weights and has no penalty
        if cfg.initializer != "default":
            kind = getattr(k.initializers, INITIALIZERS[cfg.initializer])
            init = kind(seed=cfg.seed + i)   # seeded per layer: the same run, the same start
            layer.kernel.assign(init(layer.kernel.shape, dtype=layer.kernel.dtype))
            layer.kernel_initializer = init
            changed["initialized"] += 1
        if regularizer is not None and hasattr(layer, "kernel_regularizer"):
            layer.kernel_regularizer = regularizer
            layer.kernel.regularizer = regularizer   # what Keras sums into the loss
            changed["regularized"] += 1
    if cfg.dropout is not None:
        for layer in model._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, k.layers.Dropout):
                layer.rate = float(cfg.dropout)
                changed["dropout"] += 1
    return changed


class StudioEarlyStopping(keras().callbacks.EarlyStopping):
    """EarlyStopping that says whether it fired, so the engine can call the run finished."""

    @property
    def stopped_early(self) -> bool:
        return self.stopped_epoch > 0   # Keras sets it only when patience ran out


def callbacks(cfg: TrainConfig, has_validation: bool) -> list:
    """Plateau and early-stopping callbacks; they watch val_loss, or loss with no validation."""
    monitor = "val_loss" if has_validation else "loss"
    found = []
    if cfg.lr_schedule == "plateau":
        found.append(keras().callbacks.ReduceLROnPlateau(
            monitor=monitor, factor=cfg.lr_decay, patience=cfg.lr_patience, verbose=0))
    if cfg.early_stopping:
        found.append(StudioEarlyStopping(monitor=monitor, patience=cfg.patience,
                                         restore_best_weights=True, verbose=0))
    return found


def stopped_early(callback_list) -> bool:
    return any(getattr(cb, "stopped_early", False) for cb in callback_list)
