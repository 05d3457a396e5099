"""The attention family's panels (book chapter 9): the Recurrent Attention Model's glimpse
panel, and the captions tab with its prediction view (captioning with soft attention).
"""
