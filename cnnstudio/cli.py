"""The ``cnnstudio`` command: the studio window by default, and headless subcommands.

    cnnstudio                                 open the studio
    cnnstudio train --dataset mnist-5k --model lenet5 --epochs 5
    cnnstudio train --resume RUN_DIR
    cnnstudio train ... --cluster HOST:PORT --processes N --process-id I   (JAX, several machines)
    cnnstudio sweep SWEEP.json [--runs-root DIR] [--max-parallel N] [--ray-address ADDR] [--json]
    cnnstudio predict RUN_DIR IMAGE...
    cnnstudio generate RUN_DIR --count 64 --out grid.png [--seed N]   (a GAN run's samples)
    cnnstudio export RUN_DIR --format savedmodel|tflite|onnx --out DIR [--json]
    cnnstudio runs [DIR] | datasets | models
    cnnstudio detect IMAGE... --haar frontalface [--scale 1.1] [--neighbors 5] [--json]

Bad input gives one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from cnnstudio.core.errors import StudioError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):       # one line, not argparse's usage dump
        raise StudioError(f"{message} (see '{self.prog} --help')")


def _option(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got '{text}'")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def _window_help() -> str:
    """Without a subcommand, `cnnstudio` opens the window: its own flags, for --help."""
    try:
        from cnnstudio.gui.app import window_parser
    except ImportError:              # an install without the window
        return ""
    flags = window_parser().format_help().split("options:", 1)[-1]
    return ("the studio window, without a subcommand (cnnstudio [flags]):"
            + flags.replace("  -h, --help            show this help message and exit\n", ""))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cnnstudio", description="CNN Studio: see convolutional networks learn.",
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     epilog=_window_help())
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = sub.add_parser("train", help="train a model headless")
    train.add_argument("--config", help="a RunConfig JSON file; flags override it")
    train.add_argument("--dataset", help="registry id (see 'cnnstudio datasets') or a folder path")
    train.add_argument("--dataset-option", action="append", type=_option, default=[],
                       metavar="KEY=VALUE", help="e.g. size=28, image_size=128")
    train.add_argument("--model", help="architecture id (see 'cnnstudio models')")
    train.add_argument("--model-option", action="append", type=_option, default=[],
                       metavar="KEY=VALUE")
    train.add_argument("--train-option", action="append", type=_option, default=[],
                       metavar="KEY=VALUE", help="any training setting, e.g. lr_schedule=cosine, "
                                                 "early_stopping=true, l2=0.0001")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--optimizer")
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--seed", type=int)
    train.add_argument("--validation-split", type=float)
    train.add_argument("--device", help="auto, cpu, gpu:N or all (every GPU: MirroredStrategy; "
                                            "--batch-size is then per GPU)")
    train.add_argument("--mixed-precision", action="store_true", default=None)
    train.add_argument("--name", help="a label added to the run directory's name")
    train.add_argument("--run-dir", help="write the run here (must be new or empty)")
    train.add_argument("--runs-root", help="folder for new runs (default $CNNSTUDIO_RUNS "
                                           "or ~/cnnstudio-runs)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped or crashed run")
    train.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    train.add_argument("--cluster", metavar="HOST:PORT",
                       help="train across processes/machines (JAX): process 0's address; "
                            'needs pip install "cnnstudio[cluster]". Under SLURM the '
                            "three cluster settings come from its variables")
    train.add_argument("--processes", type=int, metavar="N", help="processes in the cluster")
    train.add_argument("--process-id", type=int, metavar="I",
                       help="this process's rank, 0 … N-1 (0 writes the run directory)")

    sweep = sub.add_parser("sweep", help="many runs of one config with settings varied, on Ray",
                           description="SWEEP.json = {\"base\": RunConfig, \"grid\": "
                                       "{\"training.learning_rate\": [...], ...} or \"random\": "
                                       "{\"trials\": N, \"space\": {...}}, \"metric\": "
                                       "\"val_accuracy\"}")
    sweep.add_argument("sweep_file", metavar="SWEEP.json")
    sweep.add_argument("--runs-root", help="where the trials' run directories go (default "
                                           "$CNNSTUDIO_RUNS or ~/cnnstudio-runs)")
    sweep.add_argument("--max-parallel", type=int, metavar="N",
                       help="trials at once (default: one per CPU Ray has)")
    sweep.add_argument("--ray-address", metavar="ADDR",
                       help='a Ray cluster (e.g. "auto" or ray://HOST:10001); default: a local Ray')
    sweep.add_argument("--json", action="store_true",
                       help="print the best trial's run directory, metric and settings")

    predict = sub.add_parser("predict", help="top-k classes of images, with a trained run")
    predict.add_argument("run_dir")
    predict.add_argument("images", nargs="+")
    predict.add_argument("--top", type=int, default=5)
    predict.add_argument("--json", action="store_true")
    predict.add_argument("--raw", action="store_true",
                         help="only resize: do not bring photos to the training images' form "
                              "(polarity, lighting, contrast, MNIST-style centring)")
    predict.add_argument("--imagenet", action="store_true",
                         help="a transfer run's base with its ImageNet head: top-5 classes")
    predict.add_argument("--beam", type=int, default=1,
                         help="a captioning run: beam width of the decoding (1: greedy)")

    export = sub.add_parser("export", help="a classification run as SavedModel, TFLite or "
                                           "ONNX, self-tested against the Keras model",
                            epilog="Exit status: 0 exported and self-tested; 1 the reloaded "
                                   "export disagreed with the Keras model (nothing kept); "
                                   "2 bad input.")
    export.add_argument("run_dir")
    export.add_argument("--format", required=True, help="savedmodel, tflite or onnx "
                                                        '(onnx: pip install "cnnstudio[export]")')
    export.add_argument("--out", required=True, help="a new or empty folder")
    export.add_argument("--json", action="store_true", help="print the self-test's figures as "
                                                            "one JSON object")

    from cnnstudio.core.registry import COMMANDS

    for name in COMMANDS.ids():      # the families' own subcommands (detect, generate, …)
        command = COMMANDS.get(name)
        command.add_arguments(sub.add_parser(name, help=command.HELP))

    runs = sub.add_parser("runs", help="list runs with status and best metrics")
    runs.add_argument("root", nargs="?")
    runs.add_argument("--json", action="store_true")

    for name, text in (("datasets", "list datasets"), ("models", "list architectures")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--json", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["--install-desktop-entry"], ["--uninstall-desktop-entry"]):
        from cnnstudio import desktop_entry  # no Qt: works over ssh and in CI

        try:
            if len(argv) > 1:
                raise StudioError(f"{argv[0]} takes no other arguments, got {argv[1]!r}")
            if argv[0] == "--install-desktop-entry":
                desktop_entry.install()
            else:
                desktop_entry.uninstall()
            return 0
        except StudioError as exc:
            print(f"cnnstudio: error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if not argv or (argv[0].startswith("--") and argv[0] not in ("--help", "-h")):
        return _open_studio(argv)
    try:
        args = build_parser().parse_args(argv)
        from cnnstudio import commands

        run = getattr(commands, args.command, None) or commands.family_command
        return run(args)
    except StudioError as exc:
        print(f"cnnstudio: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("cnnstudio: interrupted", file=sys.stderr)
        return 130


def _open_studio(argv: list[str]) -> int:
    try:
        from cnnstudio.gui.app import main as studio_main
        from cnnstudio.gui.display_check import NoDisplay
    except ImportError as exc:
        if "cnnstudio.gui" not in str(exc) and "PySide6" not in str(exc):
            raise
        print("The studio window is not available here; running the default headless "
              "training instead (cnnstudio train --dataset mnist-5k --model lenet5).",
              file=sys.stderr)
        return main(["train", "--dataset", "mnist-5k", "--model", "lenet5"])
    try:
        return studio_main(argv)
    except NoDisplay as exc:
        print(f"cnnstudio: {exc}, so no window; running the default lesson headless "
              "instead: cnnstudio train --dataset mnist-5k --model lenet5 --epochs 10",
              file=sys.stderr)
        return main(["train", "--dataset", "mnist-5k", "--model", "lenet5", "--epochs", "10"])
