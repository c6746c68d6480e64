#!/usr/bin/env Rscript
# Reference values for shine's linear mixed models (src/stats/lmm.rs), from lme4 and
# lmerTest.
#
# Run from the repository root:
#     Rscript tests/reference/lmm/lmm_reference.R
#
# Writes, in tests/reference/lmm/: one CSV per data set (the columns the formulas use,
# factors as text whose sorted byte order equals the R level order, so that shine's
# treatment contrasts name the coefficients as R does) and one JSON per model.
#
# Every model is fitted with lmerTest::lmer (lme4 1.1-31 underneath) with the
# optimizer tolerances TIGHTENED: the default control (nloptwrap BOBYQA with
# xtol_abs = ftol_abs = 1e-8) stops about 1e-5 (relative) away from the optimum in
# theta, which moves the Satterthwaite df in the 5th digit. The tight fit is the
# reference; `default_control` in each file records how far lme4's default fit is from
# it (theta, logLik, df), so the test tolerances can be judged against it.
#
# Stored per model: fixed effects (estimate, SE, Satterthwaite df, t, p and
# estimate +- qt(0.975, df) * SE), vcov(beta), theta, sigma, as.data.frame(VarCorr),
# logLik and its df, REMLcrit or deviance, AIC, BIC, nobs, ngrps, isSingular,
# lmerTest's vcov_varpar (2 * pseudo-inverse of the numDeriv Hessian of the deviance in
# (theta, sigma)), and single-contrast tests by lmerTest::contest1D (confint = TRUE).
# lrt_*.json: anova() between two ML fits.
#
# Reruns give byte-identical files except penicillin_crossed.json: lme4's crossed fit
# alternates between two end points of the optimiser about 8e-8 apart in theta (and
# 1e-8 in the estimates), from run to run, also with single-threaded reference BLAS.
# Both are well within the tests' tolerances.
#
# Data: lme4's sleepstudy, Pastes, Penicillin, Dyestuff2; nlme's Orthodont; a
# simulated survey panel (seed below) shaped like shine's use: a loneliness score at
# waves 0/3/9 with missing waves, group x factor(wave), persons nested in practices;
# and simulated random-intercept data fitted with a random slope (a singular fit).

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(nlme)
})
source(file.path("tests", "reference", "common", "json.R"))

OUT <- file.path("tests", "reference", "lmm")
stopifnot(dir.exists(OUT))
VERSIONS <- versions_block(c("lme4", "lmerTest", "Matrix", "numDeriv", "nloptr"))
TIGHT <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15,
                                    xtol_rel = 1e-14, ftol_rel = 1e-15,
                                    maxeval = 100000))
TIGHT_CALL <- paste("lmerControl(optimizer = \"nloptwrap\", optCtrl = list(xtol_abs = 1e-14,",
                    "ftol_abs = 1e-15, xtol_rel = 1e-14, ftol_rel = 1e-15, maxeval = 1e5))")

write_csv <- function(df, name) {
  path <- file.path(OUT, name)
  for (j in seq_along(df)) if (is.factor(df[[j]])) df[[j]] <- as.character(df[[j]])
  utils::write.csv(df, path, row.names = FALSE, quote = FALSE, eol = "\n")
  path
}

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

contrast_entry <- function(m, name, L) {
  ct <- contest1D(m, L, confint = TRUE)
  list(name = name, L = I(as.numeric(L)), estimate = ct$Estimate,
       std_error = ct[["Std. Error"]], df = ct$df, statistic = ct[["t value"]],
       p_value = ct[["Pr(>|t|)"]], conf_low = ct$lower, conf_high = ct$upper)
}

fit_case <- function(name, description, formula, data, data_file, reml = TRUE,
                     contrasts = list()) {
  res <- with_warnings(lmerTest::lmer(formula, data = data, REML = reml, control = TIGHT))
  m <- res$value
  dflt <- suppressWarnings(suppressMessages(
    lmerTest::lmer(formula, data = data, REML = reml)))
  ll <- logLik(m)
  vcv <- as.matrix(vcov(m))
  out <- list(
    description = description,
    r_call = sprintf("lmerTest::lmer(%s, data = %s, REML = %s, control = TIGHT)",
                     deparse(formula, width.cutoff = 500L), data_file, reml),
    control = TIGHT_CALL,
    script = "tests/reference/lmm/lmm_reference.R",
    versions = VERSIONS,
    formula = paste(deparse(formula, width.cutoff = 500L), collapse = ""),
    data_file = data_file,
    method = if (reml) "REML" else "ML",
    warnings = I(res$warnings),
    optimizer_message = m@optinfo$message,
    n_obs = nobs(m),
    n_groups = as.list(ngrps(m)),
    fixed_effects = fixed_table(m),
    vcov = rows_of(vcv),
    theta = I(unname(getME(m, "theta"))),
    theta_names = I(names(getME(m, "theta"))),
    sigma = sigma(m),
    varcorr = varcorr_table(m),
    log_likelihood = as.numeric(ll),
    loglik_df = attr(ll, "df"),
    reml_criterion = if (reml) REMLcrit(m) else NULL,
    deviance = if (reml) NULL else deviance(m),
    aic = AIC(m),
    bic = BIC(m),
    singular = isSingular(m, tol = 1e-4),
    vcov_varpar = rows_of(m@vcov_varpar),
    contrasts = unname(lapply(names(contrasts), function(k)
      contrast_entry(m, k, contrasts[[k]]))),
    default_control = list(
      note = "lmerTest::lmer with lme4's default lmerControl(); for judging tolerances",
      theta = I(unname(getME(dflt, "theta"))),
      log_likelihood = as.numeric(logLik(dflt)),
      estimate = I(unname(fixef(dflt))),
      df = I(unname(summary(dflt)$coefficients[, "df"])))
  )
  write_json_file(out, file.path(OUT, paste0(name, ".json")))
  invisible(m)
}

# ---------------------------------------------------------------------------------------
# Data sets

sleep <- lme4::sleepstudy[, c("Reaction", "Days", "Subject")]
sleep$Subject <- as.character(sleep$Subject)
write_csv(sleep, "sleepstudy.csv")

pastes <- lme4::Pastes[, c("strength", "batch", "cask")]
write_csv(pastes, "pastes.csv")

pen <- lme4::Penicillin[, c("diameter", "plate", "sample")]
write_csv(pen, "penicillin.csv")

dye2 <- lme4::Dyestuff2[, c("Yield", "Batch")]
write_csv(dye2, "dyestuff2.csv")

ortho <- data.frame(distance = nlme::Orthodont$distance, age = nlme::Orthodont$age,
                    Subject = as.character(nlme::Orthodont$Subject),
                    Sex = as.character(nlme::Orthodont$Sex))
write_csv(ortho, "orthodont.csv")

# Simulated survey panel: 60 persons in 8 practices, waves 0, 3, 9, about 20 % of the
# follow-up waves missing; true group x wave effects known.
set.seed(20240605)
n_person <- 60
person <- data.frame(person_id = sprintf("p%02d", seq_len(n_person)),
                     practice_id = sprintf("gp%d", sample(1:8, n_person, replace = TRUE)),
                     group = rep(c("comparison", "referred"), length.out = n_person),
                     age = round(runif(n_person, 25, 80)))
panel <- merge(person, data.frame(wave = c(0, 3, 9)))
panel <- panel[order(panel$person_id, panel$wave), ]
keep <- panel$wave == 0 | runif(nrow(panel)) > 0.2
panel <- panel[keep, ]
b_person <- rnorm(n_person, 0, 1.0); names(b_person) <- person$person_id
b_practice <- rnorm(8, 0, 0.5); names(b_practice) <- sprintf("gp%d", 1:8)
eff <- ifelse(panel$group == "referred", c(`0` = 0, `3` = -0.8, `9` = -1.2)[as.character(panel$wave)], 0)
panel$score <- round(6 + 0.01 * (panel$age - 50) + 0.1 * (panel$wave > 0) + eff +
                     b_person[panel$person_id] + b_practice[panel$practice_id] +
                     rnorm(nrow(panel), 0, 0.8), 3)
panel <- panel[, c("score", "person_id", "practice_id", "group", "wave", "age")]
rownames(panel) <- NULL
write_csv(panel, "survey_panel.csv")

# Random intercepts only, fitted with a correlated random slope: a boundary fit in a
# 3-parameter theta (lme4 reports it as singular).
set.seed(5)
n_subj <- 30
slopes <- data.frame(id = rep(sprintf("s%02d", seq_len(n_subj)), each = 5), t = rep(0:4, n_subj))
slopes$y <- round(10 + 0.3 * slopes$t + rep(rnorm(n_subj, 0, 1.5), each = 5) +
                  rnorm(nrow(slopes), 0, 1), 3)
slopes <- slopes[, c("y", "t", "id")]
write_csv(slopes, "singular_slope.csv")

# ---------------------------------------------------------------------------------------
# Models

fit_case("sleepstudy_reml", "lme4::sleepstudy, correlated random intercept and slope, REML",
         Reaction ~ Days + (Days | Subject), sleep, "tests/reference/lmm/sleepstudy.csv",
         contrasts = list(mean_day5 = c(1, 5), slope = c(0, 1), mean_day0 = c(1, 0)))
fit_case("sleepstudy_ml", "lme4::sleepstudy, correlated random intercept and slope, ML",
         Reaction ~ Days + (Days | Subject), sleep, "tests/reference/lmm/sleepstudy.csv",
         reml = FALSE, contrasts = list(mean_day5 = c(1, 5)))
fit_case("sleepstudy_uncorrelated", "lme4::sleepstudy, (Days || Subject), REML",
         Reaction ~ Days + (Days || Subject), sleep, "tests/reference/lmm/sleepstudy.csv",
         contrasts = list(mean_day5 = c(1, 5)))
fit_case("sleepstudy_intercept_ml", "lme4::sleepstudy, random intercept only, ML",
         Reaction ~ Days + (1 | Subject), sleep, "tests/reference/lmm/sleepstudy.csv",
         reml = FALSE)
fit_case("pastes_nested", "lme4::Pastes, casks nested in batches, REML",
         strength ~ 1 + (1 | batch/cask), pastes, "tests/reference/lmm/pastes.csv")
fit_case("penicillin_crossed", "lme4::Penicillin, crossed plate and sample, REML",
         diameter ~ 1 + (1 | plate) + (1 | sample), pen, "tests/reference/lmm/penicillin.csv")
fit_case("dyestuff2_singular", "lme4::Dyestuff2, singular fit (between-batch variance 0), REML",
         Yield ~ 1 + (1 | Batch), dye2, "tests/reference/lmm/dyestuff2.csv")
fit_case("orthodont_intercept", "nlme::Orthodont, factor-by-numeric age * Sex, random intercept, REML",
         distance ~ age * Sex + (1 | Subject), ortho, "tests/reference/lmm/orthodont.csv",
         contrasts = list(male_minus_female_age14 = c(0, 0, 1, 14),
                          female_mean_age11 = c(1, 11, 0, 0)))
fit_case("orthodont_slope", "nlme::Orthodont, age * Sex with correlated (age | Subject), REML",
         distance ~ age * Sex + (age | Subject), ortho, "tests/reference/lmm/orthodont.csv",
         contrasts = list(male_minus_female_age14 = c(0, 0, 1, 14),
                          slope_difference = c(0, 0, 0, 1)))
fit_case("orthodont_slope_ml", "nlme::Orthodont, age * Sex with correlated (age | Subject), ML",
         distance ~ age * Sex + (age | Subject), ortho, "tests/reference/lmm/orthodont.csv",
         reml = FALSE)
fit_case("singular_slope", "simulated: no slope variance, fitted with (t | id): singular, REML",
         y ~ t + (t | id), slopes, "tests/reference/lmm/singular_slope.csv",
         contrasts = list(mean_t2 = c(1, 2)))
# Coefficients: (Intercept), groupreferred, factor(wave)3, factor(wave)9, age,
# groupreferred:factor(wave)3, groupreferred:factor(wave)9.
fit_case("survey_panel", "simulated survey panel, group * factor(wave) + age, persons in practices, REML",
         score ~ group * factor(wave) + age + (1 | person_id) + (1 | practice_id), panel,
         "tests/reference/lmm/survey_panel.csv",
         contrasts = list(change_wave3_referred = c(0, 0, 1, 0, 0, 1, 0),
                          change_wave9_referred = c(0, 0, 0, 1, 0, 0, 1),
                          did_wave9 = c(0, 0, 0, 0, 0, 0, 1),
                          mean_wave9_comparison_age50 = c(1, 0, 0, 1, 50, 0, 0)))

# ---------------------------------------------------------------------------------------
# Likelihood-ratio tests between ML fits, as anova(m0, m1)

lrt_case <- function(name, description, f0, f1, data, data_file) {
  m0 <- lme4::lmer(f0, data = data, REML = FALSE, control = TIGHT)
  m1 <- lme4::lmer(f1, data = data, REML = FALSE, control = TIGHT)
  a <- anova(m0, m1)
  out <- list(
    description = description,
    r_call = "anova(m0, m1) with m0, m1 <- lme4::lmer(f, data, REML = FALSE, control = TIGHT)",
    control = TIGHT_CALL,
    script = "tests/reference/lmm/lmm_reference.R",
    versions = VERSIONS,
    data_file = data_file,
    formula0 = paste(deparse(f0, width.cutoff = 500L), collapse = ""),
    formula1 = paste(deparse(f1, width.cutoff = 500L), collapse = ""),
    npar = I(a$npar), log_likelihood = I(a$logLik), deviance = I(a$deviance),
    aic = I(a$AIC), bic = I(a$BIC),
    chisq = a$Chisq[2], df = a$Df[2], p_value = a[["Pr(>Chisq)"]][2])
  write_json_file(out, file.path(OUT, paste0(name, ".json")))
}

lrt_case("lrt_sleepstudy_days", "sleepstudy: does Days matter (random slope kept)?",
         Reaction ~ 1 + (Days | Subject), Reaction ~ Days + (Days | Subject), sleep,
         "tests/reference/lmm/sleepstudy.csv")
lrt_case("lrt_sleepstudy_slope", "sleepstudy: random intercept vs correlated intercept and slope",
         Reaction ~ Days + (1 | Subject), Reaction ~ Days + (Days | Subject), sleep,
         "tests/reference/lmm/sleepstudy.csv")
