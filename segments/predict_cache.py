"""Fitted models kept in memory per worker process, so `predict` loads each model once, not per request.

A bounded LRU keyed by (analysis id, model file path, file modification time): a re-run that rewrites
the file gets a new key (the stale entry ages out). Bounded by memory, not by count: the models a process holds
add up to at most `PREDICT_MODEL_CACHE_MB` (default 128) of model files (the size of each file stands for its size
in memory; the most recently used model is kept whatever its size). Models range from ~200 KB (a few thousand
customers) to tens of MB (a large analysis), so a count would either evict small ones that fit many times over
(10 organizations' models through a count of 8 reloaded one prediction in ten: p99 +30 ms) or admit large ones
past the memory a web worker has.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.conf import settings

from segsaas import storage


class ModelCache:
    def __init__(self, max_mb: float | None = None):
        self._max_mb = max_mb
        self._models: OrderedDict[tuple, tuple[object, int]] = OrderedDict()  # key -> (model, file bytes)
        self._lock = threading.Lock()
        self.loads = 0  # how many times a model was read from storage (tests and the bench read it)

    @property
    def max_bytes(self) -> int:
        mb = self._max_mb if self._max_mb is not None else float(settings.PREDICT_MODEL_CACHE_MB)
        return int(mb * 1024 * 1024)

    @property
    def held_bytes(self) -> int:
        return sum(size for _, size in self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
            self.loads = 0

    def get(self, analysis):
        """The fitted pipeline of a finished analysis (EngineError if its file is missing or not a model)."""
        key = (analysis.pk, analysis.model_file, _modified_time(analysis.model_file))
        with self._lock:
            entry = self._models.get(key)
            if entry is not None:
                self._models.move_to_end(key)
                return entry[0]
        model = _load(analysis.model_file)  # outside the lock: loading takes a while, other models stay usable
        size = storage.size(analysis.model_file)
        with self._lock:
            self.loads += 1
            for stale in [k for k in self._models if k[0] == analysis.pk]:
                del self._models[stale]
            self._models[key] = (model, size)
            while len(self._models) > 1 and self.held_bytes > self.max_bytes:
                self._models.popitem(last=False)  # the least recently used
        return model


def _modified_time(name: str) -> float:
    from segments.engine import EngineError

    try:
        return storage.modified_time(name)
    except FileNotFoundError as exc:
        raise EngineError("The fitted model of this analysis is missing; re-run the analysis.") from exc


def _load(name: str):
    from segments.engine import EngineError, load_model

    try:
        with storage.local_copy(name) as path:  # joblib needs a path: on S3 a scratch copy, removed once loaded
            return load_model(path)
    except FileNotFoundError as exc:
        raise EngineError("The fitted model of this analysis is missing; re-run the analysis.") from exc


model_cache = ModelCache()
