# Cluster-robust covariance of lmer fixed effects with clubSandwich, the reference for
# src/stats/lmm/robust.rs. Run from this folder (the data are one up):
#   Rscript robust_reference.R
# Writes robust_<name>.json: the fixed effects; vcovCR(fit, type = "CR1"); vcovCR(fit,
# type = "CR2") with coef_test's Satterthwaite df per coefficient; and one linear
# contrast (the sum of all coefficients after the first, or the intercept alone) with
# linear_contrast's CR2 standard error and Satterthwaite df.
suppressPackageStartupMessages({
  library(lme4)
  library(clubSandwich)
  library(jsonlite)
})
cases <- list(
  list(name = "sleepstudy_slope", data = "sleepstudy.csv",
       formula = Reaction ~ Days + (Days | Subject)),
  list(name = "sleepstudy_intercept", data = "sleepstudy.csv",
       formula = Reaction ~ Days + (1 | Subject)),
  list(name = "pastes_nested", data = "pastes.csv",
       formula = strength ~ 1 + (1 | batch/cask)),
  list(name = "survey_panel", data = "survey_panel.csv",
       formula = score ~ group * factor(wave) + age + (1 | practice_id/person_id))
)
for (case in cases) {
  d <- read.csv(file.path("..", case$data), stringsAsFactors = FALSE)
  fit <- lmer(case$formula, data = d, REML = TRUE,
              control = lmerControl(optimizer = "bobyqa",
                                    optCtrl = list(rhobeg = 2e-4, rhoend = 1e-11)))
  v <- as.matrix(vcovCR(fit, type = "CR1"))
  v2 <- vcovCR(fit, type = "CR2")
  tests <- coef_test(fit, vcov = v2, test = "Satterthwaite")
  p <- length(fixef(fit))
  contrast <- matrix(if (p > 1) c(0, rep(1, p - 1)) else 1, nrow = 1)
  lc <- linear_contrast(fit, vcov = v2, contrasts = contrast, test = "Satterthwaite")
  out <- list(
    formula = deparse(case$formula),
    data = case$data,
    terms = colnames(v),
    estimate = unname(fixef(fit)),
    vcov_cr1 = unname(v),
    vcov_cr2 = unname(as.matrix(v2)),
    df_cr2_satterthwaite = unname(tests$df_Satt),
    contrast = as.vector(contrast),
    contrast_cr2 = list(estimate = lc$Est, std_error = lc$SE, df = lc$df),
    clusters = length(unique(attr(vcovCR(fit, type = "CR1"), "cluster"))),
    versions = list(R = as.character(getRversion()),
                    lme4 = as.character(packageVersion("lme4")),
                    clubSandwich = as.character(packageVersion("clubSandwich")))
  )
  write_json(out, paste0("robust_", case$name, ".json"), digits = NA, auto_unbox = TRUE,
             pretty = TRUE)
}
