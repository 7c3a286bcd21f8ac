"""Values derived once from a definition object (or a part of one) and kept while it lives.

A decoded definition is shared by every record pinned to its version (definitions.loader), and it
never changes, so what is built from it (its state machine, a calendar's compiled schedule) can be
shared too. An entry is keyed by the object's identity and goes when the object is collected.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
V = TypeVar("V")


class Derived(Generic[T, V]):
    """`build(obj)`, computed on first use per object and returned for it afterwards. Safe to use from
    the worker's workflow threads at once (two may build the same value; one is kept)."""

    def __init__(self, build: Callable[[T], V]) -> None:
        self._build = build
        self._items: dict[int, tuple[weakref.ref[T], V]] = {}
        self._lock = threading.Lock()

    def get(self, obj: T) -> V:
        key = id(obj)
        with self._lock:
            entry = self._items.get(key)
        if entry is not None and entry[0]() is obj:
            return entry[1]
        value = self._build(obj)

        def forget(ref: weakref.ref[T]) -> None:
            with self._lock:
                if self._items.get(key, (None, None))[0] is ref:
                    del self._items[key]

        with self._lock:
            self._items[key] = (weakref.ref(obj, forget), value)
        return value

    def __len__(self) -> int:
        return len(self._items)
