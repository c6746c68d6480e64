#!/usr/bin/env Rscript
# Kenward-Roger reference values for `shine mixed --df kenward-roger`
# (src/stats/lmm/kenward_roger.rs), from lmerTest and pbkrtest.
#
# Run from the repository root:
#     Rscript tests/reference/lmm/kr/kr_reference.R
#
# Every model is a REML fit by lmerTest::lmer (lme4 underneath) PUSHED TO CONVERGENCE:
#     lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12))
# lme4's default control stops about 1e-5 (relative) short of the optimum in theta, which
# moves the Kenward-Roger df in the 4th-5th digit; the tight fit is the reference.
#
# Stored per model (one JSON each, in this folder):
#   - fixed_effects: summary(m, ddf = "Kenward-Roger")$coefficients (estimate, adjusted SE,
#     KR df, t, p) and estimate -/+ qt(0.975, df) * SE;
#   - vcov_adjusted: pbkrtest::vcovAdj(m) (the adjusted covariance Phi_A), vcov: vcov(m);
#   - contrasts: lmerTest::contest1D(m, L, ddf = "Kenward-Roger", confint = TRUE) and
#     pbkrtest::Lb_ddf(L, vcov(m), vcovAdj(m)) for each L;
#   - theta, sigma, REMLcrit, so that a test can tell a fit difference from a KR one.
#
# Data sets: the CSVs one folder up (lme4's sleepstudy, Pastes, Penicillin; nlme's
# Orthodont; the simulated survey panel of lmm_reference.R) and sleepstudy_unbalanced.csv
# written here: sleepstudy with 30 rows removed at random and 12 responses set to NA
# (seed below), so that subjects have 5-10 observations.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(pbkrtest)
})
source(file.path("tests", "reference", "common", "json.R"))

OUT <- file.path("tests", "reference", "lmm", "kr")
LMM <- file.path("tests", "reference", "lmm")
stopifnot(dir.exists(OUT))
VERSIONS <- versions_block(c("lme4", "lmerTest", "pbkrtest", "Matrix"))
TIGHT <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12))
TIGHT_CALL <- "lmerControl(optimizer = \"bobyqa\", optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12))"

read_data <- function(path) {
  d <- utils::read.csv(path, stringsAsFactors = FALSE, na.strings = "NA")
  for (j in seq_along(d)) if (is.character(d[[j]])) d[[j]] <- factor(d[[j]])
  d
}

rows_of <- function(m) unname(lapply(seq_len(nrow(m)), function(i) I(as.numeric(m[i, ]))))

fixed_table <- function(m) {
  ct <- summary(m, ddf = "Kenward-Roger")$coefficients
  est <- ct[, "Estimate"]; se <- ct[, "Std. Error"]; df <- ct[, "df"]
  q <- qt(0.975, df)
  list(term = I(rownames(ct)), estimate = I(unname(est)), std_error = I(unname(se)),
       df = I(unname(df)), statistic = I(unname(ct[, "t value"])),
       p_value = I(unname(ct[, "Pr(>|t|)"])),
       conf_low = I(unname(est - q * se)), conf_high = I(unname(est + q * se)))
}

contrast_entry <- function(m, vadj, name, L) {
  ct <- contest1D(m, L, ddf = "Kenward-Roger", confint = TRUE)
  list(name = name, L = I(as.numeric(L)), estimate = ct$Estimate,
       std_error = ct[["Std. Error"]], df = ct$df, statistic = ct[["t value"]],
       p_value = ct[["Pr(>|t|)"]], conf_low = ct$lower, conf_high = ct$upper,
       pbkrtest_ddf = pbkrtest::Lb_ddf(matrix(L, nrow = 1), vcov(m), vadj))
}

kr_case <- function(name, description, formula, data_file, contrasts = list()) {
  data <- read_data(data_file)
  res <- with_warnings(lmerTest::lmer(formula, data = data, REML = TRUE, control = TIGHT))
  m <- res$value
  vadj <- pbkrtest::vcovAdj(m)
  # lmerTest's KR SEs are pbkrtest's: check before storing.
  stopifnot(isTRUE(all.equal(unname(sqrt(diag(as.matrix(vadj)))),
                             unname(summary(m, ddf = "Kenward-Roger")$coefficients[, 2]))))
  out <- list(
    description = description,
    r_call = sprintf("lmerTest::lmer(%s, data = read.csv(\"%s\"), REML = TRUE, control = TIGHT); summary(m, ddf = \"Kenward-Roger\"); pbkrtest::vcovAdj(m)",
                     paste(deparse(formula, width.cutoff = 500L), collapse = ""), data_file),
    control = TIGHT_CALL,
    script = "tests/reference/lmm/kr/kr_reference.R",
    versions = VERSIONS,
    formula = paste(deparse(formula, width.cutoff = 500L), collapse = ""),
    data_file = data_file,
    method = "REML",
    warnings = I(res$warnings),
    n_obs = nobs(m),
    theta = I(unname(getME(m, "theta"))),
    sigma = sigma(m),
    reml_criterion = REMLcrit(m),
    fixed_effects = fixed_table(m),
    vcov = rows_of(as.matrix(vcov(m))),
    vcov_adjusted = rows_of(as.matrix(vadj)),
    contrasts = unname(lapply(names(contrasts), function(k)
      contrast_entry(m, vadj, k, contrasts[[k]])))
  )
  write_json_file(out, file.path(OUT, paste0(name, ".json")))
  invisible(m)
}

# Unbalanced sleepstudy with missing responses.
set.seed(20261203)
sleep <- utils::read.csv(file.path(LMM, "sleepstudy.csv"), stringsAsFactors = FALSE)
sleep <- sleep[sort(sample(nrow(sleep), nrow(sleep) - 30)), ]
sleep$Reaction[sample(nrow(sleep), 12)] <- NA
rownames(sleep) <- NULL
utils::write.csv(sleep, file.path(OUT, "sleepstudy_unbalanced.csv"), row.names = FALSE,
                 quote = FALSE, eol = "\n")

f <- function(x) file.path(LMM, x)
kr_case("kr_sleepstudy_slope", "lme4::sleepstudy, correlated random intercept and slope (balanced)",
        Reaction ~ Days + (Days | Subject), f("sleepstudy.csv"),
        contrasts = list(mean_day5 = c(1, 5), slope = c(0, 1)))
kr_case("kr_sleepstudy_unbalanced", "sleepstudy without 30 random rows and with 12 NA responses, (Days || Subject)",
        Reaction ~ Days + (Days || Subject), file.path(OUT, "sleepstudy_unbalanced.csv"),
        contrasts = list(mean_day5 = c(1, 5)))
kr_case("kr_orthodont_slope", "nlme::Orthodont, age * Sex with a random slope for age",
        distance ~ age * Sex + (age | Subject), f("orthodont.csv"),
        contrasts = list(male_minus_female_age14 = c(0, 0, 1, 14), female_mean_age11 = c(1, 11, 0, 0)))
kr_case("kr_orthodont_intercept", "nlme::Orthodont, age * Sex, random intercept",
        distance ~ age * Sex + (1 | Subject), f("orthodont.csv"),
        contrasts = list(male_minus_female_age14 = c(0, 0, 1, 14)))
kr_case("kr_pastes_nested", "lme4::Pastes, casks nested in batches",
        strength ~ 1 + (1 | batch/cask), f("pastes.csv"))
kr_case("kr_penicillin_crossed", "lme4::Penicillin, crossed plates and samples",
        diameter ~ 1 + (1 | plate) + (1 | sample), f("penicillin.csv"))
# Survey panel: persons crossed with (not nested in) practices in the formula, unbalanced
# (missing follow-up waves). Coefficients: (Intercept), groupreferred, factor(wave)3,
# factor(wave)9, age, groupreferred:factor(wave)3, groupreferred:factor(wave)9.
kr_case("kr_survey_panel", "simulated survey panel, group x wave, persons and practices",
        score ~ group * factor(wave) + age + (1 | person_id) + (1 | practice_id), f("survey_panel.csv"),
        contrasts = list(change_wave3_referred = c(0, 0, 1, 0, 0, 1, 0),
                         change_wave9_referred = c(0, 0, 0, 1, 0, 0, 1),
                         did_wave9 = c(0, 0, 0, 0, 0, 0, 1),
                         mean_wave9_comparison_age50 = c(1, 0, 0, 1, 50, 0, 0)))
