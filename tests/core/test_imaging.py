import cv2
import numpy as np
import pytest

from cnnstudio.core.errors import ImageError
from cnnstudio.core.imaging import fit_to_shape, read_image


@pytest.fixture
def colour():
    image = np.zeros((20, 30, 3), np.uint8)
    image[:, :, 0] = 200          # red in RGB
    image[5:10, 5:10] = (0, 255, 0)
    return image


@pytest.mark.parametrize("suffix", [".png", ".ppm", ".bmp", ".tif"])
def test_lossless_formats_read_back_exact_rgb(tmp_path, colour, suffix):
    path = tmp_path / f"img{suffix}"
    cv2.imwrite(str(path), cv2.cvtColor(colour, cv2.COLOR_RGB2BGR))
    assert np.array_equal(read_image(path), colour)


def test_grey_rgba_and_16bit_are_normalised(tmp_path):
    grey = np.arange(100, dtype=np.uint8).reshape(10, 10)
    cv2.imwrite(str(tmp_path / "g.png"), grey)
    assert read_image(tmp_path / "g.png").shape == (10, 10, 1)

    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 2] = 255                     # red in BGRA
    rgba[:2, :, 3] = 255                   # top half opaque, bottom transparent
    cv2.imwrite(str(tmp_path / "a.png"), rgba)
    image = read_image(tmp_path / "a.png")
    assert image.shape == (4, 4, 3)
    assert image[0, 0].tolist() == [255, 0, 0] and image[3, 0].tolist() == [0, 0, 0]

    deep = np.full((3, 3), 65535, np.uint16)
    cv2.imwrite(str(tmp_path / "d.png"), deep)
    assert read_image(tmp_path / "d.png").max() == 255


def test_corrupt_and_non_image_files_name_the_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    (tmp_path / "empty.png").write_bytes(b"")
    for name in ("notes.txt", "broken.jpg", "empty.png"):
        with pytest.raises(ImageError, match=f"cannot read '{name}'"):
            read_image(tmp_path / name)
    with pytest.raises(ImageError, match="image not found"):
        read_image(tmp_path / "missing.png")


def test_fit_to_shape_converts_a_colour_photo_for_a_grey_model(colour):
    out = fit_to_shape(colour, (28, 28, 1))
    assert out.shape == (28, 28, 1) and out.dtype == np.uint8
    expected = cv2.cvtColor(cv2.resize(colour, (28, 28), interpolation=cv2.INTER_AREA),
                            cv2.COLOR_RGB2GRAY)
    assert np.array_equal(out[..., 0], expected)
    grey = np.full((8, 8, 1), 77, np.uint8)
    assert fit_to_shape(grey, (8, 8, 3)).tolist() == np.full((8, 8, 3), 77).tolist()
