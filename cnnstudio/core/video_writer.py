"""RGB frames in, a video file out: MP4 (H.264 through the ffmpeg binary that imageio-ffmpeg
ships) or an animated GIF (Pillow). No Qt: the window recorder grabs, this writes.

    writer = open_video_writer("lesson.mp4", fps=10)   # StudioError: bad suffix, folder, no ffmpeg
    writer.write(frame, slot=0)          # uint8 H×W×3; slot: the frame's place on the fps clock
    writer.write(frame2, slot=3)         # slots 1–2 were missed: frame stays on screen 3 periods
    path = writer.close()                # or writer.abort(): nothing is left behind

The file is written under a hidden temporary name beside the target and renamed at close, so
a failure (ffmpeg dying, a full disk) never leaves a half video under the name asked for.
The first frame fixes the size; a later frame of another size is scaled into it, its aspect
kept, on black (a window that goes full screen mid-recording).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from cnnstudio.core.atomic import WriteFailed, temp_path
from cnnstudio.core.errors import StudioError

SUFFIXES = (".mp4", ".gif")
MAX_FPS = 50            # GIF delays are whole centiseconds; under 2 cs viewers slow them down
INSTALL_HINT = 'pip install "cnnstudio[record]"'


class VideoError(StudioError):
    """A video that cannot be written; one line saying why."""


def ffmpeg_exe() -> str:
    """The ffmpeg that imageio-ffmpeg ships (the optional extra ``record``)."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise VideoError(f"MP4 recording needs imageio-ffmpeg: {INSTALL_HINT} "
                         "(or record a .gif)") from None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:          # the wheel for another platform, binary deleted, …
        raise VideoError(f"imageio-ffmpeg found no ffmpeg binary ({exc}); "
                         f"reinstall it: {INSTALL_HINT}") from None


def open_video_writer(path: str | Path, fps: float = 10) -> VideoWriter:
    """A writer for ``path`` chosen by its suffix; every problem known before the first frame
    (suffix, fps, folder, missing ffmpeg) is raised here as one line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise VideoError(f"cannot record to {path.name}: the name must end in .mp4 or .gif")
    if not 1 <= fps <= MAX_FPS:
        raise VideoError(f"frames per second must be between 1 and {MAX_FPS}, got {fps:g}")
    exe = ffmpeg_exe() if suffix == ".mp4" else None
    return Mp4Writer(path, fps, exe) if exe else GifWriter(path, fps)


class VideoWriter:
    """Shared by both formats: the temporary file, the size, the slots, close and abort."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = path, float(fps)
        self.size: tuple[int, int] | None = None        # (width, height), from the first frame
        self.frames = 0                                   # frames written (repeats excluded)
        self.slots = 0                                    # the video's length in frame periods
        self.temp = temp_path(path, "recording")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.temp.write_bytes(b"")                    # the folder is writable: known now
        except OSError as exc:
            raise _write_failed(path, exc) from exc
        self.closed = False

    def write(self, frame: np.ndarray, slot: int | None = None) -> None:
        """Add ``frame`` (uint8 H×W×3) at ``slot`` (default: the next one). A gap since the
        previous frame keeps that one on screen for the missed periods. Any error aborts the
        whole file: nothing is left behind."""
        if self.closed:
            raise VideoError(f"{self.path.name} is already closed")
        slot = self.slots if slot is None else max(int(slot), self.slots)
        with self._or_abort():
            self._add(self._fit(frame), slot)
        self.frames += 1
        self.slots = slot + 1

    def close(self) -> Path:
        """Finish the file and put it under its name; raises (and removes it) on failure."""
        if self.closed:
            raise VideoError(f"{self.path.name} is already closed")
        if self.frames == 0:
            self.abort()
            raise VideoError(f"no frames were recorded; {self.path.name} was not written")
        with self._or_abort():
            self._finish()
            os.replace(self.temp, self.path)
        self.closed = True
        return self.path

    @contextlib.contextmanager
    def _or_abort(self):
        """Any failure removes the temporary file; an OS error becomes one clear line."""
        try:
            yield
        except OSError as exc:
            self.abort()
            raise self._failure(exc) from exc
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Stop writing and remove the temporary file; safe to call twice."""
        self.closed = True
        self._discard()
        self.temp.unlink(missing_ok=True)

    # Each format fills these in.
    def _add(self, frame: np.ndarray, slot: int) -> None: raise NotImplementedError
    def _finish(self) -> None: raise NotImplementedError
    def _discard(self) -> None: pass

    def _failure(self, exc: OSError) -> StudioError:
        return exc if isinstance(exc, StudioError) else _write_failed(self.path, exc)

    def _fit(self, frame: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise VideoError(f"a video frame must be uint8 height×width×3, "
                             f"got {frame.dtype} {frame.shape}")
        height, width = frame.shape[:2]
        if self.size is None:
            self.size = (width, height)
        if (width, height) == self.size:
            return frame
        return letterbox(frame, self.size)


def letterbox(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``frame`` scaled to fit ``size`` (width, height), its aspect kept, centred on black."""
    width, height = size
    scale = min(width / frame.shape[1], height / frame.shape[0])
    new_w = max(1, min(width, round(frame.shape[1] * scale)))
    new_h = max(1, min(height, round(frame.shape[0] * scale)))
    scaled = np.asarray(Image.fromarray(frame).resize((new_w, new_h), Image.Resampling.BILINEAR))
    out = np.zeros((height, width, 3), np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    out[top:top + new_h, left:left + new_w] = scaled
    return out


def _write_failed(path: Path, exc: OSError) -> StudioError:
    if isinstance(exc, NotADirectoryError | FileExistsError):
        # mkdir's words for "a file stands where the folder should be"
        return VideoError(f"cannot write {path}: a file, not a folder, is in the way "
                          f"({exc.filename or path.parent})")
    return WriteFailed.of(path, exc)


class Mp4Writer(VideoWriter):
    """Raw RGB frames piped to ffmpeg (libx264, yuv420p: plays in browsers and on slides)."""

    def __init__(self, path: Path, fps: float, exe: str):
        super().__init__(path, fps)
        self.exe = exe
        self.process: subprocess.Popen | None = None
        self._last = b""
        self.log = tempfile.TemporaryFile()      # ffmpeg's complaints, read when it fails

    def _start(self) -> None:
        width, height = self.size
        command = [self.exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                   "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
                   "-framerate", f"{self.fps:g}", "-i", "-", "-an",
                   # H.264 in yuv420p needs even sides: pad an odd one by a black line
                   "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",
                   "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                   "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(self.temp)]
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)     # no console flash on Windows
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                            stdout=subprocess.DEVNULL, stderr=self.log,
                                            creationflags=flags)
        except OSError as exc:
            raise VideoError(f"cannot start ffmpeg ({self.exe}): {exc.strerror or exc}") from exc

    def _add(self, frame: np.ndarray, slot: int) -> None:
        if self.process is None:
            self._start()
        data = np.ascontiguousarray(frame).tobytes()
        missed = slot - self.slots                 # periods without a frame: the last one stays
        try:
            for _ in range(missed):
                self.process.stdin.write(self._last or data)
            self.process.stdin.write(data)
        except (OSError, ValueError):              # BrokenPipeError: ffmpeg is gone
            raise self._died() from None
        self._last = data

    def _finish(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            code = self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise VideoError(f"ffmpeg took over two minutes to finish {self.path.name}; "
                             "stopped it") from None
        if code != 0:
            raise self._died()
        self.log.close()

    def _died(self) -> VideoError:
        code = self.process.poll() if self.process else None
        if code is None and self.process is not None:
            try:                                    # a broken pipe: it is exiting right now
                code = self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = "still running"
        return VideoError(f"ffmpeg stopped while writing {self.path.name} "
                          f"(exit {code}){self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            self.log.seek(0)
            lines = [line for line in self.log.read().decode(errors="replace").splitlines()
                     if line.strip()]
        except (OSError, ValueError):
            return ""
        return f": {lines[-1].strip()}" if lines else ""

    def _discard(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        try:
            if self.process is not None and self.process.stdin:
                self.process.stdin.close()
        except OSError:
            pass
        self.log.close()


class GifWriter(VideoWriter):
    """An animated GIF streamed frame by frame (a long lesson never sits in memory whole).

    Each frame gets its own 256-colour palette (Pillow quantises it; UI colours stay exact),
    a run of identical frames becomes one frame shown longer, and the delays are placed on
    the fps clock in centiseconds so rounding never drifts (15 fps: 7, 7, 6, 7, 7, 6 …)."""

    def __init__(self, path: Path, fps: float):
        super().__init__(path, fps)
        self.file = open(self.temp, "wb")   # noqa: SIM115 — held open while recording
        self.pending: tuple[np.ndarray, int] | None = None     # (frame, first slot)

    def _add(self, frame: np.ndarray, slot: int) -> None:
        if self.pending is not None and np.array_equal(self.pending[0], frame):
            return                                # the same picture: the previous one lasts
        if self.pending is None:
            self._header()
        else:
            self._flush(end=slot)
        self.pending = (frame, slot)

    def _finish(self) -> None:
        self._flush(end=self.slots)
        self.file.write(b"\x3b")                 # trailer
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()

    def _discard(self) -> None:
        self.file.close()

    def _header(self) -> None:
        width, height = self.size
        self.file.write(b"GIF89a" + _u16(width) + _u16(height) + b"\x00\x00\x00")
        # NETSCAPE2.0: loop for ever
        self.file.write(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")

    def _flush(self, end: int) -> None:
        frame, start = self.pending
        delay = self._centiseconds(end) - self._centiseconds(start)
        control = b"\x21\xf9\x04\x04" + _u16(max(2, delay)) + b"\x00\x00"   # keep, no transparency
        self.file.write(control + _image_block(frame))

    def _centiseconds(self, slot: int) -> int:
        return round(slot * 100 / self.fps)


def _u16(value: int) -> bytes:
    return int(value).to_bytes(2, "little")


def _image_block(frame: np.ndarray) -> bytes:
    """One frame as a GIF image block with a local colour table: Pillow writes it as a whole
    GIF, and its global table moves onto the image descriptor."""
    image = Image.fromarray(frame).quantize(256, method=Image.Quantize.FASTOCTREE,
                                            dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, "GIF")
    gif = buffer.getvalue()
    packed = gif[10]
    table = b""
    at = 13
    if packed & 0x80:                                 # a global colour table follows
        table = gif[at:at + 3 * (2 << (packed & 0x07))]
        at += len(table)
    while gif[at] == 0x21:                            # extensions Pillow may add: skip them
        at += 2
        while gif[at]:
            at += gif[at] + 1
        at += 1
    if gif[at] != 0x2C:
        raise VideoError("Pillow wrote a GIF frame this writer cannot read")
    descriptor = bytearray(gif[at:at + 10])
    if table:
        descriptor[9] = (descriptor[9] & 0x40) | 0x80 | (packed & 0x07)
    at += 10
    if gif[at - 1] & 0x80:                            # Pillow put a local table already
        return bytes(gif[at - 10:-1])
    return bytes(descriptor) + table + gif[at:-1]     # minus the trailer
