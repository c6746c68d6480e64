#!/usr/bin/env Rscript
# Timing of lme4::lmer (and lmerTest's Satterthwaite summary) for issue 5's target:
# y ~ t + (1 + t | id) on 100 000 subjects x 4 observations.
#
# The data are written by shine's timing test (not stored in the repository):
#     SHINE_LMM_BENCH_CSV=/tmp/lmm_bench.csv \
#         cargo test --release --lib lmm_large_random_slopes_timing -- --ignored --nocapture
#     Rscript tests/reference/lmm/bench_lmer.R /tmp/lmm_bench.csv
#
# Reading the CSV is not timed. Prints elapsed seconds, the REML criterion, theta and the
# fixed effects, so the two fits can be compared.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
})
args <- commandArgs(trailingOnly = TRUE)
path <- if (length(args) >= 1) args[1] else "/tmp/lmm_bench.csv"
d <- read.csv(path)
d$id <- factor(d$id)
cat(sprintf("n = %d rows, %d subjects\n", nrow(d), nlevels(d$id)))

gc()
t_lme4 <- system.time(m <- lme4::lmer(y ~ t + (1 + t | id), data = d))
cat(sprintf("lme4::lmer: %.3f s elapsed (%.3f s user), %d evaluations\n",
            t_lme4[["elapsed"]], t_lme4[["user.self"]], m@optinfo$feval))
cat(sprintf("REML %.6f\ntheta %s\nbeta %s\n", REMLcrit(m),
            paste(format(getME(m, "theta"), digits = 10), collapse = " "),
            paste(format(fixef(m), digits = 12), collapse = " ")))

gc()
t_lt <- system.time({
  mt <- lmerTest::lmer(y ~ t + (1 + t | id), data = d)
  s <- summary(mt)
})
cat(sprintf("lmerTest::lmer + summary (Satterthwaite): %.3f s elapsed\n", t_lt[["elapsed"]]))
cat(sprintf("df %s\n", paste(format(s$coefficients[, "df"], digits = 10), collapse = " ")))
mem <- gc()
cat(sprintf("R max used memory (Mb): %.1f\n", sum(mem[, ncol(mem)])))
