"""The ``multitask`` task: several labels per image, one sparse cross-entropy per head, and
the total loss Keras minimises is Σ weight_i × loss_i (``loss_weights``).

The engine hands a task the dataset (``check``, ``prepare``) and the model (``compile``)
at different moments, and never the architecture's options to ``prepare``; so ``check``,
which sees both the dataset and the options on every start and every resume, writes the
chosen heads and their weights onto the run's dataset object for ``prepare`` to read.
"""

from __future__ import annotations

import math

import numpy as np

from cnnstudio.core import atomic, augment
from cnnstudio.core.config import TrainConfig
from cnnstudio.core.families.classification.multitask import loss_weights
from cnnstudio.core.families.classification.multitask_data import dataset_tasks, selected_heads
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.training import hyper
from cnnstudio.core.training.batches import split_indices
from cnnstudio.core.training.events import Notice
from cnnstudio.core.training.tasks import FitData

FILE = "evaluation.json"


def labels_of(split, heads, indices=None) -> dict[str, np.ndarray]:
    """head key → int32 labels of the split (at ``indices``)."""
    idx = slice(None) if indices is None else np.asarray(indices, dtype=np.int64)
    return {key: np.asarray(split.tasks[name][idx], np.int32) for key, name in heads}


class MultiTaskTask:
    name = "multitask"

    def check(self, dataset, options: dict, cfg: TrainConfig) -> None:
        tasks = dataset_tasks(dataset)            # a DataError for a one-label dataset
        heads = selected_heads(options.get("tasks", "all"), tasks)
        weights = loss_weights(options)
        dataset.trained_heads = heads
        dataset.loss_weights = {key: weights[key] for key, _ in heads}

    def build_model(self, arch, input_shape, num_classes, options, cfg: TrainConfig):
        """``arch.build`` turns ``num_classes`` into a plain int; the builder needs the
        dataset's HeadCounts (every head's size), so it is called with the checked options."""
        from cnnstudio.core.families.classification.multitask_models import build_multitask

        if min(input_shape[:2]) < arch.min_size:
            return arch.build(input_shape, num_classes, options)     # its clear ModelError
        shape = tuple(int(s) for s in input_shape)
        return build_multitask(shape, num_classes, **arch.options(options))

    def prepare(self, dataset, shape, cfg: TrainConfig, sink) -> FitData:
        tasks = dataset_tasks(dataset)
        heads = getattr(dataset, "trained_heads", None) or selected_heads("all", tasks)
        train, bs = dataset.train, cfg.batch_size
        tr_idx, val_idx = split_indices(len(train), cfg.validation_split, cfg.seed)
        if augment.is_active(cfg.augmentation):
            sink(Notice("augmentation is not used by the multi-task model: a flip or a turn "
                        "can change a label (a 6 turned over is a 9)", level="info"))
        kwargs = {"x": train.x[tr_idx], "y": labels_of(train, heads, tr_idx),
                  "batch_size": bs, "shuffle": True}
        if len(val_idx):
            kwargs["validation_data"] = (train.x[val_idx], labels_of(train, heads, val_idx))
        test = dataset.test
        return FitData(kwargs, (test.x, labels_of(test, heads)), len(tr_idx), len(val_idx),
                       len(test), math.ceil(len(tr_idx) / bs),
                       extra={"heads": heads, "task_classes": tasks,
                              "class_names": list(dataset.class_names),
                              "loss_weights": getattr(dataset, "loss_weights", None) or
                              {key: 1.0 for key, _ in heads}})

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        hyper.apply_hyperparameters(model, cfg)
        keys = list(model.output_names)
        weights = (data.extra.get("loss_weights") if data else None) or {}
        metrics = keras().metrics
        if len(keys) == 1:
            # Keras names a lone output's logs "loss"/"accuracy": name them as the head's, so
            # a single-task baseline's curves and records line up with a multi-task run's.
            key = keys[0]
            per_head = {key: [metrics.SparseCategoricalAccuracy(name=f"{key}_accuracy"),
                              metrics.SparseCategoricalCrossentropy(name=f"{key}_loss")]}
        else:
            per_head = {key: [metrics.SparseCategoricalAccuracy(name="accuracy")]
                        for key in keys}
        steps = data.steps_per_epoch if data else None
        model.compile(optimizer=hyper.make_optimizer(cfg, steps),
                      loss={key: "sparse_categorical_crossentropy" for key in keys},
                      loss_weights={key: float(weights.get(key, 1.0)) for key in keys},
                      metrics=per_head)

    def callbacks(self, cfg: TrainConfig, data: FitData | None = None, run_dir=None) -> list:
        return hyper.callbacks(cfg, has_validation=bool(data and data.num_val))

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        if data.num_test == 0:
            return {}
        logs = model.evaluate(*data.test, batch_size=batch_size, verbose=0, return_dict=True)
        return {k: float(v) for k, v in logs.items()}

    def after_fit(self, model, data: FitData, run_dir) -> dict | None:
        """Each head's test accuracy under its task's name, plus its confusion matrix →
        run_dir/evaluation.json (what the Multi-task tab and the Runs panel read)."""
        if data.num_test == 0:
            return None
        result = per_task_accuracy(model, data.test[0], data.test[1], data.extra["heads"],
                                   data.extra["task_classes"])
        if run_dir is not None:
            atomic.write_json(f"{run_dir}/{FILE}", result)
        return result


def per_task_accuracy(model, x, labels: dict, heads, task_classes, batch_size=256) -> dict:
    """{"<task>_accuracy": …, "params": …, "heads": {task: {head, accuracy, classes,
    confusion}}} on (x, labels)."""
    pred = model.predict(np.asarray(x, np.float32), batch_size=batch_size, verbose=0)
    result, detail = {}, {}
    for key, name in heads:
        guess, truth = np.asarray(pred[key]).argmax(-1), np.asarray(labels[key])
        classes = list(task_classes[name])
        confusion = np.zeros((len(classes), len(classes)), np.int64)
        np.add.at(confusion, (truth, guess), 1)
        accuracy = float(np.mean(guess == truth)) if len(truth) else 0.0
        result[f"{name}_accuracy"] = accuracy
        detail[name] = {"head": key, "accuracy": accuracy, "classes": classes,
                        "confusion": confusion.tolist()}
    result["params"] = int(model.count_params())
    result["heads"] = detail
    return result


def predict_tasks(model, image, dataset_info: dict, k: int = 3) -> list[tuple[str, list]]:
    """Each trained head's top ``k`` (class, probability) for one image: [(task, rows)].
    ``dataset_info`` is the run's dataset.json (input shape, task names and classes)."""
    from cnnstudio.core.imaging import fit_to_shape

    tasks = dataset_info.get("tasks") or {}
    names = list(tasks)
    batch = fit_to_shape(image, tuple(dataset_info["input_shape"]))[None].astype(np.float32)
    outputs = model.predict_on_batch(batch)
    answers = []
    for key in sorted(outputs):
        name = names[int(key.removeprefix("task")) - 1]
        probs = np.asarray(outputs[key], np.float64)[0]
        order = np.argsort(-probs, kind="stable")[:k]
        answers.append((name, [(tasks[name][i], float(probs[i])) for i in order]))
    return answers


INSTANCE = MultiTaskTask()   # registered by the family plugin
