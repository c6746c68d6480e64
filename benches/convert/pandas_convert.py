"""The pandas way: read_sas, then to_parquet (pyarrow).

    python3 benches/convert/pandas_convert.py IN.sas7bdat OUT.parquet
"""
import sys

import pandas as pd

frame = pd.read_sas(sys.argv[1], encoding="latin-1")
frame.to_parquet(sys.argv[2], index=False)
