"""The engine: executes a RunConfig through Keras ``fit`` and writes a run directory.

    result = run(config, sink=print)            # new run
    result = resume("runs/2026…-lenet5")        # continue from the last checkpoint

Everything that can be wrong with the input (config, dataset, architecture) is
found before the run directory is created, and raised as a StudioError. Once
training has started, a failure becomes a RunFailed event and a ``failed``
status on disk; the last checkpoint stays, so the run can be resumed.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.core.architecture import layer_table
from cnnstudio.core.config import RunConfig
from cnnstudio.core.datasets import load_dataset
from cnnstudio.core.datasets.keras_downloads import progress_to
from cnnstudio.core.errors import StudioError
from cnnstudio.core.families.profile import arch_profile
from cnnstudio.core.keras_setup import backend_name, keras
from cnnstudio.core.predict import load_model_file
from cnnstudio.core.registry import ARCHITECTURES, TASKS
from cnnstudio.core.training import devices, distribute, epoch_order, failures, hyper
from cnnstudio.core.training import steps_per_call as spc
from cnnstudio.core.training.callbacks import (
    CarryAcrossRefit,
    Retune,
    StudioCallback,
    check_weights,
)
from cnnstudio.core.training.control import RunControl
from cnnstudio.core.training.epoch_writer import EpochWriter
from cnnstudio.core.training.events import (
    Event,
    Notice,
    Progress,
    RunFailed,
    RunFinished,
    RunStarted,
)
from cnnstudio.core.training.rundir import RunDir, default_runs_root

EpochHook = Callable[[Any, int], None]    # (model, epoch) after each complete epoch


@dataclass
class RunResult:
    status: str                       # finished | stopped | failed
    run_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)


def run(config: RunConfig, *, runs_root=None, run_dir=None, sink=None,
        control: RunControl | None = None, epoch_hooks: Iterable[EpochHook] = ()) -> RunResult:
    """Start a new run. Raises StudioError for bad input before anything is written."""
    # The engine works on its own copy: filling in a dataset option for this run must not
    # change the caller's config (the window's form, a sweep's base).
    config = RunConfig.from_dict(config.check().to_dict())
    failures.ensure_writable(run_dir or runs_root or default_runs_root(),
                             "run folder" if run_dir else "runs folder")
    sink = sink or (lambda event: None)
    prepared = _prepare(config, sink)
    folder = RunDir.create(config, root=runs_root, path=run_dir)
    folder.claim()
    return _execute(config, folder, prepared, sink, control or RunControl(), epoch_hooks,
                    initial_epoch=0, model=None)


def resume(run_dir, *, sink=None, control: RunControl | None = None, epochs: int | None = None,
           epoch_hooks: Iterable[EpochHook] = ()) -> RunResult:
    """Continue a stopped or crashed run from its last checkpoint (model and optimizer)."""
    folder = RunDir.open(run_dir)
    for place in (folder.path, folder.path / "checkpoints"):
        failures.ensure_writable(place, "run folder")
    config = folder.config()
    if folder.status() == "running":
        pid = folder.read_json("status.json", {}).get("pid")
        raise StudioError(f"run {folder.path.name} is still being trained (process {pid}, "
                          "another window or command); stop it there first")
    folder.claim()          # atomic: of two windows resuming one run, one wins
    try:
        if epochs is not None:
            config.training.epochs = epochs
            folder.write_json("config.json", config.to_dict())
        config.check()
        last = folder.last_checkpoint()
        done = last[0] if last else 0
        if done >= config.training.epochs:
            raise StudioError(f"run {folder.path.name} has already trained {done} of "
                              f"{config.training.epochs} epochs; pass --epochs to train longer")
        sink = sink or (lambda event: None)
        prepared = _prepare(config, sink, build=last is None)
        model = None
        if last is not None:
            with devices.device_scope(prepared["report"]):
                model = load_model_file(last[1])      # safe_mode, family layers registered
            prepared["random_state"] = _restore_random_state(model, last[1])
        # The epoch cut short (stopped or killed) is trained again: its records go.
        folder.forget_after(done)
    except BaseException:
        folder.close()      # the lock
        raise
    return _execute(config, folder, prepared, sink, control or RunControl(), epoch_hooks,
                    initial_epoch=done, model=model)


def _prepare(config: RunConfig, sink, build: bool = True) -> dict[str, Any]:
    arch = ARCHITECTURES.get(config.model.id)
    dataset_cfg = config.dataset
    if (dataset_cfg.id == "folder" and arch.preferred_size
            and "image_size" not in dataset_cfg.options):
        dataset_cfg.options["image_size"] = arch.preferred_size
    sink(Progress("load", 0, None, f"loading dataset {dataset_cfg.id}"))
    dataset = load_dataset(dataset_cfg, sink)
    # Options that cannot work with this data (an ssgan asked for more labels per class than
    # the data has) are said before the run folder exists.
    check = getattr(TASKS.get(arch.task), "check", None)
    if check:
        check(dataset, arch.options(config.model.options), config.training)
    distribute.check(arch, config.training.device)     # "all": families whose step allows it
    report = devices.prepare(config.training.device, config.training.mixed_precision)
    # Seeds make a CPU run repeatable to the bit. TensorFlow's op-determinism switch is
    # left to the user (TF_DETERMINISTIC_OPS=1): it also turns XLA off, which costs far
    # more speed than it buys on the CPU.
    keras().utils.set_random_seed(config.training.seed)
    model = None
    if build:
        # Pretrained weights (transfer family) download here, with progress events.
        with devices.device_scope(report), progress_to(sink):
            model = _build(arch, dataset, config)
    return {"arch": arch, "dataset": dataset, "report": report, "model": model}


def _execute(config, folder: RunDir, prepared, user_sink, control, epoch_hooks,
             initial_epoch: int, model) -> RunResult:
    dataset, arch, report = prepared["dataset"], prepared["arch"], prepared["report"]
    model = model or prepared["model"]
    task = TASKS.get(arch.task)
    cfg = config.training

    def sink(event: Event) -> None:
        if not isinstance(event, Progress):
            folder.record(event.to_record())
        user_sink(event)

    t0 = time.perf_counter()
    writer: EpochWriter | None = None
    try:
        folder.set_status("running", epoch=initial_epoch)
        sink(report)
        if report.using == "cpu":
            sink(Notice(devices.CPU_ONLY if not report.gpus else "Training on the CPU, as asked.",
                        level="info" if report.gpus else "warning"))
        for _path, reason in dataset.skipped:
            sink(Notice(f"skipped {reason}"))
        note = arch_profile(arch.id).resume_note
        if initial_epoch and note and os.environ.get("TF_DETERMINISTIC_OPS") != "1":
            sink(Notice(note, level="info"))
        if prepared.get("random_state") is False:
            sink(Notice("this checkpoint holds no random state (dropout, noise): the resumed "
                        "run goes on correctly but will not repeat an uninterrupted one to "
                        "the bit", level="info"))
        cfg = distribute.global_batch(cfg, sink)    # device "all": per-replica × replicas
        data = task.prepare(dataset, dataset.input_shape, cfg, sink)
        data = distribute.shard(data, sink)          # several processes: each its own share
        with devices.device_scope(report):          # MirroredStrategy: compile in its scope
            if getattr(model, "optimizer", None) is None:   # a loaded checkpoint is compiled
                task.compile(model, cfg, data)
            _ensure_built(model, dataset.input_shape)
        folder.write_json("dataset.json", dataset.info())
        folder.write_json("model.json", {"id": arch.id, "name": arch.name,
                                         "params": _params(model),
                                         "layers": layer_table(model)})
        # Epoch e's data order depends on (seed, e) alone: a resumed run repeats it.
        inputs = epoch_order.fit_inputs(data.fit_kwargs, cfg.seed, initial_epoch)
        steps, note, auto = _steps_per_call(model, arch, cfg, data.steps_per_epoch, inputs)
        model.steps_per_execution = steps
        sink(RunStarted(str(folder.path), dataset.id, arch.id, _params(model),
                        data.num_train, data.num_val, data.num_test, cfg.epochs, initial_epoch,
                        data.steps_per_epoch, cfg.batch_size, resumed=initial_epoch > 0,
                        steps_per_call=steps, steps_per_call_note=note))

        def checkpoint(m, epoch):
            check_weights(m, epoch)            # the last good checkpoint stays the last one
            # The random streams first: a checkpoint on disk always has its state beside it.
            path = folder.checkpoint_path(epoch)
            epoch_order.save_state(epoch_order.read_states(m), path)
            try:
                folder.save_checkpoint(m, epoch)
            except BaseException:
                epoch_order.state_path(path).unlink(missing_ok=True)    # no orphan
                raise
            folder.set_status("running", epoch=epoch)

        probe_hooks = getattr(task, "probe_hooks", None)    # each family records its own
        probes = probe_hooks(dataset, folder.path, sink, cfg) if probe_hooks else []
        # Several processes: save and probe on the training thread of every process alike (the
        # writer thread's shadow could fail on one process only, and its fallback's collectives
        # would then meet the other's training step).
        writer = EpochWriter([checkpoint, *probes], background=distribute.processes() < 2)
        studio = StudioCallback(sink, control, data.steps_per_epoch, cfg.epochs, cfg.batch_size,
                                data.num_train, epoch_hooks=[writer, *epoch_hooks])
        seeds = epoch_order.EpochSeeds(cfg.seed, inputs)
        retune = Retune(studio, steps, inputs.endless, enabled=auto)
        extra = getattr(task, "callbacks", None)       # plateau, early stopping…
        extras = extra(cfg, data, folder.path) if extra else []
        carry = CarryAcrossRefit(extras)
        # Retune last: it must see a stop asked by early stopping in the same epoch end.
        callbacks = [seeds, studio, *extras, carry, retune]
        if backend_name() == "tensorflow":
            from cnnstudio.core.training.tensorboard_tf import EpochTensorBoard

            callbacks.append(EpochTensorBoard(folder.path / "tensorboard"))
        fit_start = time.perf_counter()
        start = initial_epoch
        with devices.device_scope(report):
            while True:
                model.fit(**inputs.kwargs, epochs=cfg.epochs, initial_epoch=start,
                          callbacks=callbacks, verbose=0)
                if retune.better is None or control.stop_requested:
                    break
                # The first epoch measured the step: go on with a better count, a new graph.
                steps, retune.better = retune.better, None
                carry.hold()
                model.steps_per_execution = steps
                model.train_function = model.test_function = None
                model._eval_epoch_iterator = None
                sink(Notice(spc.describe(steps, retune.step_seconds, "re-tuned after the "
                                         "first epoch"), level="info"))
                start = studio.completed_epochs
                inputs = epoch_order.fit_inputs(data.fit_kwargs, cfg.seed, start)
                seeds.inputs = inputs
        writer.close()                     # the last epoch's checkpoint is on disk
        studio.steps_per_call = steps
        studio.fit_seconds = time.perf_counter() - fit_start   # wall time, hooks included
        finished = studio.completed_epochs >= cfg.epochs or (
            not control.stop_requested and hyper.stopped_early(callbacks))
        status = "finished" if finished else "stopped"
        test = {}
        if finished:
            with devices.device_scope(report):
                test = task.evaluate(model, data, cfg.batch_size)
                after_fit = getattr(task, "after_fit", None)      # evaluation.json
                if after_fit:
                    distribute.run_plain(after_fit, model, data, folder.path)
            folder.save_model(model)
        epochs_done = max(studio.completed_epochs, initial_epoch)
        return _finish(folder, sink, control, status, epochs_done, t0, studio, test)
    except KeyboardInterrupt:
        _close_quietly(writer)
        last = folder.last_checkpoint()
        return _finish(folder, sink, control, "stopped", last[0] if last else 0, t0, None, {})
    except Exception as exc:   # a crash mid-training: report it, keep the checkpoints
        _close_quietly(writer)
        last = folder.last_checkpoint()
        reason = failures.explain(exc, folder.path, cfg.batch_size, cfg.mixed_precision,
                                  last[0] if last else 0)     # disk full, OOM: with advice
        failed = RunFailed(reason, str(folder.path), traceback.format_exc())
        try:
            folder.set_status("failed", reason=reason)
            folder.record(failed.to_record())
        except OSError:     # the disk is still full: the user hears of it all the same
            pass
        user_sink(failed)
        control.cancel_pending()
        folder.close()
        return RunResult("failed", folder.path, {"reason": reason})


def _steps_per_call(model, arch, cfg, steps_per_epoch: int, inputs) -> tuple[int, str, bool]:
    """(steps per call, why, whether to re-tune after the first epoch)."""
    single = arch_profile(arch.id).single_step
    if single:
        return 1, f"1 step per call: {single}", False
    if distribute.processes() > 1 or distribute.replicas() > 1:
        return 1, "1 step per call: several devices or processes", False
    if cfg.steps_per_call:
        asked = min(int(cfg.steps_per_call), steps_per_epoch)
        steps = spc.fit_epoch(asked, steps_per_epoch) if inputs.endless else asked
        how = "as set" if steps == asked else (
            f"{asked} asked; {steps} divides the {steps_per_epoch} batches of an epoch")
        return steps, spc.describe(steps, 0.0, how), False
    estimate = spc.estimate_step_seconds(model, cfg.batch_size)
    steps = spc.choose(estimate, steps_per_epoch, divides=inputs.endless)
    return steps, spc.describe(steps, estimate, "chosen for this model"), True


def _restore_random_state(model, checkpoint: Path) -> bool:
    """Put the checkpoint's random streams back; False when it has none that fit."""
    values = epoch_order.load_state(checkpoint)
    return values is not None and epoch_order.write_states(model, values)


def _close_quietly(writer: EpochWriter | None) -> None:
    """Let the epoch in flight reach the disk; its own error, if any, is not the story."""
    if writer is not None:
        try:
            writer.close()
        except Exception:
            pass


def _build(arch, dataset, config):
    task = TASKS.get(arch.task)
    builder = getattr(task, "build_model", None)     # lets TrainConfig switch batch norm
    if builder:
        return builder(arch, dataset.input_shape, dataset.num_classes, config.model.options,
                       config.training)
    return arch.build(dataset.input_shape, dataset.num_classes, config.model.options)


def _ensure_built(model, shape) -> None:
    """Subclassed models (own train_step) build on first call; the summary needs them built."""
    if not model.built:
        try:
            model(np.zeros((1, *shape), dtype="float32"))
        except Exception:    # a family whose call() takes other inputs builds in fit()
            pass


def _params(model) -> int:
    return int(model.count_params()) if model.built else 0


def _finish(folder: RunDir, sink, control, status, epochs_done, t0, studio, test) -> RunResult:
    seconds = time.perf_counter() - t0
    rate = studio.trained_samples / studio.train_seconds if studio and studio.train_seconds else 0.0
    profile = arch_profile(folder.config().model.id)     # a GAN has no accuracy to rank by
    best = folder.best(profile.best_metric, profile.best_mode)
    summary = {"status": status, "epochs_done": epochs_done, "seconds": round(seconds, 2),
               "samples_per_sec": round(rate, 1), "test": test, "best": best,
               "run_dir": str(folder.path)}
    if studio is not None:
        summary["fit_seconds"] = round(studio.fit_seconds, 3)
        summary["steps_per_call"] = getattr(studio, "steps_per_call", 1)
    # Files first, event last: a viewer reacting to RunFinished finds the run complete on disk.
    folder.write_json("summary.json", summary)
    folder.set_status(status, epoch=epochs_done)
    sink(RunFinished(status, str(folder.path), epochs_done, seconds, rate, test, best))
    control.cancel_pending()
    folder.close()
    return RunResult(status, folder.path, summary)
