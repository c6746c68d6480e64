#!/usr/bin/env Rscript
# Reference values for shine's crossed mixed models at scale, from lme4 and lmerTest on
# lme4's InstEval (lecture evaluations: 73,421 ratings, crossed students `s`, lecturers
# `d` and `dept:service` cells).
#
# Run from the repository root:
#     Rscript tests/reference/lmm/insteval_reference.R
#
# Writes, in tests/reference/lmm/:
#   insteval_crossed.csv / .json  the ratings of the first 1,000 students (about 25,000
#                                 rows; more lecturers than the size at which shine's
#                                 blocked factorisation starts), read by the CI test;
#   insteval.json                 the whole data set (not stored as CSV; the bench script
#                                 benches/lmm_scale/run.sh writes it from R), read by
#                                 the ignored test `insteval_full_agrees_with_lme4`.
# Model: y ~ service + (1 | s) + (1 | d) + (1 | dept:service), REML, `service` as 0/1.
#
# Both fits are pushed to convergence with BOBYQA (minqa) from a small trust region to a
# tiny one: lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 2e-3, rhoend =
# 1e-12)). lme4's default stops about 1e-5 short of the optimum here; `default_control`
# records how far. Satterthwaite df from lmerTest (numDeriv Hessian of the deviance).

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
})
source(file.path("tests", "reference", "common", "json.R"))

OUT <- file.path("tests", "reference", "lmm")
stopifnot(dir.exists(OUT))
VERSIONS <- versions_block(c("lme4", "lmerTest", "Matrix", "numDeriv", "minqa"))
CONVERGED <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12))
CONVERGED_CALL <- "lmerControl(optimizer = \"bobyqa\", optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12))"
FORMULA <- y ~ service + (1 | s) + (1 | d) + (1 | dept:service)

rows_of <- function(m) unname(lapply(seq_len(nrow(m)), function(i) I(as.numeric(m[i, ]))))

fixed_table <- function(m) {
  ct <- summary(m)$coefficients
  est <- ct[, "Estimate"]; se <- ct[, "Std. Error"]; df <- ct[, "df"]
  q <- qt(0.975, df)
  list(term = I(rownames(ct)), estimate = I(unname(est)), std_error = I(unname(se)),
       df = I(unname(df)), statistic = I(unname(ct[, "t value"])),
       p_value = I(unname(ct[, "Pr(>|t|)"])),
       conf_low = I(unname(est - q * se)), conf_high = I(unname(est + q * se)))
}

varcorr_table <- function(m) {
  vc <- as.data.frame(VarCorr(m))
  list(grp = I(vc$grp), var1 = I(ifelse(is.na(vc$var1), NA_character_, vc$var1)),
       var2 = I(ifelse(is.na(vc$var2), NA_character_, vc$var2)),
       vcov = I(vc$vcov), sdcor = I(vc$sdcor))
}

ratings <- function(d) {
  data.frame(y = d$y, service = as.numeric(as.character(d$service)),
             s = as.character(d$s), d = as.character(d$d), dept = as.character(d$dept))
}

fit_case <- function(name, description, data, data_file) {
  t_fit <- system.time(res <- with_warnings(
    lmerTest::lmer(FORMULA, data = data, REML = TRUE, control = CONVERGED)))
  m <- res$value
  dflt <- suppressWarnings(suppressMessages(lmerTest::lmer(FORMULA, data = data, REML = TRUE)))
  ll <- logLik(m)
  out <- list(
    description = description,
    r_call = sprintf("lmerTest::lmer(%s, data = %s, REML = TRUE, control = CONVERGED)",
                     deparse(FORMULA, width.cutoff = 500L), data_file),
    control = CONVERGED_CALL,
    script = "tests/reference/lmm/insteval_reference.R",
    versions = VERSIONS,
    formula = paste(deparse(FORMULA, width.cutoff = 500L), collapse = ""),
    data_file = data_file,
    method = "REML",
    warnings = I(res$warnings),
    optimizer_message = if (is.null(m@optinfo$message)) "" else m@optinfo$message,
    n_obs = nobs(m),
    n_groups = as.list(ngrps(m)),
    fixed_effects = fixed_table(m),
    vcov = rows_of(as.matrix(vcov(m))),
    theta = I(unname(getME(m, "theta"))),
    theta_names = I(names(getME(m, "theta"))),
    sigma = sigma(m),
    varcorr = varcorr_table(m),
    log_likelihood = as.numeric(ll),
    loglik_df = attr(ll, "df"),
    reml_criterion = REMLcrit(m),
    aic = AIC(m),
    bic = BIC(m),
    singular = isSingular(m, tol = 1e-4),
    vcov_varpar = rows_of(m@vcov_varpar),
    contrasts = list(),
    default_control = list(
      note = "lmerTest::lmer with lme4's default lmerControl(); for judging tolerances",
      theta = I(unname(getME(dflt, "theta"))),
      log_likelihood = as.numeric(logLik(dflt)),
      estimate = I(unname(fixef(dflt))),
      df = I(unname(summary(dflt)$coefficients[, "df"]))))
  write_json_file(out, file.path(OUT, paste0(name, ".json")))
  cat(sprintf("%s: %d rows, converged fit %.1f s\n", name, nobs(m), t_fit[["elapsed"]]))
  invisible(m)
}

data(InstEval, package = "lme4")
all_ratings <- ratings(InstEval)
subset <- all_ratings[as.integer(all_ratings$s) <= 1000, ]
rownames(subset) <- NULL
utils::write.csv(subset, file.path(OUT, "insteval_crossed.csv"), row.names = FALSE,
                 quote = FALSE, eol = "\n")

fit_case("insteval_crossed",
         "lme4::InstEval, students 1-1000: crossed students, lecturers and dept:service, REML",
         subset, "tests/reference/lmm/insteval_crossed.csv")
fit_case("insteval",
         "lme4::InstEval (all 73,421 ratings): crossed students, lecturers and dept:service, REML",
         all_ratings, "insteval.csv (written by benches/lmm_scale/run.sh)")
