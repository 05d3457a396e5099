"""The detection family (book chapter 7): Haar cascades, the compact Mask R-CNN and the
pretrained COCO Mask R-CNN, all reporting ``instances.Instances``.

What it adds to the studio is declared in ``plugin.py``; heavy (TensorFlow) modules are
imported only when a model is built, loaded or run.
"""
