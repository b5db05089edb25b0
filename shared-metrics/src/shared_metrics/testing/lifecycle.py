"""The ``with`` protocol of the local stand-ins: ``start()`` on entry, ``stop()`` on exit."""

from __future__ import annotations

from typing import Self


class StartStop:
    """Subclasses implement `start` (returning themselves) and `stop`."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
