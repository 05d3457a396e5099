"""The captions tab (chapter 9): what the captioner says about a scene, and where it looked.

    the probe scenes (8 test scenes, 1–3 shapes) with the caption of the chosen epoch;
    the chosen scene's caption word by word: per word its soft attention map over the
        image (opacity slider) and, beside it, the single most attended cell (hard
        attention); a click on a word shows both large;
    the reference caption beside the generated one, and the caption decoding with hard
        attention gives; ✓/✗ on each shape word: is the attention peak on that shape?
    draw a scene (or drop an image) to caption it, greedy or with a beam.

Probes come from ProbeReady("captions") while training and from run_dir/probes on
replay (the epoch slider). A live run captions its probes after each epoch, off the training
thread, so they arrive while the next epoch trains: the epoch label says which epochs are
recorded and which one is being captioned (EpochEnd), and bringing the tab to the front
takes in epochs already on disk. Dropped and drawn scenes need the model: between batches of
the live run, else an inference copy of the saved one (``ModelAccess``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.families.attention import attention_maps as maps
from cnnstudio.core.families.attention import caption_metrics, caption_probes
from cnnstudio.core.families.attention import shape_scenes as scenes
from cnnstudio.gui.families.attention.scene_drawer import SceneDrawer
from cnnstudio.gui.families.attention.word_strip import WordStrip
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.bars import epoch_bar
from cnnstudio.gui.widgets.images import to_pixmap
from cnnstudio.gui.widgets.mosaic import ImageGallery

BIG = 224
NO_EPOCHS = "no epochs yet"
DECODING = (("greedy", 1), ("beam of 3", 3), ("beam of 5", 5))


class CaptionsPanel(QWidget):
    updated = Signal()              # a caption reached the screen (tests, screenshots)

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.store: caption_probes.CaptionStore | None = None
        self.probes: caption_probes.ProbeSet | None = None
        self.epochs: list[int] = []
        self.frames: dict[int, caption_probes.CaptionFrame] = {}
        self.frame: caption_probes.CaptionFrame | None = None
        self.probe_index = 0
        self.trained: int | None = None     # the live run's last finished epoch
        # What the caption view shows now (not ``shown``: that name is the window's hook).
        self.current: dict | None = None
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)

        self.slider = QSlider(Qt.Horizontal)
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(lambda pos: self.set_epoch(self.epochs[pos]))
        self.epoch_label = QLabel(NO_EPOCHS)
        self.epoch_label.setMinimumWidth(110)
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(60)
        self.opacity.setMaximumWidth(140)
        self.opacity.setToolTip("How strongly the attention map covers the image")
        self.opacity.valueChanged.connect(lambda _v: self._redraw())
        self.decoding = QComboBox()
        for name, beam in DECODING:
            self.decoding.addItem(name, beam)
        self.decoding.setToolTip("How drawn and dropped scenes are captioned (the probes are "
                                 "always greedy)")
        bar = epoch_bar(self.slider, self.epoch_label, ("Map opacity", self.opacity),
                        ("Decoding", self.decoding))

        self.gallery = ImageGallery(side=56)
        self.gallery.setMaximumHeight(250)       # two rows of eight probes; the rest: drawing
        self.gallery.imageClicked.connect(self.choose_probe)
        self.drawer = SceneDrawer()
        self.drawer.sceneDrawn.connect(lambda image, text: self.caption_image(
            image, "drawn scene", text))
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.gallery)
        left_layout.addWidget(self.drawer)
        left_layout.addStretch(1)

        self.soft_view, self.hard_view = QLabel(), QLabel()
        for view in (self.soft_view, self.hard_view):
            view.setFixedSize(BIG + 4, BIG + 4)
            view.setAlignment(Qt.AlignCenter)
        self.soft_title, self.hard_title = QLabel("Soft attention"), QLabel("Hard attention")
        pictures = QHBoxLayout()
        for title, view in ((self.soft_title, self.soft_view), (self.hard_title, self.hard_view)):
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(view)
            pictures.addLayout(column)
        pictures.addStretch(1)
        self.texts = QLabel(wordWrap=True)
        self.texts.setTextFormat(Qt.RichText)
        self.texts.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.strip = WordStrip()
        self.strip.wordSelected.connect(lambda _i: self._draw_big())
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(pictures)
        right_layout.addWidget(self.texts)
        right_layout.addWidget(QLabel("Word by word (top: soft map · bottom: the most attended "
                                      "cell) — click a word:"))
        right_layout.addWidget(self.strip)
        right_layout.addStretch(1)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([380, 620])
        self.status = QLabel("Open a captioning run or start training one.", wordWrap=True)
        self.status.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    # -- the registry's hooks -------------------------------------------------------
    def open_run(self, path) -> None:
        self._reset(Path(path))
        self.probes = self.store.probes()
        self.epochs = self.store.epochs()
        if self.probes is None or not self.epochs:
            self.status.setText("This run has stored no caption probes yet.")
            self.updated.emit()
            return
        self._fill_gallery()
        self._refresh_slider()
        self.status.setText("Drag the slider to replay training · click a probe scene or a "
                            "word · draw or drop a scene to caption it.")

    def run_started(self, event) -> None:
        if getattr(event, "resumed", False):
            self.open_run(event.run_dir)
        else:
            self._reset(Path(event.run_dir))
        self.status.setText("Training: the probe scenes are captioned after each epoch.")

    def epoch_done(self, event) -> None:
        """The live run finished an epoch; its captions follow while the next one trains."""
        self.trained = max(self.trained or 0, int(event.epoch))
        self._label_epochs()

    def shown(self) -> None:
        """The tab came to the front: take in the epochs on disk that no event brought."""
        if self.store is None:
            return
        stored = [e for e in self.store.epochs() if e not in self.epochs]
        if stored and self.probes is None:
            self.probes = self.store.probes()
            self._fill_gallery()
        if stored and self.probes is not None:
            self.epochs = sorted([*self.epochs, *stored])
            self._refresh_slider()
        self._label_epochs()

    def probe_ready(self, event) -> None:
        if event.name != caption_probes.PROBE_NAME or not event.payload:
            return
        if self.probes is None:
            self.probes = event.payload["probes"]
            self._fill_gallery()
        self.frames[event.epoch] = event.payload["frame"]
        if event.epoch not in self.epochs:
            self.epochs = sorted([*self.epochs, event.epoch])
        self._refresh_slider()

    def run_finished(self, event) -> None:
        if event.run_dir:
            self.open_run(event.run_dir)

    def set_image(self, image, caption: str = "") -> None:
        self.caption_image(np.asarray(image), caption or "dropped image", None)

    def close_panel(self) -> None:
        self.models.close()

    # -- epochs and probes -------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        if epoch not in self.frames:
            self.frames[epoch] = self.store.load(epoch)
        self.frame = self.frames[epoch]
        self.slider.blockSignals(True)
        self.slider.setValue(self.epochs.index(epoch))
        self.slider.blockSignals(False)
        self._label_epochs()
        self._fill_gallery()
        if self.current is None or self.current.get("probe") is not None:
            self.choose_probe(self.probe_index)

    def choose_probe(self, index: int) -> None:
        if self.frame is None or self.probes is None or not 0 <= index < len(self.probes.images):
            return
        self.probe_index = index
        f, p = self.frame, self.probes
        self._show({"probe": index, "image": p.images[index], "caption": f.captions[index],
                    "alphas": f.alphas[index], "hard_caption": f.hard_captions[index],
                    "reference": p.references[index], "objects": p.objects[index],
                    "title": f"probe scene {index + 1}, epoch {f.epoch}"})

    def _refresh_slider(self) -> None:
        at_end = self.frame is None or self.slider.value() >= self.slider.maximum()
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.epochs) - 1))
        self.slider.blockSignals(False)
        if self.epochs and at_end:
            self.set_epoch(self.epochs[-1])
        else:
            self._label_epochs()

    def _label_epochs(self) -> None:
        """Which epoch is shown, the last recorded, and the one being captioned."""
        last = self.epochs[-1] if self.epochs else 0
        captioning = self.trained if self.trained and self.trained > last else None
        if self.frame is None:
            text = NO_EPOCHS if captioning is None else \
                f"epoch {captioning} trained · captioning…"
        else:
            text = f"{self.frame.epoch}  (of {last})"
            if captioning is not None:
                text += f" · captioning {captioning}…"
        self.epoch_label.setText(text)

    def _fill_gallery(self) -> None:
        if self.probes is None:
            return
        refs = self.probes.references
        if self.frame is None:
            marks, tips = [f"#{i + 1}" for i in range(len(refs))], list(refs)
        else:
            pairs = list(zip(self.frame.captions, refs, strict=True))
            marks = [f"#{i + 1} {'✓' if c == r else '✗'}" for i, (c, r) in enumerate(pairs)]
            tips = [f"model: {c}\nreference: {r}" for c, r in pairs]
        self.gallery.set_images(self.probes.images, marks, None,
                                "<b>Probe scenes</b> · ✓ the model's caption is the reference",
                                tooltips=tips)

    # -- captioning new scenes ------------------------------------------------------------
    def caption_image(self, image: np.ndarray, name: str, reference: str | None) -> None:
        if self.run_dir is None:
            self.status.setText("Open a captioning run first.")
            return
        beam = int(self.decoding.currentData())
        self.status.setText(f"Captioning {name}…")
        objects = None
        if reference is not None:
            objects = scenes.objects_array(self.drawer.objects())

        def answered(out):
            self._show({**out, "reference": reference, "objects": objects, "probe": None,
                        "title": f"{name} ({'greedy' if beam == 1 else f'beam of {beam}'})"})
            self.status.setText(f"Captioned {name}.")

        self.models.submit("caption", lambda model: caption_probes.caption_one(
            model, image, beam), answered, self._fail)

    # -- drawing ---------------------------------------------------------------------------
    def _show(self, current: dict) -> None:
        self.current = current
        self._redraw()
        self.updated.emit()

    def _hits(self) -> dict[int, bool]:
        s = self.current
        if s is None or s.get("objects") is None:
            return {}
        return dict(caption_metrics.word_hits(s["caption"].split(), s["alphas"], s["objects"]))

    def _redraw(self) -> None:
        s = self.current
        if s is None:
            return
        selected = max(self.strip.selected, 0)
        hits = self._hits()
        self.strip.show_caption(s["image"], s["caption"].split(), s["alphas"],
                                self.opacity.value() / 100, hits)
        self.strip.select(min(selected, len(self.strip.tiles) - 1))
        lines = [f"<b>{s['title']}</b>",
                 f"Generated (soft attention): <b>{s['caption'] or '(nothing)'}</b>"]
        if s.get("reference"):
            same = s["caption"].split() == s["reference"].split()
            lines.append(f"Reference: {s['reference']}  {'✓ exact' if same else '✗ differs'}")
        lines.append(f"Decoded with hard attention: {s.get('hard_caption') or '(nothing)'}")
        if hits:
            lines.append(f"Attention on the named shape: {sum(hits.values())} of {len(hits)} "
                         "shape words")
        self.texts.setText("<br>".join(lines))

    def _draw_big(self) -> None:
        s, i = self.current, self.strip.selected
        if s is None or not 0 <= i < len(s["alphas"]):
            return
        alpha, image = s["alphas"][i], s["image"]
        scale = max(1, BIG // image.shape[0])
        cell = maps.peak_cell(alpha)
        word = self.strip.words[i]
        self.soft_view.setPixmap(to_pixmap(maps.soft_overlay(image, alpha,
                                                             self.opacity.value() / 100, scale),
                                           BIG))
        self.hard_view.setPixmap(to_pixmap(maps.hard_overlay(image, cell, alpha.shape, scale),
                                           BIG))
        self.soft_title.setText(f"Soft attention for “{word}” (peak {alpha.max():.0%} of the "
                                "weight)")
        self.hard_title.setText(f"Hard attention for “{word}”: cell {cell[0] + 1}, {cell[1] + 1}")

    # -- plumbing --------------------------------------------------------------------------
    def _reset(self, path: Path) -> None:
        if self.run_dir != path:
            self.models.close()
        self.run_dir = path
        self.models.set_run(path)
        self.store = caption_probes.CaptionStore(path)
        self.probes, self.epochs, self.frames, self.frame = None, [], {}, None
        self.current, self.probe_index, self.trained = None, 0, None
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.epoch_label.setText(NO_EPOCHS)
        self.strip.clear()
        self.texts.setText("")
        self.gallery.set_images([], [], header="The probe scenes appear after the first epoch.")

    def _fail(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {text}")
        self.updated.emit()
