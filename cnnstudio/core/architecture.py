"""What an architecture is (a registry entry with its options declared as specs) and the
per-layer summary every model reports. Shared by every family."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnnstudio.core.errors import ModelError
from cnnstudio.core.options import OptionSet, OptionSpec

Shape = tuple[int, int, int]


@dataclass
class Architecture:
    """A buildable model: ``build(input_shape, num_classes, options)`` → uncompiled keras.Model.

    ``task`` names how the engine trains it (``classification`` compiles with
    cross-entropy; families with their own ``train_step`` register their own task).
    """
    id: str
    name: str
    description: str
    source: str
    build_fn: Callable[..., Any]
    specs: tuple[OptionSpec, ...] = ()
    task: str = "classification"
    min_size: int = 1
    preferred_size: int | None = None
    # Classes the dataset must have: 2 for a classifier; 1 for a model that makes or
    # translates images (a one-folder dataset trains a GAN; a paired dataset has one class).
    min_classes: int = 2
    option_set: OptionSet = field(init=False, repr=False)

    def __post_init__(self):
        self.option_set = OptionSet(self.specs)

    @property
    def defaults(self) -> dict[str, Any]:
        return self.option_set.defaults

    @property
    def options_help(self) -> dict[str, str]:
        return self.option_set.help

    def option_problems(self, given: dict[str, Any] | None) -> list[str]:
        """One sentence per unknown option or value outside its spec."""
        return self.option_set.problems(given, self.id)

    def options(self, given: dict[str, Any] | None) -> dict[str, Any]:
        """``given`` checked against the specs, with the defaults filled in."""
        found = self.option_problems(given)
        if found:
            raise ModelError("; ".join(found))
        return self.option_set.resolve(given)

    def build(self, input_shape: Shape, num_classes: int, options: dict[str, Any] | None = None):
        height, width = input_shape[:2]
        if min(height, width) < self.min_size:
            raise ModelError(
                f"{self.id} needs inputs of at least {self.min_size}×{self.min_size}, got "
                f"{height}×{width}; pick a larger image size (e.g. the 'size' dataset option)")
        if num_classes < self.min_classes:
            raise ModelError(f"{self.id} needs at least two classes, got {num_classes}")
        opts = self.options(options)
        try:
            return self.build_fn(tuple(int(s) for s in input_shape), int(num_classes), **opts)
        except ValueError as exc:
            # Keras reports e.g. negative output sizes: say which input was too small.
            raise ModelError(f"{self.id} cannot be built for {height}×{width}×{input_shape[2]} "
                             f"inputs: {str(exc).splitlines()[0]}") from None


def layer_table(model, prefix: str = "") -> list[dict[str, Any]]:
    """Name, type, output shape and parameter count of each layer (the summary table).

    A model made of sub-models (a GAN's generator and discriminator, an autoencoder's
    encoder and decoder) lists their layers, named ``generator/dense``; one level deep,
    so a pretrained base inside them stays one row.
    """
    rows = []
    for layer in model.layers:
        if not prefix and getattr(layer, "layers", None):
            rows.extend(layer_table(layer, f"{layer.name}/"))
            continue
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):
            shape = ()
        rows.append({"name": prefix + layer.name, "type": type(layer).__name__,
                     "output_shape": [None if d is None else int(d) for d in shape],
                     "params": int(layer.count_params()) if layer.built else 0})
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'layer':<22}{'type':<20}{'output shape':<20}{'params':>12}"]
    for r in rows:
        shape = "×".join("?" if d is None else str(d) for d in r["output_shape"][1:])
        lines.append(f"{r['name']:<22}{r['type']:<20}{shape:<20}{r['params']:>12,}")
    lines.append(f"{'total':<62}{sum(r['params'] for r in rows):>12,}")
    return "\n".join(lines)
