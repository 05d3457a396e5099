"""What each ``cnnstudio`` subcommand does; parsing lives in cli.py."""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from pathlib import Path

from cnnstudio.core.config import RunConfig
from cnnstudio.core.errors import StudioError
from cnnstudio.core.registry import COMMANDS, cli_hook
from cnnstudio.core.training.events import (
    BatchEnd,
    EpochEnd,
    Notice,
    Progress,
    RunFailed,
    RunStarted,
)


def _config_from_args(args) -> RunConfig:
    from cnnstudio.core.datasets import dataset_config

    config = RunConfig.load(args.config) if args.config else RunConfig()
    if args.dataset:
        config.dataset = dataset_config(args.dataset)
    config.dataset.options.update(dict(args.dataset_option))
    if args.model:
        config.model.id, config.model.options = args.model, {}
    config.model.options.update(dict(args.model_option))
    t = config.training
    known = {f.name for f in fields(t)}
    for key, value in args.train_option:
        if key not in known:
            raise StudioError(f"unknown training setting '{key}' — known: {', '.join(sorted(known))}")
        setattr(t, key, value)
    for flag, attr in (("epochs", "epochs"), ("batch_size", "batch_size"),
                       ("optimizer", "optimizer"), ("lr", "learning_rate"), ("seed", "seed"),
                       ("validation_split", "validation_split"), ("device", "device"),
                       ("mixed_precision", "mixed_precision")):
        value = getattr(args, flag)
        if value is not None:
            setattr(t, attr, value)
    if args.name:
        config.name = args.name
    return config.check()


class ProgressPrinter:
    """A tqdm bar per epoch on stderr, plus one line for each notice."""

    def __init__(self, quiet: bool = False):
        self.quiet, self.bar, self.epochs = quiet, None, 0

    def __call__(self, event) -> None:
        if isinstance(event, RunFailed):
            self._close()
            print(f"cnnstudio: run failed: {event.reason}", file=sys.stderr)
        if self.quiet:
            return
        from tqdm import tqdm

        if isinstance(event, Notice):
            self._write(f"{event.level}: {event.message}")
        elif isinstance(event, Progress) and event.stage == "download" and event.total:
            if self.bar is None:
                self.bar = tqdm(total=round(event.total, 1), unit="MB", desc=event.message,
                                file=sys.stderr, leave=False)
            self.bar.n = round(event.done, 1)
            self.bar.refresh()
        elif isinstance(event, RunStarted):
            self._close()
            self.epochs = event.epochs
            verb = "Resuming" if event.resumed else "Training"
            self._write(f"{verb} {event.model} ({event.params:,} parameters) on {event.dataset}: "
                        f"{event.num_train} train / {event.num_val} validation / "
                        f"{event.num_test} test images")
            self._write(f"Run directory: {event.run_dir}")
        elif isinstance(event, BatchEnd):
            if self.bar is None or event.step == 1:
                self._close()
                self.bar = tqdm(total=event.steps, desc=f"epoch {event.epoch}/{self.epochs}",
                                unit="batch", file=sys.stderr, leave=False)
            self.bar.update(event.step - self.bar.n)
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in event.logs.items()}, refresh=False)
        elif isinstance(event, EpochEnd):
            self._close()
            metrics = "  ".join(f"{k} {v:.4f}" for k, v in event.logs.items())
            self._write(f"epoch {event.epoch}/{event.epochs}  {metrics}  "
                        f"({event.seconds:.1f} s, {event.samples_per_sec:,.0f} samples/s)")

    def _write(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# Settings a resumed run keeps from its own config: given with --resume they would be
# silently ignored, so they are refused (only --epochs may change: train further).
RESUME_FIXED = (("config", "--config"), ("dataset", "--dataset"),
                ("dataset_option", "--dataset-option"), ("model", "--model"),
                ("model_option", "--model-option"), ("train_option", "--train-option"),
                ("batch_size", "--batch-size"), ("optimizer", "--optimizer"), ("lr", "--lr"),
                ("seed", "--seed"), ("validation_split", "--validation-split"),
                ("device", "--device"), ("mixed_precision", "--mixed-precision"),
                ("name", "--name"), ("run_dir", "--run-dir"))


def _resume_conflicts(args) -> None:
    given = [flag for attr, flag in RESUME_FIXED if getattr(args, attr, None) not in (None, [])]
    if args.resume and given:
        raise StudioError(f"--resume continues a run with its own settings; "
                          f"{', '.join(given)} would change {'them' if len(given) > 1 else 'it'}"
                          " (only --epochs can change on resume: train it further)")


def train(args) -> int:
    from cnnstudio.core.cluster.spec import resolve

    _resume_conflicts(args)
    spec = resolve(getattr(args, "cluster", None), getattr(args, "processes", None),
                   getattr(args, "process_id", None))        # flags, or SLURM's variables
    if spec is not None:
        from cnnstudio.core.cluster import launch

        launch.join(spec)             # first: Keras must start on JAX
        printer = ProgressPrinter(quiet=args.json or not spec.chief)
        config = None if args.resume else _config_from_args(args)
        result = launch.train(spec, config, resume=args.resume, epochs=args.epochs,
                              runs_root=args.runs_root, run_dir=args.run_dir, sink=printer)
        if not spec.chief:            # process 0 reports the run; the others only their end
            printer._close()
            if args.json:
                print(json.dumps(result.summary, default=float))
            code = {"finished": 0, "stopped": 130, "failed": 1}[result.status]
        else:
            code = _report(args, printer, result)
        if result.status == "failed":   # a lost peer would hold JAX's shutdown barrier for minutes
            launch.leave(code)
        return code
    from cnnstudio.core.training import engine

    printer = ProgressPrinter(quiet=args.json)
    if args.resume:
        result = engine.resume(args.resume, sink=printer, epochs=args.epochs)
    else:
        config = _config_from_args(args)
        result = engine.run(config, runs_root=args.runs_root, run_dir=args.run_dir, sink=printer)
    return _report(args, printer, result)


def _report(args, printer, result) -> int:
    printer._close()
    summary = result.summary
    if args.json:
        print(json.dumps(summary, default=float))
    elif result.status != "failed":
        test = summary.get("test", {})
        print(f"{result.status.capitalize()}: {summary['epochs_done']} epochs in "
              f"{summary['seconds']:.1f} s ({summary['samples_per_sec']:,.0f} samples/s)")
        if "accuracy" in test:
            print(f"Test accuracy: {100 * test['accuracy']:.2f} %  (loss {test['loss']:.4f})")
        print(f"Run directory: {result.run_dir}")
        if result.status == "stopped":
            print(f"Resume with: cnnstudio train --resume {result.run_dir}")
    return {"finished": 0, "stopped": 130, "failed": 1}[result.status]


def sweep(args) -> int:
    from cnnstudio.core.sweeps import runner, spec
    from cnnstudio.core.training.rundir import default_runs_root

    plan = spec.load(args.sweep_file)
    runner.require_ray()
    root = args.runs_root or default_runs_root()
    if not args.json:
        print(f"Sweep {plan.id}: {len(plan.trials)} trials of {', '.join(plan.keys)}, "
              f"ranked by {plan.metric} ({plan.mode})", file=sys.stderr)

    def progress(r):
        # A failed trial is told even with --json (on stderr; stdout stays one object).
        if r["status"] == "failed":
            print(f"trial {r['trial']}: failed: {r.get('reason') or 'no reason recorded'}  "
                  f"{r['settings']}", file=sys.stderr)
        elif not args.json:
            value = "—" if r["value"] is None else f"{r['value']:.4f}"
            print(f"trial {r['trial']}: {r['status']}  {plan.metric} {value}  "
                  f"{r['settings']}", file=sys.stderr)

    summary = runner.run(plan, root, max_parallel=args.max_parallel, address=args.ray_address,
                         progress=progress)
    best = summary["best"]
    if args.json:
        print(json.dumps(best if best else {"run_dir": None, "metric": plan.metric,
                                            "value": None, "settings": {}}, default=float))
    else:
        if best:
            print(f"Best: trial {best['trial']}  {plan.metric} {best['value']:.4f}  "
                  f"{best['settings']}\nRun directory: {best['run_dir']}")
        if summary["failed"]:
            print(f"{summary['failed']} of {summary['trials']} trials failed (reasons above)",
                  file=sys.stderr)
        print(f"Summary: {summary['summary_file']}")
    return 0 if best and summary["finished"] == summary["trials"] else 1


def predict(args) -> int:
    from cnnstudio.core.families.classification import transfer
    from cnnstudio.core.imaging import for_each_image
    from cnnstudio.core.predict import Predictor

    if args.top < 1:
        raise StudioError(f"--top must be a positive integer, got {args.top}")
    hook = cli_hook("predict", run_task(args.run_dir))
    if hook is not None:         # a family that answers otherwise (a caption, fixations)
        return hook(args)        # or says which command to use instead
    predictor = Predictor.from_run(args.run_dir)
    predictor.adapt_photos = not getattr(args, "raw", False)
    results = []

    def rank(path, image) -> None:
        if getattr(args, "imagenet", False):     # the pretrained base's own 1,000 classes
            steps, familiar = predictor.prepare_explained(image)[1], None
            top = transfer.predictor_top5(predictor, image)
        else:                                    # familiar: None when the run has no stats
            _, steps, top, familiar = predictor.answer(image, args.top)
        result = {"file": path, "top": [{"class": c, "probability": p} for c, p in top],
                  "adapted": steps}
        if familiar is not None:
            result.update(unfamiliar=familiar["unfamiliar"], familiarity=familiar["score"],
                          familiarity_threshold=familiar["threshold"])
        results.append(result)
        if not args.json:
            done = f"  ({', '.join(s.split(':')[0] for s in steps)})" if steps else ""
            odd = (f"  [unfamiliar: {familiar['score']:.2f} > {familiar['threshold']:.2f}, "
                   "unlike its training images]" if familiar and familiar["unfamiliar"] else "")
            print(Path(path).name + "  " + "  ".join(f"{c} {p:.4f}" for c, p in top) + done
                  + odd)

    ok = for_each_image(args.images, rank)
    if args.json:
        print(json.dumps(results))
    return 0 if ok else 2


def runs(args) -> int:
    from cnnstudio.core.training.rundir import default_runs_root, list_runs

    root = Path(args.root).expanduser() if args.root else default_runs_root()
    if args.root and not root.is_dir():
        raise StudioError(f"runs folder not found: {root}")
    rows = []
    for run in list_runs(root):
        config, summary = run.config(), run.read_json("summary.json", {})
        history = run.epoch_history()
        rows.append({"run": run.path.name, "status": run.status(), "dataset": config.dataset.id,
                     "model": config.model.id, "epochs": f"{len(history)}/{config.training.epochs}",
                     "best": run.best(), "test": summary.get("test", {}), "path": str(run.path)})
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print(f"No runs in {root}")
        return 0
    print(f"{'run':<44}{'status':<10}{'dataset':<14}{'model':<12}{'epochs':>7}  best / test")
    for r in rows:
        best = " ".join(f"{k} {v:.4f}" for k, v in r["best"].items()) or "-"
        test = f"test acc {r['test']['accuracy']:.4f}" if "accuracy" in r["test"] else ""
        print(f"{r['run']:<44}{r['status']:<10}{r['dataset']:<14}{r['model']:<12}"
              f"{r['epochs']:>7}  {best}  {test}")
    return 0


def datasets(args) -> int:
    from cnnstudio.core.registry import DATASETS

    rows = [{"id": s.id, "name": s.name,
             "input_shape": list(s.input_shape) if s.input_shape else None,
             "classes": len(s.class_names) if s.class_names else None,
             "download": s.needs_download, "description": s.description} for s in DATASETS]
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        shape = "×".join(map(str, r["input_shape"])) if r["input_shape"] else "any"
        classes = r["classes"] or "any"
        note = "  (downloads once)" if r["download"] else ""
        print(f"{r['id']:<21}{shape:<10}{classes!s:>4} classes  {r['name']}{note}")
    return 0


def example_shape(arch) -> tuple[int, int, int]:
    if arch.preferred_size:
        return (arch.preferred_size, arch.preferred_size, 3)
    size = max(28, arch.min_size)
    return (size, size, 1)


def models(args) -> int:
    from cnnstudio.core.registry import ARCHITECTURES

    rows = []
    for arch in ARCHITECTURES:
        shape = example_shape(arch)
        # Counting parameters needs no pretrained weights: never download for a listing.
        options = {"weights": "none"} if "weights" in arch.defaults else {}
        try:
            params = int(arch.build(shape, 10, options).count_params())
        except StudioError:
            params = None
        except Exception as exc:      # a plug-in's builder failing must not end the listing
            print(f"cnnstudio: {arch.id} could not be built: {exc}", file=sys.stderr)
            params = None
        rows.append({"id": arch.id, "name": arch.name, "example_input": list(shape),
                     "params": params, "source": arch.source, "description": arch.description})
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        shape = "×".join(map(str, r["example_input"]))
        params = f"{r['params']:,}" if r["params"] is not None else "?"
        print(f"{r['id']:<18}{shape:<12}{params:>14} params  {r['name']}")
    return 0


def export(args) -> int:
    """Exit 0: written and self-tested; 1: written but disagreed with Keras (not kept);
    2: bad input (unknown format, no model, missing extra, …) via cli.main."""
    from cnnstudio.core.export import ExportCheckError, export_run

    say = None if args.json else (lambda text: print(text, file=sys.stderr, flush=True))
    try:
        result = export_run(args.run_dir, args.format, args.out, progress=say)
    except ExportCheckError as exc:
        print(f"cnnstudio: export failed its self-test: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps(exc.result.summary() | {"path": None}))
        return 1
    if args.json:
        print(json.dumps(result.summary()))
    else:
        print(f"Exported {result.format} to {result.path}: max |Δp| {result.max_abs_diff:.2g} "
              f"(limit {result.tolerance:g}), top-1 agreement {result.top1_agreement:.0%} on "
              f"{result.images} probe images; labels.txt and metadata.json beside it")
    return 0


def run_task(run_dir) -> str:
    """The task of a run's architecture (classification for one this studio no longer has)."""
    from cnnstudio.core.registry import ARCHITECTURES
    from cnnstudio.core.training.rundir import RunDir

    model_id = RunDir.open(run_dir).config().model.id
    return ARCHITECTURES.get(model_id).task if model_id in ARCHITECTURES else "classification"


def family_command(args) -> int:
    """A subcommand a family registered (``detect``, ``generate``, …)."""
    return COMMANDS.get(args.command).run(args)
