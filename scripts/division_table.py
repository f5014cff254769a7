"""Builds console/documents/data/gbt2260.tsv.gz, the national division table, from CSV files.

The input is the public dataset modood/Administrative-divisions-of-China (2023 statistical
division codes of the National Bureau of Statistics, licence WTFPL): provinces.csv (2-digit
codes), cities.csv (4), areas.csv (6) and streets.csv (9). Province and city codes are padded
to the 6-digit GB/T 2260 form (44 → 440000, 4401 → 440100); townships keep 9 digits. The
output is one `code<TAB>name` line per division, sorted, gzip-compressed without a timestamp
so that the same input always gives the same bytes.

    python scripts/division_table.py DATA_DIR [-o console/documents/data/gbt2260.tsv.gz]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "console" / "documents" / "data" / "gbt2260.tsv.gz"
_FILES = (("provinces.csv", "0000"), ("cities.csv", "00"), ("areas.csv", ""), ("streets.csv", ""))


def read_table(folder: Path) -> dict[str, str]:
    """Every division of the dataset in `folder`: 6- or 9-digit code → name."""
    table: dict[str, str] = {}
    for name, pad in _FILES:
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                code = row["code"].strip() + pad
                if len(code) not in (6, 9) or not code.isdigit():
                    raise SystemExit(f"{folder / name}: bad code {row['code']!r}")
                table[code] = row["name"].strip()
    return table


def write_table(table: dict[str, str], output: Path) -> None:
    text = "".join(f"{code}\t{table[code]}\n" for code in sorted(table))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as out:
        out.write(text.encode("utf-8"))
    output.write_bytes(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with provinces/cities/areas/streets.csv")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    table = read_table(args.data)
    write_table(table, args.output)
    print(f"{args.output}: {len(table)} divisions")


if __name__ == "__main__":
    main()
