"""The Haar tab's "Faces: Haar vs CNN" page: nothing loads until it is shown, then the
cascade's and MTCNN's faces on the same photo (boxes, landmarks, times), a photo without a
face says so on both sides, a photo dropped on the Haar tab reaches the page, and the
benchmark's figures are shown with their machine."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from cnnstudio.core.families.detection.haar_probes import BOX_COLOUR


@pytest.fixture(scope="module")
def face_crop():
    return np.ascontiguousarray(data.astronaut()[30:230, 130:330])     # her face, 200×200


def test_both_detectors_on_one_photo_then_one_without_a_face(qtbot, face_crop):
    from cnnstudio.gui.families.detection.faces_compare import FacesCompare

    page = FacesCompare(image=face_crop, caption="face crop")
    qtbot.addWidget(page)
    assert page.haar is None and page.cnn is None and not page.busy()   # hidden: no work
    with qtbot.waitSignal(page.compared, timeout=60_000):
        page.show()
    assert len(page.haar.boxes) == 1 and len(page.cnn["boxes"]) == 1
    assert "1 face</b> in" in page.haar_title.text()
    assert "1 face</b> in" in page.cnn_title.text() and "scores 1.00" in page.cnn_title.text()
    x, y, w, h = page.haar.boxes[0]
    assert tuple(page.haar_item.image[y, x + w // 2]) == BOX_COLOUR     # the box's top edge
    eye_x, eye_y = np.round(page.cnn["landmarks"][0, 0]).astype(int)
    assert tuple(page.cnn_item.image[eye_y, eye_x]) == (255, 220, 0)    # her left eye's dot
    with qtbot.waitSignal(page.compared, timeout=30_000):
        page.set_image(np.ascontiguousarray(data.coffee()[:200, :300]), "coffee.png")
    assert "<b>coffee.png</b>" in page.heading.text()
    assert "no face found" in page.haar_title.text() and "no face found" in page.cnn_title.text()
    assert page.cnn["boxes"].shape == (0, 4)
    page.close_panel()


def test_the_haar_tab_holds_the_page_and_forwards_photos(qtbot, face_crop):
    from cnnstudio.gui.families.detection.faces_compare import FacesCompare
    from cnnstudio.gui.families.detection.haar_panel import HaarPanel

    panel = HaarPanel(image=face_crop, caption="face crop")
    qtbot.addWidget(panel)
    titles = [panel.pages.tabText(i) for i in range(panel.pages.count())]
    assert titles == ["Viola–Jones at work", "Faces: Haar vs CNN"]
    assert isinstance(panel.pages.widget(1), FacesCompare) and panel.faces.caption == "face crop"
    mirrored = np.ascontiguousarray(face_crop[:, ::-1])
    panel.set_image(mirrored, "mirrored.png")              # a dropped photo
    assert panel.faces.caption == "mirrored.png" and np.array_equal(panel.faces.image, mirrored)
    assert panel.faces.cnn is None                         # its page is not shown yet
    panel.show()
    with qtbot.waitSignal(panel.faces.compared, timeout=60_000):
        panel.pages.setCurrentIndex(1)
    assert len(panel.faces.cnn["boxes"]) == 1 and "mirrored.png" in panel.faces.heading.text()
    qtbot.waitUntil(lambda: not panel.busy(), timeout=30_000)
    panel.close_panel()


def test_benchmark_figures_and_their_machine(tmp_path):
    from cnnstudio.gui.families.detection.faces_compare import (
        FIGURES,
        figures_html,
        load_figures,
    )

    shipped = load_figures()
    assert FIGURES.name == "faces.json" and shipped is not None
    for key in ("haar_recall", "cnn_recall", "haar_false_per_image", "cnn_false_per_image",
                "haar_ms", "cnn_ms", "machine"):
        assert key in shipped
    figures = {"haar_recall": 0.8, "cnn_recall": 0.975, "haar_false_per_image": 0.03,
               "cnn_false_per_image": 0.025, "haar_ms": 79.1, "cnn_ms": 240.9, "images": 200,
               "faces": 406, "face_sides": "32–112", "measured": "2026-01-02",
               "machine": {"cpu": "Test CPU", "cores": 2}}
    text = figures_html(figures)
    assert "200 photos, 406 faces" in text and "measured 2026-01-02 on Test CPU, 2 cores" in text
    assert "<td>Haar cascade</td><td align=right>80%</td><td align=right>0.03</td>" \
           "<td align=right>79</td>" in text
    assert "<td>MTCNN</td><td align=right>98%</td><td align=right>0.03</td>" \
           "<td align=right>241</td>" in text
    assert load_figures(tmp_path / "none.json") is None
    assert figures_html(None).startswith("No benchmark figures shipped")
