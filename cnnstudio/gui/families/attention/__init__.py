"""The attention family's panels (book chapter 9): the Recurrent Attention Model's glimpse
panel, and the captions tab with its prediction view (captioning with soft attention).
"""

from cnnstudio.gui.families.attention import (  # noqa: F401
    caption_prediction_view,
    captions_panel,
    glimpse_panel,
    glimpse_prediction_view,
)
