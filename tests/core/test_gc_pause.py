"""The shared pause of the cyclic garbage collector around bulk work."""

from __future__ import annotations

import pytest


def test_gc_pause_is_shared_and_restores_the_collector() -> None:
    """Bulk paths pause the cyclic collector; it must come back on (and stay off if it was off)."""
    import gc

    from cf_core.gc_pause import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # a concurrent writer
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first writer is still decoding
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()
