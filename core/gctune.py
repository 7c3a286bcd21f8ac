"""Garbage-collector setting for the long-running processes: the worker and the API.

CPython's cycle collector, in its full pass, walks every object it tracks. After start-up a worker
tracks about 230,000 (imported modules and their classes and functions, the workflow sandbox's
module copies), all of which live as long as the process. Measured in the API benchmark (quick run,
gc.callbacks): the worker's full passes took about 190 ms each, three in a run, and every update in
flight waited; decoding a record's start input took 3.3 ms of CPU, most of it in collections it
triggered. `gc.freeze()` once start-up is done moves those objects out of the collector's sight:
full passes then took about 95 ms (they still walk the workflows cached since) and the decode
1.5 ms. Reference counting frees acyclic garbage as before; the frozen objects are never garbage.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Call once the process has imported and built what it keeps, before it serves."""
    gc.collect()
    gc.freeze()
