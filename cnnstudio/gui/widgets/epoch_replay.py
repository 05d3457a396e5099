"""The epoch slider of a panel that replays a run's per-epoch probe files.

    replay = EpochReplay(show=panel.show_frame)      # show(frame) draws one epoch
    layout.addLayout(replay.bar(export_button))       # "Epoch ──●── 3 (of 10)  [Export]"
    replay.set_store(Store(run_dir))                  # a run opened: shows its last epoch
    replay.live(frame)                                # ProbeReady of the live run

A store answers ``epochs()`` and ``read(epoch)``; a frame has ``epoch``. A live frame is
followed only while the slider stands at the last epoch, so a user who scrubbed back is
not pulled forward by the run.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSlider

from cnnstudio.gui.widgets.bars import epoch_bar


class EpochReplay:
    def __init__(self, show: Callable[[object], None], empty: str = "no epochs yet"):
        self.show = show
        self.store = None
        self.epochs: list[int] = []
        self.current: int | None = None
        self._cache: dict[int, object] = {}
        self._empty = empty
        self._expected = 0              # the live run's last finished epoch
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TicksBelow)
        self.label = QLabel(empty)
        self.label.setMinimumWidth(110)
        self.slider.valueChanged.connect(self._slid)

    def bar(self, *controls):
        return epoch_bar(self.slider, self.label, *controls)

    def set_store(self, store) -> None:
        self.store, self.epochs, self.current, self._expected = store, [], None, 0
        self._cache.clear()
        self.reload()
        if self.epochs:
            self.set_epoch(self.epochs[-1])
        else:
            self.label.setText(self._empty)

    def reload(self) -> None:
        """Pick up newly stored epochs; the slider keeps its place."""
        self.epochs = self.store.epochs() if self.store is not None else []
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.epochs) - 1))
        if self.current in self.epochs:
            self.slider.setValue(self.epochs.index(self.current))
        self.slider.blockSignals(False)

    def expect(self, epoch: int) -> None:
        """The live run finished ``epoch``: its probes are on their way (written after the
        checkpoint, off the training thread)."""
        self._expected = max(self._expected, int(epoch))

    def waiting(self) -> bool:
        """Whether the probes of the live run's last finished epoch have not arrived yet
        (screenshot mode waits for them)."""
        return bool(self._expected) and (not self.epochs or self.epochs[-1] < self._expected)

    def at_end(self) -> bool:
        return not self.epochs or self.current is None or self.current == self.epochs[-1]

    def live(self, frame) -> None:
        follow = self.at_end()
        self._cache[frame.epoch] = frame
        self.reload()
        if follow and frame.epoch in self.epochs:
            self.set_epoch(frame.epoch)

    def set_epoch(self, epoch: int) -> None:
        if epoch not in self.epochs:
            raise ValueError(f"no probes stored for epoch {epoch}; stored: {self.epochs}")
        self.slider.blockSignals(True)
        self.slider.setValue(self.epochs.index(epoch))
        self.slider.blockSignals(False)
        self._slid(self.epochs.index(epoch))

    def frame(self, epoch: int):
        if epoch not in self._cache:
            self._cache[epoch] = self.store.read(epoch)
        return self._cache[epoch]

    def _slid(self, position: int) -> None:
        if not self.epochs:
            return
        epoch = self.epochs[position]
        self.current = epoch
        self.label.setText(f"{epoch}  (of {self.epochs[-1]})")
        self.show(self.frame(epoch))


class ReplayHooks:
    """The registry's hooks of a panel that replays one kind of probe frame with an
    ``EpochReplay`` (``self.replay``): a run started or opened → ``set_run(path)``; its
    ``PROBE`` events of type ``FRAME`` → followed live; a finished run →
    ``show_figures()``."""
    PROBE = ""
    FRAME: type = object

    def run_started(self, event) -> None:
        self.set_run(event.run_dir)

    def open_run(self, path) -> None:
        self.set_run(path)

    def probe_ready(self, event) -> None:
        if event.name == self.PROBE and isinstance(event.payload, self.FRAME):
            self.replay.live(event.payload)

    def epoch_done(self, event) -> None:
        self.replay.expect(event.epoch)

    def busy(self) -> bool:
        return self.replay.waiting()

    def run_finished(self, event) -> None:
        self.replay.reload()
        self.show_figures()

    def show_figures(self) -> None:
        """What a finished run adds (its test figures); nothing by default."""
