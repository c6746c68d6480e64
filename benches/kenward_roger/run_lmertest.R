# lmerTest's Kenward-Roger summary (pbkrtest::vcovAdj underneath), REML, as shine runs it.
#   Rscript run_lmertest.R DATA.csv
suppressPackageStartupMessages(library(lmerTest))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1], stringsAsFactors = TRUE)
m <- lmer(y ~ t * group + (t | id), data = d, REML = TRUE)
print(summary(m, ddf = "Kenward-Roger")$coefficients)
