"""``ModelAccess`` (the model where it lives: the training thread between batches, else an
inference copy) that also says whether the latest answer is still on its way, so
screenshot mode waits for the detection tabs as it does for the others (``busy()``)."""

from __future__ import annotations

from cnnstudio.gui.model_access import ModelAccess


class WaitingAccess(ModelAccess):
    def __init__(self, window, answers):
        super().__init__(window, answers)
        self.waiting = False

    def submit(self, key: str, fn, on_result, on_error) -> None:
        self.waiting = True

        def arrived(callback):
            def call(value):
                self.waiting = False     # only the latest request is ever answered
                callback(value)
            return call

        super().submit(key, fn, arrived(on_result), arrived(on_error))

    def busy(self) -> bool:
        return self.waiting
