"""Times pyfixest on the 5,000,000-row panel of fixest.rs's ignored benchmark test
`five_million_rows_two_fixed_effects` (250,000 units x 20 periods, two fixed
effects, CRV1 by unit), for the side-by-side comparison of issue 4.

    FIXEST_BENCH_CSV=/tmp/panel5m.csv cargo test --release --lib \
        fixest::tests::five_million -- --ignored --nocapture
    python3 tests/reference/fixest/bench_pyfixest.py /tmp/panel5m.csv

Reading the CSV is not timed; each fit is (wall clock and CPU of all threads).
"""
import resource
import sys
import time
import warnings

import pandas as pd
import pyfixest as pf

warnings.simplefilter("ignore")
df = pd.read_csv(sys.argv[1])
print(f"rows {len(df)}", flush=True)
for name, fun, fml in [
    ("feols", pf.feols, "y ~ treated_post | unit + period"),
    ("fepois", pf.fepois, "count ~ treated_post | unit + period"),
]:
    wall, cpu = time.perf_counter(), time.process_time()
    m = fun(fml, df, vcov={"CRV1": "unit"})
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{name}: {wall:.2f} s ({cpu:.2f} s CPU); estimate {m.coef().iloc[0]:.6f} "
        f"(se {m.se().iloc[0]:.6f}); n_obs {m._N}",
        flush=True,
    )
print(f"peak RSS of the process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
