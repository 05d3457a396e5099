"""The family's own Keras classes (GoogLeNet's auxiliary classifiers, the transfer models'
layers), registered before a saved model that names them is read. Imports Keras."""

from cnnstudio.core.families.classification import googlenet, transfer

transfer.custom_objects()
googlenet.custom_objects()
