"""A folder of contract CSVs (customers.csv, sessions.csv, ...): another marketplace's export, or `demo --out`.

Files are read row by row: a ragged line (too many or too few fields), a bad quote or bytes that are
not UTF-8 cost that line only; it is handed to ingestion in `attrs["rejected"]` (row_key
`file:line`, a reason naming the file and line) and quarantined, and every good line is kept. An empty
or header-only file is zero rows.
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from domain.contract import RECORDS
from sources.base import SourceUnavailable

_UNDECODABLE = re.compile(r"[\udc80-\udcff]")  # bytes that were not UTF-8, as surrogateescape keeps them
REJECTED_COLUMNS = ["row_key", "reason", "payload"]


class _Restart(Exception):
    """A bad record that spans several lines: quarantine its first line, parse again from the next one."""


class CsvDirAdapter:
    def __init__(self, folder: str):
        self.folder = Path(folder).expanduser()
        self.name = f"csv:{self.folder}"

    @property
    def records(self) -> tuple[str, ...]:
        return tuple(r for r in RECORDS if (self.folder / f"{r}.csv").exists())

    def check(self) -> None:
        if not self.folder.is_dir():
            raise SourceUnavailable(f"folder {self.folder} does not exist")

    def fetch(self, record: str, since: datetime | None) -> pd.DataFrame:
        """Rows as raw strings (ingestion types them); rows whose watermark can't be parsed are kept for quarantine.

        Lines that cannot be read are in the result's attrs["rejected"] (columns row_key, reason, payload).
        """
        self.check()
        path = self.folder / f"{record}.csv"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return pd.DataFrame(columns=RECORDS[record].columns)
        df, rejected = read_rows(data, path.name, hide_text=bool(RECORDS[record].personal))
        column = RECORDS[record].watermark
        if since is not None and column and column in df.columns and len(df):
            stamp = pd.to_datetime(df[column], errors="coerce", utc=True, format="ISO8601")
            stamp = stamp.dt.tz_localize(None)
            df = df[stamp.isna() | (stamp >= pd.Timestamp(since))]
        df = df.reset_index(drop=True)
        df.attrs["rejected"] = rejected
        return df


def read_rows(data: bytes, file: str, hide_text: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows as text, None for empty fields; rejected lines) of a CSV file's bytes.

    `hide_text`: keep the rejected line's text out of the quarantine payload (files with personal data).
    """
    clean = _clean_unquoted(data)
    if clean is not None:
        return clean, pd.DataFrame(columns=REJECTED_COLUMNS)
    text = data.decode("utf-8-sig", errors="surrogateescape")
    if not text.strip():
        return pd.DataFrame(), pd.DataFrame(columns=REJECTED_COLUMNS)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line + "\n" for line in lines]
    header = [c.strip() for c in next(csv.reader([lines[0]]))]
    undecodable = _UNDECODABLE.search(text) is not None
    rows: list[list[str]] = []
    rejected: list[dict] = []
    if '"' not in text:  # no quoting anywhere: a line is a record, its commas say whether it is ragged
        return _unquoted(lines, header, file, hide_text, undecodable)

    def reject(index: int, why: str) -> None:
        rejected.append(_rejected(lines, index, file, why, hide_text))

    pos = 1
    while pos < len(lines):
        reader = csv.reader(iter(lines[pos:]), strict=True)
        read = 0
        try:
            for row in reader:
                first, read = pos + read, reader.line_num
                last = pos + read - 1
                if not row or row == [""]:
                    continue
                why = _problem(row, header, lines[first:last + 1] if undecodable else None)
                if why is None:
                    rows.append(row)
                elif last > first:
                    reject(first, why)
                    raise _Restart(first + 1)
                else:
                    reject(first, why)
            break
        except _Restart as restart:
            pos = restart.args[0]
        except csv.Error as exc:
            first = pos + read
            reject(first, f"bad quoting ({exc})")
            pos = first + 1
    df = pd.DataFrame(rows, columns=header, dtype=object)
    df = df.where(df != "", None) if len(df) else df
    return df, pd.DataFrame(rejected, columns=REJECTED_COLUMNS)


def _clean_unquoted(data: bytes) -> pd.DataFrame | None:
    """The common case, checked at C speed: valid UTF-8, no quote character, every line with the
    header's number of commas. Then pandas parses the bytes as they are; None when any of it fails."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b'"' in data or not data.strip():
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    if not data.endswith(b"\n"):
        ends = np.append(ends, raw.size)
    commas = np.diff(np.searchsorted(np.flatnonzero(raw == 44), ends), prepend=0)
    starts = np.concatenate(([0], ends[:-1] + 1))
    blank = (ends - starts) <= 1  # empty, or a lone "\r"
    if not (blank | (commas == commas[0])).all():
        return None
    df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=True)
    df.columns = [c.strip() for c in df.columns]
    return df


def _unquoted(lines: list[str], header: list[str], file: str, hide_text: bool,
              undecodable: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fast path for files without a quote character (most exports): bad lines are found by their
    comma count and bytes, the good ones go through pandas' C parser in one piece."""
    commas = len(header) - 1
    good, rejected = [lines[0]], []
    for index in range(1, len(lines)):
        line = lines[index]
        if line.count(",") == commas and not (undecodable and _UNDECODABLE.search(line)):
            good.append(line)
        elif line.strip():
            fields = line.count(",") + 1
            why = ("bytes that are not UTF-8" if undecodable and _UNDECODABLE.search(line)
                   else f"ragged line: {fields} fields, the header has {len(header)}")
            rejected.append(_rejected(lines, index, file, why, hide_text))
    df = pd.read_csv(io.StringIO("".join(good)), dtype=str, keep_default_na=False, na_values=[""],
                     skip_blank_lines=True)
    df.columns = header
    return df, pd.DataFrame(rejected, columns=REJECTED_COLUMNS)


def _rejected(lines: list[str], index: int, file: str, why: str, hide_text: bool) -> dict:
    number = index + 1  # physical line number in the file, the header being line 1
    shown = (f"{len(lines[index].rstrip())} characters, not shown (the file holds personal data)" if hide_text
             else lines[index].rstrip("\r\n")[:1000].encode("utf-8", "replace").decode("utf-8"))
    return {"row_key": f"{file}:{number}", "reason": f"{file} line {number}: {why}",
            "payload": json.dumps({"file": file, "line": number, "text": shown})}


def _problem(row: list[str], header: list[str], raw_lines: list[str] | None) -> str | None:
    if raw_lines is not None and any(_UNDECODABLE.search(line) for line in raw_lines):
        return "bytes that are not UTF-8"
    if len(row) != len(header):
        return f"ragged line: {len(row)} fields, the header has {len(header)}"
    return None
