"""Reference values for shine's Stata writer: every value of every file under
tests/reference/dta_write/files/, as pandas.read_stata reads it.

Run from the repository root:
    python3 tests/reference/dta_write/read_with_pandas.py
Writes tests/reference/dta_write/values_pandas/<file>.json in the layout of
read_with_haven.R: doubles with 17 significant digits, dates as YYYY-MM-DD,
date-times as whole milliseconds since 1970-01-01T00:00:00, text as read, null
for missing.
"""

import json
import os

import pandas as pd

FILES = "tests/reference/dta_write/files"
OUT = "tests/reference/dta_write/values_pandas"


def column(reader_types, name, series):
    missing = series.isna()
    if pd.api.types.is_datetime64_any_dtype(series):
        if reader_types[name] == "date":
            values = [None if m else v.strftime("%Y-%m-%d") for v, m in zip(series, missing)]
        else:
            millis = series.astype("datetime64[ms]").astype("int64")
            values = [None if m else str(int(v)) for v, m in zip(millis, missing)]
        kind = reader_types[name]
    elif pd.api.types.is_numeric_dtype(series):
        values = [None if m else "%.17g" % float(v) for v, m in zip(series, missing)]
        kind = "double"
    else:
        values = [None if m else str(v) for v, m in zip(series, missing)]
        kind = "string"
    return {"name": name, "type": kind, "values": values}


def main():
    os.makedirs(OUT, exist_ok=True)
    for file in sorted(f for f in os.listdir(FILES) if f.endswith(".dta")):
        path = os.path.join(FILES, file)
        with pd.io.stata.StataReader(path) as reader:
            data = reader.read()
            # The display formats tell a date (%td) from a date-time (%tc); pandas reads
            # both as datetime64 and keeps the formats in the reader (pandas 3.1).
            formats = dict(zip(reader._varlist, reader._fmtlist))
        kinds = {
            name: ("date" if fmt.startswith("%td") else "datetime" if fmt.startswith("%tc") else None)
            for name, fmt in formats.items()
        }
        record = {
            "file": file,
            "reader": "pandas " + pd.__version__,
            "rows": int(len(data)),
            "columns": [column(kinds, name, data[name]) for name in data.columns],
        }
        target = os.path.join(OUT, file[: -len(".dta")] + ".json")
        with open(target, "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
            out.write("\n")


if __name__ == "__main__":
    main()
