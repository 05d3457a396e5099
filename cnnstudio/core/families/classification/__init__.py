"""The classification family (book chapters 1–5): the MLP, LeNet-5, the CIFAR-10 and
book CNNs, AlexNet, VGG, GoogLeNet, ResNet and transfer learning, with their task.

What it adds to the studio is declared in ``plugin.py``.
"""
