"""Reference values for the SAS fixtures with deleted rows, as pyreadstat reads them.

haven 2.5.1 (the R haven of these references) predates ReadStat's handling of rows SAS
marks as deleted and returns them as if they were live; pyreadstat, on a newer ReadStat,
skips them, as SAS does. The values of these files therefore come from pyreadstat, in the
format of read_with_haven.R (which leaves these files out).

Run from the repository root:
    python3 tests/reference/sas7bdat/read_deleted_with_pyreadstat.py
"""
import json
import math

import pyreadstat

FILES = ["parso/all_rand_normal_with_deleted", "parso/data_page_with_deleted"]

for name in FILES:
    frame, meta = pyreadstat.read_sas7bdat(f"tests/fixtures/sas7bdat/{name}.sas7bdat")
    columns = []
    for column in frame.columns:
        values = frame[column].tolist()
        if meta.readstat_variable_types[column] == "string":
            kind, text = "string", [v for v in values]
        else:
            # These files hold plain numbers only (no date formats).
            kind = "double"
            text = [None if v is None or math.isnan(v) else repr(float(v)) for v in values]
        columns.append({"name": column, "type": kind, "values": text})
    record = {
        "file": f"{name}.sas7bdat",
        "pyreadstat": pyreadstat.__version__,
        "rows": len(frame),
        "columns": columns,
    }
    out = f"tests/reference/sas7bdat/values/{name.replace('/', '__')}.json"
    with open(out, "w", encoding="utf-8") as f:
        json.dump(record, f, ensure_ascii=False)
