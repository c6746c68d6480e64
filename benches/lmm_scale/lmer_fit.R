#!/usr/bin/env Rscript
# One whole-process lme4 run for the bench: reads CSV (first argument), fits the REML
# model FORMULA (second argument) with lme4::lmer's default control; with a third
# argument "satterthwaite" fits with lmerTest::lmer and prints summary()'s df too.
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
f <- as.formula(args[2])
if (length(args) >= 3 && args[3] == "satterthwaite") {
  suppressPackageStartupMessages(library(lmerTest))
  m <- lmerTest::lmer(f, data = d)
  print(summary(m)$coefficients)
} else {
  m <- lme4::lmer(f, data = d)
  print(fixef(m))
}
cat(sprintf("REML %.6f\n", REMLcrit(m)))
