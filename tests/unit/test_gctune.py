"""core.gctune: what exists at start-up is out of the cycle collector's passes afterwards."""

from __future__ import annotations

import gc

from core import gctune


def test_settle_freezes_what_the_process_holds() -> None:
    kept = [object()]  # a container the collector tracks, standing in for an imported module's state
    assert any(o is kept for o in gc.get_objects())
    try:
        gctune.settle()
        assert gc.get_freeze_count() > 0
        assert not any(o is kept for o in gc.get_objects())  # no pass walks it again
        later = [object()]
        assert any(o is later for o in gc.get_objects())  # what comes after is collected as usual
    finally:
        gc.unfreeze()  # the test process goes on creating and dropping apps
