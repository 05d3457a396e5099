"""The ``autoencoder`` task: images in, the same images out.

    data = task.prepare(dataset, shape, cfg, sink)   # images only; labels kept aside
    task.compile(model, cfg, data)                   # binary cross-entropy, as the book
    task.evaluate(model, data, 64)                   # test MSE and PSNR (+ denoising gain)

Labels play no part in training; they are kept for the code map and the image search.
Every epoch the probe hook stores the fixed probe images' reconstructions and the test
codes (autoencoder_probes.py describes the files) and emits ``ProbeReady("autoencoder")``.
"""

from __future__ import annotations

import math

import numpy as np

from cnnstudio.core import augment
from cnnstudio.core.config import TrainConfig
from cnnstudio.core.datasets.base import ArraySplit, Dataset
from cnnstudio.core.families.generative import autoencoder_probes as probes
from cnnstudio.core.families.generative.autoencoder import PROFILE, TASK
from cnnstudio.core.keras_setup import keras
from cnnstudio.core.training import hyper
from cnnstudio.core.training.batches import FileBatches, arrays_for, split_indices
from cnnstudio.core.training.events import Notice, ProbeReady
from cnnstudio.core.training.tasks import FitData

PROBE_COUNT = 10
NOISE_SEED = 7           # the probes' and the test's noise: the same noisy images every epoch


def _all_images(split, shape, limit: int | None = None):
    """uint8 images and labels of a split (files are read; unreadable ones are left out)."""
    n = len(split) if limit is None else min(limit, len(split))
    if isinstance(split, ArraySplit):
        return arrays_for(split, np.arange(n), shape)
    x, y, _ = split.images(np.arange(n))
    return x, y


class AutoencoderTask:
    name = TASK
    profile = PROFILE

    def build_model(self, arch, input_shape, num_classes, options, cfg: TrainConfig):
        # Classes do not matter to an autoencoder: a one-class folder trains as well.
        return arch.build(input_shape, max(2, int(num_classes)), options)

    def prepare(self, dataset: Dataset, shape, cfg: TrainConfig, sink) -> FitData:
        train, bs, seed = dataset.train, cfg.batch_size, cfg.seed
        tr_idx, val_idx = split_indices(len(train), cfg.validation_split, seed)
        if augment.is_active(cfg.augmentation):
            sink(Notice("augmentation is not used by the autoencoder: it learns to give back "
                        "the images it is shown", level="info"))

        def skipped(path, reason):
            sink(Notice(f"skipped {reason}"))

        if isinstance(train, ArraySplit):
            kwargs = {"x": arrays_for(train, tr_idx, shape)[0], "batch_size": bs,
                      "shuffle": True}
            if len(val_idx):
                kwargs["validation_data"] = (arrays_for(train, val_idx, shape)[0],)
        else:      # labels come along in each batch; train_step keeps only the images
            kwargs = {"x": FileBatches(train, tr_idx, bs, True, seed, skipped)}
            if len(val_idx):
                kwargs["validation_data"] = FileBatches(train, val_idx, bs, False, seed,
                                                        skipped)
        test_x, test_y = _all_images(dataset.test, shape)
        return FitData(kwargs, test_x, len(tr_idx), len(val_idx), len(test_x),
                       math.ceil(len(tr_idx) / bs),
                       extra={"class_names": list(dataset.class_names), "test_labels": test_y})

    def compile(self, model, cfg: TrainConfig, data: FitData | None = None) -> None:
        hyper.apply_hyperparameters(model, cfg)
        model.compile(optimizer=hyper.make_optimizer(cfg, data.steps_per_epoch if data else None),
                      loss="binary_crossentropy",
                      metrics=[keras().metrics.MeanSquaredError(name="mse")])

    def callbacks(self, cfg: TrainConfig, data: FitData | None = None, run_dir=None) -> list:
        return hyper.callbacks(cfg, has_validation=bool(data and data.num_val))

    def evaluate(self, model, data: FitData, batch_size: int) -> dict[str, float]:
        """Test-set reconstruction error; a denoiser is shown noisy images (fixed noise) and
        judged against the clean ones, and the PSNR it gains is reported."""
        if data.num_test == 0:
            return {}
        clean = probes.to_unit(data.test)
        inputs = data.test
        if model.denoise:
            noisy = probes.add_noise(clean, model.noise_factor, NOISE_SEED)
            inputs = noisy * 255.0
        out = probes.decode_batch(model, inputs, batch_size)
        result = {"mse": float(np.mean((out - clean) ** 2)),
                  "psnr_db": float(np.mean(probes.psnr_per_image(clean, out)))}
        if model.denoise:
            before = float(np.mean(probes.psnr_per_image(clean, noisy)))
            result.update(noisy_psnr_db=before, psnr_gain_db=result["psnr_db"] - before)
        return result

    def probe_hooks(self, dataset: Dataset, run_dir, sink, cfg: TrainConfig) -> list:
        from cnnstudio.core.probes.recorder import choose_probe_images

        images, labels = choose_probe_images(dataset, count=PROBE_COUNT)
        test_x, test_y = _all_images(dataset.test, dataset.input_shape, probes.MAX_CODES)
        return [AutoencoderRecorder(run_dir, images, labels, test_x, test_y, sink)]

    def after_fit(self, model, data: FitData, run_dir) -> dict | None:
        """The final model's test codes (probes/codes.npz), for the map and the search."""
        if data.num_test == 0:
            return None
        epochs = probes.AutoencoderStore(run_dir).epochs()
        n = probes.MAX_CODES
        codes = write_codes(model, run_dir, data.test[:n], data.extra["test_labels"][:n],
                            epochs[-1] if epochs else 0)
        return {"codes": len(codes.codes)}


def write_codes(model, run_dir, images, labels, epoch: int) -> probes.CodeSet:
    codes = probes.CodeSet(probes.encode(model, images), np.asarray(labels, np.int32),
                           np.asarray(images, np.uint8), tuple(model.code_shape), int(epoch))
    probes.save_npz(run_dir / "probes" / probes.CODES_FILE, codes=codes.codes,
                    labels=codes.labels, images=codes.images,
                    code_shape=np.asarray(codes.code_shape), epoch=np.asarray(epoch))
    return codes


class AutoencoderRecorder:
    """The epoch hook (model, epoch): probe reconstructions and test codes → run_dir/probes.

    Runs where the engine runs its epoch work (a writer thread holding a copy of the
    model), so the arrays travel to the panel in the ProbeReady payload as well."""

    def __init__(self, run_dir, images, labels, test_images, test_labels, sink=None):
        from pathlib import Path

        self.run_dir = Path(run_dir)
        self.images, self.labels = np.asarray(images, np.uint8), np.asarray(labels, np.int32)
        self.test_images, self.test_labels = test_images, test_labels
        self.sink = sink
        self.noisy: np.ndarray | None = None

    def _fixed_inputs(self, model) -> np.ndarray:
        store = probes.AutoencoderStore(self.run_dir)
        path = store.folder / probes.PROBES_FILE
        if path.is_file():          # a resumed run keeps its probe set and its noise
            saved = store.probes()
            self.images, self.labels = saved["images"], saved["labels"]
            self.noisy = saved.get("noisy")
        else:
            arrays = {"images": self.images, "labels": self.labels}
            if model.denoise:
                self.noisy = probes.to_uint8(probes.add_noise(
                    probes.to_unit(self.images), model.noise_factor, NOISE_SEED))
                arrays["noisy"] = self.noisy
            probes.save_npz(path, **arrays)
        return self.images if self.noisy is None else self.noisy

    def __call__(self, model, epoch: int):
        inputs = self._fixed_inputs(model)
        recon = probes.to_uint8(probes.decode_batch(model, inputs))
        codes = probes.encode(model, self.images).reshape(len(self.images), *model.code_shape)
        path = probes.save_npz(probes.epoch_path(self.run_dir, epoch), reconstructions=recon,
                               codes=codes.astype(np.float16))
        test_codes = None
        if len(self.test_images):
            test_codes = write_codes(model, self.run_dir, self.test_images, self.test_labels,
                                     epoch)
        if self.sink is not None:
            self.sink(ProbeReady(TASK, epoch, str(path), payload={
                "images": self.images, "labels": self.labels, "noisy": self.noisy,
                "record": probes.EpochRecord(epoch, recon, codes),
                "code_shape": tuple(model.code_shape), "input_shape": tuple(model.image_shape),
                "codes": test_codes}))
        return path


INSTANCE = AutoencoderTask()   # registered by the family plugin
