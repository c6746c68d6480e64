#!/usr/bin/env Rscript
# Writes the two data sets of the mixed-model scale bench into DIR (first argument):
#   insteval.csv  lme4's InstEval, 73,421 ratings: y, service (0/1), s, d, dept;
#   slopes.csv    100,000 subjects x 4 times: y, t, group, id, simulated (seed below)
#                 with a random intercept and slope per subject.
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) >= 1) args[1] else "."
data(InstEval, package = "lme4")
ie <- data.frame(y = InstEval$y, service = as.numeric(as.character(InstEval$service)),
                 s = as.character(InstEval$s), d = as.character(InstEval$d),
                 dept = as.character(InstEval$dept))
utils::write.csv(ie, file.path(dir, "insteval.csv"), row.names = FALSE, quote = FALSE, eol = "\n")
set.seed(20261203)
n_id <- 100000
id <- rep(seq_len(n_id), each = 4)
t <- rep(0:3, n_id)
group <- rep(seq_len(n_id) %% 2, each = 4)
b0 <- rnorm(n_id, 0, 1)[id]
b1 <- rnorm(n_id, 0, 0.3)[id]
y <- round(10 + 0.5 * t - 0.3 * group + 0.2 * t * group + b0 + b1 * t + rnorm(length(t), 0, 0.8), 4)
utils::write.csv(data.frame(y = y, t = t, group = group, id = sprintf("i%06d", id)),
                 file.path(dir, "slopes.csv"), row.names = FALSE, quote = FALSE, eol = "\n")
