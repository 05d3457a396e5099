"""What a unit sees: click a unit of a feature map; its theoretical receptive field (a box
on the input), its effective field (|∂unit/∂input| as a heat map) side by side, and the nine
test-image patches that excite it most, cut at its field.

    panel.open_run(run_dir); panel.set_image(image, caption)    # the window's chosen image
    panel.select_unit(channel, row, col)                         # as a click on the maps does

Model work runs where the model lives (``ModelAccess``): the training thread between
batches while the run is live, else an inference copy. Until the user clicks, the panel
shows the strongest unit of the last convolution for the image.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.probes.feature_maps import as_batch, channel_view, input_shape
from cnnstudio.core.probes.gradcam import overlay
from cnnstudio.gui.model_access import Answers, ModelAccess
from cnnstudio.gui.widgets.mosaic import MosaicView


def sample_size(model) -> int:
    """Test images searched (and projected): 1,000 small ones, fewer large ones (~100 at
    224×224×3), the per-epoch prediction record's budget."""
    from cnnstudio.core.probes.what_changed import image_limit

    return image_limit(input_shape(model))
BOX = "#00e5ff"


def choose_image(window, image, caption: str) -> None:
    """Send an image to the window like the Errors tab does: every panel's ``set_image`` and
    the prediction dock."""
    tabs, prediction = getattr(window, "tabs", None), getattr(window, "prediction", None)
    if tabs is not None:
        tabs.show_image(image, caption)
    if prediction is not None:
        prediction.predict_image(image, caption)


class Requests:
    """The newest request per key still on its way (``busy()`` for screenshot mode). An older
    request of the same key is forgotten when a newer one starts: ``Answers`` drops its
    answer, so its callbacks may never run."""

    def __init__(self):
        self._latest: dict[str, object] = {}

    def track(self, key: str, on_result, on_error):
        token = self._latest[key] = object()

        def finish():
            if self._latest.get(key) is token:
                del self._latest[key]

        def result(value):
            finish()
            on_result(value)

        def error(value):
            finish()
            on_error(value)

        return result, error

    def busy(self) -> bool:
        return bool(self._latest)


def rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, np.uint8)
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[:, :, :3]


def _layers(model) -> list[str]:
    from cnnstudio.core.probes.feature_maps import map_layer_names
    from cnnstudio.core.probes.receptive_field import receptive_fields

    fields = receptive_fields(model)
    return [name for name in map_layer_names(model) if name in fields]


def _maps(model, layer: str, image):
    from cnnstudio.core.probes.receptive_field import LayerOutput, field_of

    x = as_batch(image, input_shape(model))
    maps = LayerOutput.get(model, layer)(x)[0]
    return {"layer": layer, "maps": maps, "field": field_of(model, layer),
            "image": x[0].round().clip(0, 255).astype(np.uint8), "layers": _layers(model)}


class ReceptiveFieldPanel(QWidget):
    updated = Signal()                 # a unit was drawn (tests, screenshots)
    imageChosen = Signal(object, str)  # a top patch's whole image was clicked

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.image: np.ndarray | None = None
        self.caption = ""
        self.layer: str | None = None
        self.maps: np.ndarray | None = None           # (h, w, C) of the layer, this image
        self.field = None
        self.unit: tuple[int, int, int] | None = None  # (channel, row, col)
        self.result: dict | None = None
        self.mosaic = None
        self._test: dict = {}                          # run → (images, labels, names)
        self.requests = Requests()
        self._stale = False
        self.answers = Answers(self)
        self.models = ModelAccess(window, self.answers)

        self.layer_box = QComboBox()
        self.layer_box.setToolTip("The layer whose units you click")
        self.here_box = QCheckBox("Top patches at this unit's place only")
        self.here_box.setToolTip("Off: the channel's filter anywhere in each image (it is the "
                                 "same filter at every place); on: only the clicked unit")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Layer"))
        bar.addWidget(self.layer_box)
        bar.addWidget(self.here_box)
        bar.addStretch(1)
        self.maps_view = MosaicView("Feature maps: click a unit", min_side=130)
        self.theory_view = MosaicView("Theoretical receptive field", min_side=130)
        self.effective_view = MosaicView("Effective receptive field", min_side=130)
        self.patches_view = MosaicView("Top 9 test patches", min_side=130)
        self.maps_view.image_item.mouseClickEvent = self._map_clicked
        self.patches_view.image_item.mouseClickEvent = self._patch_clicked
        self.boxes = {}
        for name, view in (("maps", self.maps_view), ("theory", self.theory_view),
                           ("effective", self.effective_view)):
            box = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
            box.setPen(pg.mkPen(BOX, width=2, cosmetic=True))
            box.setVisible(False)
            view.view.addItem(box)
            self.boxes[name] = box
        # Two by two: four in a row leave each view too narrow on a laptop; the two fields
        # stay side by side, under the maps you click and the patches they lead to.
        grid = QGridLayout()
        for k, view in enumerate((self.maps_view, self.patches_view, self.theory_view,
                                  self.effective_view)):
            grid.addWidget(view, k // 2, k % 2)
        for i in (0, 1):
            grid.setColumnStretch(i, 1)
            grid.setRowStretch(i, 1)
        self.explain = QLabel("", wordWrap=True)
        self.status = QLabel("Open a classification run: click a unit of a feature map to "
                             "see what it sees.", wordWrap=True)
        self.status.setStyleSheet("color: #8a8a8a;")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(grid, 1)
        layout.addWidget(self.explain)
        layout.addWidget(self.status)
        self.layer_box.currentTextChanged.connect(self._layer_chosen)
        self.here_box.toggled.connect(lambda _on: self._unit_again())

    # -- the registry's hooks -------------------------------------------------------------
    def run_started(self, event) -> None:
        self.set_run(event.run_dir)

    def open_run(self, path) -> None:
        self.set_run(path)

    def epoch_done(self, event) -> None:
        # New weights: redraw when on screen. Hidden, it waits: its unit's gradient is traced
        # once per model, on the training thread while a run is live (~0.5 s a trace).
        self._refresh_if_shown()

    def _refresh_if_shown(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def shown(self) -> None:
        if self._stale or self.result is None:
            self._stale = False
            self.refresh()

    def probe_ready(self, event) -> None:
        # The live run's first probe images: something to show before the user picks one.
        if event.name == "epoch" and self.result is None:
            self._refresh_if_shown()

    def set_image(self, image, caption: str = "") -> None:
        self.image, self.caption = np.asarray(image), caption
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True           # a click in another tab: computed when shown

    def busy(self) -> bool:
        return self.requests.busy()

    def close_panel(self) -> None:
        self.models.close()

    # -- a run ----------------------------------------------------------------------------
    def set_run(self, run_dir) -> None:
        self.models.set_run(run_dir)
        self.result, self.unit, self.maps = None, None, None
        self._refresh_if_shown()

    def _first_probe_image(self) -> None:
        from cnnstudio.core.probes.recorder import ProbeStore

        try:
            images, _ = ProbeStore(self.models.run_dir).images()
        except (OSError, KeyError, ValueError):    # no probes yet: the first epoch's come
            return
        if len(images):
            self.image, self.caption = images[0], "probe image 1"

    def _submit(self, key, fn, on_result) -> None:
        self.models.submit(key, fn, *self.requests.track(key, on_result, self._failed))

    def refresh(self) -> None:
        """The chosen layer's maps for the image (then the unit again, or the strongest)."""
        if self.models.run_dir is None:
            return
        if self.image is None:
            self._first_probe_image()
            if self.image is None:
                return
        image, layer = self.image, self.layer

        def work(model):
            names = _layers(model)
            if not names:
                from cnnstudio.core.errors import StudioError

                raise StudioError("this model has no convolution or pooling layer whose "
                                  "receptive field the studio can follow")
            if layer not in names:       # the last convolution: it sees the most
                from cnnstudio.core.probes.filters import conv_layer_names

                convs = [n for n in conv_layer_names(model) if n in names]
                return _maps(model, (convs or names)[-1], image)
            return _maps(model, layer, image)

        self.status.setText("Computing the feature maps…")
        self._submit("maps", work, self._show_maps)

    def _layer_chosen(self, name: str) -> None:
        if name and name != self.layer:
            self.layer, self.unit = name, None
            self.refresh()

    def _show_maps(self, found: dict) -> None:
        self.layer, self.maps, self.field = found["layer"], found["maps"], found["field"]
        self.image = found["image"]
        self.layer_box.blockSignals(True)
        if [self.layer_box.itemText(i) for i in range(self.layer_box.count())] != found["layers"]:
            self.layer_box.clear()
            self.layer_box.addItems(found["layers"])
        self.layer_box.setCurrentText(self.layer)
        self.layer_box.blockSignals(False)
        view = channel_view(self.maps, self.layer)
        self.mosaic = view.mosaic
        # Titles and captions stay short: a long one widens the view past its column.
        h, w, c = self.maps.shape
        self.maps_view.show_mosaic(view.mosaic, title=f"{self.layer}: click a unit",
                                   caption=f"{c} channels of {h}×{w}", labels=view.labels)
        if self.unit is None or self.unit[0] >= self.maps.shape[2]:
            flat = int(np.argmax(self.maps))           # the strongest unit for this image
            row, col, channel = np.unravel_index(flat, self.maps.shape)
            self.unit = (int(channel), int(row), int(col))
        self.select_unit(*self.unit)

    # -- one unit ---------------------------------------------------------------------------
    def _map_clicked(self, event) -> None:
        if self.mosaic is None or event.button() != Qt.LeftButton:
            return
        pos = event.pos()
        channel = self.mosaic.tile_at(pos.x(), pos.y())
        if channel is None or channel >= self.maps.shape[2]:
            return
        x0, y0 = self.mosaic.tile_origin(channel)
        row, col = int(pos.y() - y0), int(pos.x() - x0)
        if 0 <= row < self.maps.shape[0] and 0 <= col < self.maps.shape[1]:
            event.accept()
            self.select_unit(channel, row, col)

    def _unit_again(self) -> None:
        if self.unit is not None:
            self.select_unit(*self.unit)

    def select_unit(self, channel: int, row: int, col: int) -> None:
        if self.layer is None or self.image is None:
            return
        self.unit = (int(channel), int(row), int(col))
        self._mark_unit()
        layer, image, run_dir = self.layer, self.image, self.models.run_dir
        position = (row, col) if self.here_box.isChecked() else None
        cache = self._test

        def work(model):
            from cnnstudio.core.probes.adversarial_curve import sample_test_split
            from cnnstudio.core.probes.receptive_field import effective_field
            from cnnstudio.core.probes.top_patches import patch_grid, top_patches

            if run_dir not in cache:       # read once per run, on the model's thread
                cache[run_dir] = sample_test_split(run_dir, sample_size(model))
            images, labels, names = cache[run_dir]
            erf = effective_field(model, layer, image, row, col, channel)
            top = top_patches(model, layer, images, channel, position)
            return {"erf": erf, "top": top, "grid": patch_grid(top), "labels": labels,
                    "names": names, "layer": layer, "unit": (channel, row, col),
                    "run": run_dir}

        self.status.setText(f"Unit ({row}, {col}) of channel {channel}: its gradient and the "
                            f"test images that excite it most…")
        self._submit("unit", work, self._show_unit)

    def _mark_unit(self) -> None:
        if self.mosaic is None or self.unit is None:
            return
        channel, row, col = self.unit
        x0, y0 = self.mosaic.tile_origin(channel)
        self.boxes["maps"].setRect(x0 + col, y0 + row, 1, 1)
        self.boxes["maps"].setVisible(True)

    def _show_unit(self, found: dict) -> None:
        if found["layer"] != self.layer or found["unit"] != self.unit:
            return                                    # the user clicked on meanwhile
        self.result = found
        channel, row, col = found["unit"]
        erf, top, f = found["erf"], found["top"], self.field
        shape = self.image.shape[:2]
        box = f.box(row, col, shape)
        top_, left, bottom, right = box
        self.theory_view.show_image(rgb(self.image), "Theoretical receptive field",
                                    f"{f.size[0]}×{f.size[1]} pixels")
        self.effective_view.show_image(overlay(self.image, erf.heat, alpha=0.6),
                                       "Effective receptive field",
                                       f"|∂unit/∂pixel|; unit = {erf.activation:.3g}")
        for name in ("theory", "effective"):
            self.boxes[name].setRect(left, top_, right - left, bottom - top_)
            self.boxes[name].setVisible(True)
        where = "at this place" if top.position else "anywhere in the image"
        names = found["names"]
        classes = ", ".join(names[int(found["labels"][i])] if names else str(i)
                            for i in top.indices)
        self.patches_view.show_image(found["grid"], f"Top {len(top.indices)} test patches",
                                     f"of {top.searched} images, {where}")
        self.patches_view.setToolTip(f"Classes, strongest first: {classes}")
        s = erf.support
        if s is None:
            practice = f"In practice it sees nothing of this image: {erf.notes[0]}."
        else:
            inside = s[0] >= top_ and s[1] >= left and s[2] <= bottom and s[3] <= right
            practice = ("In practice (the heat map) the pixels near the centre of the box "
                        "weigh most; the gradient is non-zero only "
                        + ("inside the box." if inside else "partly OUTSIDE it (please report)."))
        self.explain.setText(
            f"<b>{self.layer}, channel {channel}, unit ({row}, {col})</b>: in theory it sees "
            f"input rows {top_}–{bottom - 1} and columns {left}–{right - 1} of "
            f"{self.caption or 'the image'} ({f.describe()}). {practice} Top patches: "
            f"classes {classes}.")
        self.status.setText("Click another unit, pick a layer, or click a top patch to send "
                            "its whole image to the other tabs.")
        self.updated.emit()

    def _patch_clicked(self, event) -> None:
        if self.result is None or event.button() != Qt.LeftButton:
            return
        top = self.result["top"]
        h, w = top.patches.shape[1:3]
        pos = event.pos()
        r, c = int(pos.y() // (h + 1)), int(pos.x() // (w + 1))
        k = r * 3 + c
        if 0 <= c < 3 and 0 <= k < len(top.indices):
            event.accept()
            self.choose_patch(k)

    def choose_patch(self, k: int) -> None:
        """Send the whole test image of top patch ``k`` to the window."""
        images, labels, names = self._test[self.result["run"]]
        i = int(self.result["top"].indices[k])
        name = names[int(labels[i])] if names else str(int(labels[i]))
        caption = f"test sample #{i} (class {name}), top patch {k + 1}"
        self.imageChosen.emit(images[i], caption)
        choose_image(self.window, images[i], caption)

    def _failed(self, error) -> None:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        self.status.setText(f"⚠ {text}")
