#!/usr/bin/env Rscript
# Times MatchIt's nearest-neighbour matching on a benchmark table from make_data.py.
#
#   Rscript run_matchit.R DATA.csv OUT.json [--pairs PAIRS.csv] [--distance DIST.csv] [--summary]
#
# Reads DATA.csv with data.table::fread (the fastest CSV reader R has here; base
# read.csv when data.table is missing) and times, separately:
#   read     the CSV read
#   matchit  matchit(treat ~ <10 covariates>, method = "nearest", distance = "glm",
#            link = "linear.logit", ratio = 5, caliper = 0.2)   (std.caliper = TRUE)
#   summary  summary(m) — only with --summary (shine's time includes its balance table,
#            MatchIt's matchit() does not)
# and writes the timings, the counts matched and the propensity coefficients to OUT.json.
# --pairs writes the match matrix as (treated id, control id, round) rows;
# --distance writes (id, treat, distance): the linear logit MatchIt matched on.
# Peak memory: run under `/usr/bin/time -v` (Maximum resident set size).

suppressPackageStartupMessages({
  library(MatchIt)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: run_matchit.R DATA.csv OUT.json [--pairs PAIRS.csv] [--distance DIST.csv] [--summary]")
data_path <- args[1]
out_path <- args[2]
pairs_path <- NULL
if ("--pairs" %in% args) pairs_path <- args[which(args == "--pairs") + 1]
dist_path <- NULL
if ("--distance" %in% args) dist_path <- args[which(args == "--distance") + 1]
do_summary <- "--summary" %in% args

f <- treat ~ age + income + prior_visits + bmi + chronic_score + distance_km +
  female + smoker + education + region

t_read <- system.time({
  if (requireNamespace("data.table", quietly = TRUE)) {
    d <- as.data.frame(data.table::fread(data_path, showProgress = FALSE))
    reader <- "data.table::fread"
  } else {
    d <- read.csv(data_path, stringsAsFactors = FALSE)
    reader <- "read.csv"
  }
})[["elapsed"]]

t_match <- system.time({
  m <- matchit(f, data = d, method = "nearest", distance = "glm",
               link = "linear.logit", ratio = 5, caliper = 0.2)
})[["elapsed"]]

t_summary <- NA
if (do_summary) {
  t_summary <- system.time(s <- summary(m))[["elapsed"]]
}

treated <- d$treat == 1
w <- m$weights
mm <- m$match.matrix
co <- coef(m$model)
sd_dist <- sd(m$distance)

res <- list(
  matchit_version = as.character(packageVersion("MatchIt")),
  r_version = R.version.string,
  data = normalizePath(data_path),
  n = nrow(d),
  reader = reader,
  read_seconds = t_read,
  matchit_seconds = t_match,
  read_plus_matchit_seconds = t_read + t_match,
  summary_seconds = t_summary,
  n_treated = sum(treated),
  n_treated_matched = sum(w[treated] > 0),
  n_controls_matched = sum(w[!treated] > 0),
  n_pairs = sum(!is.na(mm)),
  caliper_width = 0.2 * sd_dist,
  glm_iterations = m$model$iter,
  ps_model = lapply(names(co), function(n) list(term = n, estimate = unname(co[[n]])))
)
write_json(res, out_path, auto_unbox = TRUE, digits = NA, pretty = TRUE)

if (!is.null(pairs_path)) {
  ids <- d$id
  tr <- ids[as.integer(rownames(mm))]
  rows <- which(!is.na(mm), arr.ind = TRUE)
  pairs <- data.frame(treated = tr[rows[, 1]],
                      control = ids[as.integer(mm[rows])],
                      round = rows[, 2])
  pairs <- pairs[order(pairs$treated, pairs$round), ]
  write.csv(pairs, pairs_path, row.names = FALSE)
}

if (!is.null(dist_path)) {
  writeLines(c("id,treat,distance",
               sprintf("%s,%d,%.17g", format(d$id, scientific = FALSE, trim = TRUE),
                       as.integer(d$treat), unname(m$distance))),
             dist_path)
}

cat(sprintf("read (%s): %.2f s; matchit: %.2f s; read + matchit: %.2f s%s\n",
            reader, t_read, t_match, t_read + t_match,
            if (do_summary) sprintf("; summary: %.2f s", t_summary) else ""))
cat(sprintf("treated matched: %d of %d; controls matched: %d; caliper width %.4f\n",
            res$n_treated_matched, res$n_treated, res$n_controls_matched, res$caliper_width))
