"""File → Export…: the current run as SavedModel, TFLite or ONNX, self-tested on the
background worker; the self-test's figures end up in the status bar.

The run is the one selected in the Runs table, else the one the prediction panel uses,
else one the user picks. The export goes into the chosen folder when it is empty, else
into a ``<run>-<format>`` folder inside it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog

from cnnstudio.core.export import FORMATS, TOLERANCE

LABELS = {"savedmodel": "SavedModel (TensorFlow, TF Serving)",
          "tflite": "TFLite / LiteRT (mobile, embedded)",
          "onnx": "ONNX (onnxruntime; needs cnnstudio[export])"}


def current_run(window) -> Path | None:
    selected = window.runs.selected() if hasattr(window, "runs") else None
    path = selected or getattr(window.prediction, "run_dir", None)
    return Path(path) if path else None


def target_folder(chosen, run_dir: Path, fmt: str) -> Path:
    chosen = Path(chosen)
    if chosen.is_dir() and not any(chosen.iterdir()):
        return chosen
    return chosen / f"{run_dir.name}-{fmt}"


def ask_export(window) -> int | None:
    """The menu action: ask which run (if none is current), which format, which folder."""
    run_dir = current_run(window)
    if run_dir is None:
        picked = QFileDialog.getExistingDirectory(window, "Export which run?",
                                                  str(window.runs_root))
        if not picked:
            return None
        run_dir = Path(picked)
    labels = [LABELS[f] for f in FORMATS]
    last = str(window.settings.value("export/format", "savedmodel"))
    index = list(FORMATS).index(last) if last in FORMATS else 0
    label, ok = QInputDialog.getItem(window, "Export model", f"Export {run_dir.name} as:",
                                     labels, index, False)
    if not ok or label not in labels:
        return None
    fmt = list(FORMATS)[labels.index(label)]
    start = str(window.settings.value("export/folder", str(Path.home())))
    chosen = QFileDialog.getExistingDirectory(window, "Export into folder", start)
    if not chosen:
        return None
    window.settings.setValue("export/format", fmt)
    window.settings.setValue("export/folder", chosen)
    return start_export(window, run_dir, fmt, target_folder(chosen, run_dir, fmt))


def start_export(window, run_dir, fmt: str, out) -> int:
    """Queue the export on the window's background worker; report in the status bar."""
    from cnnstudio.core.export import export_run

    name = Path(run_dir).name
    window.status(f"Exporting {name} as {fmt} to {out}…")

    def failed(text: str) -> None:
        window.status(f"Export failed: {text.splitlines()[0]}")

    # A failed self-test (ExportCheckError) arrives in ``failed`` with its figures.
    return window.background.submit(lambda: export_run(run_dir, fmt, out),
                                    lambda result: window.status(report(result)), failed,
                                    key="export")


def report(result) -> str:
    return (f"Exported {result.format} to {result.path} — self-test on {result.images} probe "
            f"images: max |Δp| {result.max_abs_diff:.2g} (limit {TOLERANCE[result.format]:g}), "
            f"top-1 agreement {result.top1_agreement:.0%}")
