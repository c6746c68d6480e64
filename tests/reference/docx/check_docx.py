"""Reads tables/tables.docx of a results folder with python-docx (an independent .docx
reader) and checks every listed table against its CSV: the same header and rows, text
cells equal, numbers equal to the CSV's rounded to the decimals Word shows; and no count
from 1 to 4 in any cell that the CSV does not also show.

Usage: python3 check_docx.py RESULTS_FOLDER  (prints one line per table, exit 1 on a
difference). Output for the demo: check_docx.out.
"""
import csv
import sys
from pathlib import Path

import docx

NAMES = ["table_one", "balance", "did_rate_ratios", "survey_changes", "sensitivity"]


def number(text):
    try:
        return float(text.replace("\u2212", "-"))
    except ValueError:
        return None


def decimals(text):
    return len(text) - text.index(".") - 1 if "." in text else 0


def main(folder):
    folder = Path(folder)
    document = docx.Document(folder / "tables" / "tables.docx")
    captions = [p.text for p in document.paragraphs if p.text.startswith("Table ")]
    failures = 0
    if len(document.tables) != len(NAMES):
        print(f"expected {len(NAMES)} tables, found {len(document.tables)}")
        return 1
    for i, (name, table) in enumerate(zip(NAMES, document.tables)):
        with open(folder / "tables" / f"{name}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        word = [[c.text for c in r.cells] for r in table.rows]
        numbers = 0
        problems = []
        if len(word) != len(rows):
            problems.append(f"{len(word)} rows in Word, {len(rows)} in the CSV")
        for r, (w_row, c_row) in enumerate(zip(word, rows)):
            if len(w_row) != len(c_row):
                problems.append(f"row {r}: {len(w_row)} cells in Word, {len(c_row)} in the CSV")
                continue
            for w, c in zip(w_row, c_row):
                a, b = number(w), number(c)
                if a is not None and b is not None:
                    numbers += 1
                    if abs(a - b) > 0.5 * 10 ** -decimals(w) * (1 + 1e-9):
                        problems.append(f"row {r}: Word {w!r}, CSV {c!r}")
                elif w != c:
                    problems.append(f"row {r}: Word {w!r}, CSV {c!r}")
                if a is not None and w.isdigit() and 0 < int(w) < 5 and w != c:
                    problems.append(f"row {r}: small count {w!r}")
        failures += len(problems)
        status = "ok" if not problems else "DIFFERENT: " + "; ".join(problems[:5])
        print(f"{captions[i]!r}: {len(word)} rows, {numbers} numbers compared with {name}.csv: {status}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
