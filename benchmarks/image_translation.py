"""Image-to-image translation (book chapter 8): pix2pix against its L1-only baseline, and a
CycleGAN on unpaired digits, each trained through the engine with its chapter-8 preset.

    python benchmarks/image_translation.py [--only pix2pix|cyclegan]

pix2pix (``_translation_pix2pix.py``): on edges2shapes' fixed test pairs, the mean L1 to the
targets and the sharpness of the outputs (mean variance of the Laplacian) against the
targets' and the L1-only run's. CycleGAN (``_translation_cyclegan.py``): on digits2thick,
whether G(a) looks like domain B to a classifier of real A vs real B, whether a LeNet
trained on real B digits still reads a's digit in G(a), and the round trip's L1.

Goals (each model within 10 minutes on 2 CPU cores): pix2pix_sharpness ≥ 0.8 ×
target_sharpness and ≥ 1.3 × l1only_sharpness; pix2pix_l1 ≤ 1.5 × l1only_l1;
cyclegan_domain_accuracy ≥ 0.90, cyclegan_content_accuracy ≥ 0.85, cyclegan_cycle_l1 ≤ 0.05;
pad_translate_ms (one 64×64 sketch through the trained generator) ≤ 100. Last line: one JSON object.
"""

from __future__ import annotations

import argparse

from _common import emit, goal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("pix2pix", "cyclegan"))
    args = parser.parse_args()
    figures: dict = {}
    if args.only in (None, "pix2pix"):
        import _translation_pix2pix

        figures.update(_translation_pix2pix.figures())
    if args.only in (None, "cyclegan"):
        import _translation_cyclegan

        figures.update(_translation_cyclegan.figures())
    f = figures.get
    if "pix2pix_sharpness" in figures:
        goal("pix2pix_sharpness vs target", f("pix2pix_sharpness"), ">=",
             0.8 * f("target_sharpness"))
        goal("pix2pix_sharpness vs l1only", f("pix2pix_sharpness"), ">=",
             1.3 * f("l1only_sharpness"))
        goal("pix2pix_l1", f("pix2pix_l1"), "<=", 1.5 * f("l1only_l1"))
        goal("pix2pix_seconds", f("pix2pix_seconds"), "<=", 600, "s")
        goal("pad_translate_ms", f("pad_translate_ms"), "<=", 100, "ms")
    if "cyclegan_domain_accuracy" in figures:
        goal("cyclegan_domain_accuracy", f("cyclegan_domain_accuracy"), ">=", 0.90)
        goal("cyclegan_content_accuracy", f("cyclegan_content_accuracy"), ">=", 0.85)
        goal("cyclegan_cycle_l1", f("cyclegan_cycle_l1"), "<=", 0.05)
        goal("cyclegan_seconds", f("cyclegan_seconds"), "<=", 600, "s")
    emit(__file__, figures)


if __name__ == "__main__":
    main()
