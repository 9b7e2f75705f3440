"""Extraction + chunking cost against input size (issue 9: chunking must be linear).

Two shapes that used to time out in the `chunk` step: one line of text without a paragraph or
line break (megabytes), and a CSV file of many rows. Each is run at two sizes; linear cost shows
as the same seconds per MB (per 50k rows) at both. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_chunking.py [--mb 1 4] [--rows 50000 200000]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ragline.chunking import chunk_document  # noqa: E402
from ragline.extract import extract  # noqa: E402

WORDS = "the pilot reported that engine lost power during approach and landed short of the runway".split()


def one_line_text(megabytes: float, sentences: bool) -> bytes:
    """Words (with or without sentence ends), never a line break."""
    rng = random.Random(1)
    out, size, n = [], 0, 0
    while size < megabytes * 1_000_000:
        word = rng.choice(WORDS)
        n += 1
        if sentences and n % 17 == 1:
            word = word.capitalize()
        if sentences and n % 17 == 0:
            word += "."
        out.append(word)
        size += len(word) + 1
    return " ".join(out).encode()


def csv_rows(rows: int) -> bytes:
    rng = random.Random(1)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "name", "city", "amount", "note"])
    for i in range(rows):
        writer.writerow([i, f"name {i}", rng.choice(["Hà Nội", "Huế", "Paris"]), f"{i * 3.5:.2f}", "some note here"])
    return buffer.getvalue().encode()


def measure(data: bytes, name: str) -> tuple[float, float, int]:
    start = time.perf_counter()
    doc = extract(data, name)
    extracted = time.perf_counter()
    chunks = chunk_document(doc, 220, 40)
    return extracted - start, time.perf_counter() - extracted, len(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000, 200_000])
    args = parser.parse_args()
    print("| input | size | extract s | chunk s | chunks | (extract+chunk) s per unit |")
    print("|---|---|---|---|---|---|")
    for sentences in (False, True):
        label = "one line, sentences" if sentences else "one line, no punctuation"
        for mb in args.mb:
            extract_s, chunk_s, n = measure(one_line_text(mb, sentences), "big.txt")
            print(f"| {label} | {mb:g} MB | {extract_s:.2f} | {chunk_s:.2f} | {n} | {(extract_s + chunk_s) / mb:.2f} s/MB |")
    for rows in args.rows:
        extract_s, chunk_s, n = measure(csv_rows(rows), "rows.csv")
        per = (extract_s + chunk_s) / (rows / 50_000)
        print(f"| CSV | {rows} rows | {extract_s:.2f} | {chunk_s:.2f} | {n} | {per:.2f} s/50k rows |")


if __name__ == "__main__":
    main()
