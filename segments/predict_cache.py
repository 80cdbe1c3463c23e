"""Fitted models kept in memory per worker process, so `predict` loads each model once, not per request.

A bounded LRU keyed by (analysis id, model file path, file modification time): a re-run that rewrites
the file gets a new key (the stale entry ages out), and a process never holds more than
`PREDICT_MODEL_CACHE_SIZE` models (default 8; a model of a large analysis is tens of MB).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.conf import settings

from segsaas import storage


class ModelCache:
    def __init__(self, max_size: int | None = None):
        self._max_size = max_size
        self._models: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # how many times a model was read from storage (tests and the bench read it)

    @property
    def max_size(self) -> int:
        if self._max_size is not None:
            return self._max_size
        return max(1, int(settings.PREDICT_MODEL_CACHE_SIZE))

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
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
                return model
        model = _load(analysis.model_file)  # outside the lock: loading takes a while, other models stay usable
        with self._lock:
            self.loads += 1
            for stale in [k for k in self._models if k[0] == analysis.pk]:
                del self._models[stale]
            self._models[key] = model
            while len(self._models) > self.max_size:
                self._models.popitem(last=False)
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
