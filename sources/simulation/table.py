"""A growable struct-of-arrays: the engine's customers and bookings live in these."""
from __future__ import annotations

import numpy as np


class Table:
    """Columns of equal length that grow by appending; `t.col` is a writable view of the live rows."""

    def __init__(self, spec: dict[str, tuple[str, object]], capacity: int = 1024):
        self._spec = spec
        self._cols = {k: np.full(max(capacity, 16), fill, dtype=dt) for k, (dt, fill) in spec.items()}
        self.n = 0

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("_cols")
        if cols is None or name not in cols:
            raise AttributeError(name)
        return cols[name][: self.n]

    def __setattr__(self, name: str, value) -> None:
        cols = self.__dict__.get("_cols")
        if cols is not None and name in cols:  # `t.col *= x` rebinds: write through instead
            cols[name][: self.n] = value
        else:
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return self.n

    def add(self, count: int, **values) -> np.ndarray:
        """Append `count` rows (unspecified columns get their fill value); returns their positions."""
        need = self.n + count
        cap = next(iter(self._cols.values())).size
        if need > cap:
            new = max(need, int(cap * 1.5) + 16)
            for k, (dt, fill) in self._spec.items():
                grown = np.full(new, fill, dtype=dt)
                grown[: self.n] = self._cols[k][: self.n]
                self._cols[k] = grown
        idx = np.arange(self.n, need)
        for k, v in values.items():
            self._cols[k][self.n:need] = v
        self.n = need
        return idx
