"""Numpy-in, numpy-out views of a model for the insight panels (no Qt here, ever).

    filters        conv kernels as normalised image tiles
    feature_maps   every channel of every conv/pool layer for one image
    gradcam        Grad-CAM and saliency heat maps
    activation_max gradient-ascent images that excite one filter
    confusion      confusion matrix, per-class metrics, error gallery order
    recorder       per-epoch probe arrays in ``run_dir/probes`` for the epoch slider
    grid           tiling many small images into one labelled mosaic

Heavy modules import Keras lazily; ``import cnnstudio.core.probes`` stays instant.
"""
