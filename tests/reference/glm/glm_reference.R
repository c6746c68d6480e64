#!/usr/bin/env Rscript
# Reference values for shine's GLM/IRLS (src/stats/glm.rs), from R's glm().
#
# Run from the repository root:
#     Rscript tests/reference/glm/glm_reference.R
#
# Writes tests/reference/glm/<case>.json, one file per model. Each file holds the
# inputs exactly as glm.fit saw them (the model matrix by columns, y, prior weights,
# offset) and R's results (glm object and summary.glm table), so the Rust tests need
# neither R nor a formula parser. Data: MatchIt::lalonde, MASS::Insurance,
# datasets::mtcars, the budworm data of Venables & Ripley (MASS, 4th ed., sec. 7.2),
# and small simulated sets (seeds below).

suppressPackageStartupMessages({
  library(MASS)
  library(MatchIt)
})
source(file.path("tests", "reference", "common", "json.R"))

OUT <- file.path("tests", "reference", "glm")
stopifnot(dir.exists(OUT))
VERSIONS <- versions_block(c("stats", "MASS", "MatchIt"))
DIGITS_NOTE <- paste("Doubles are written with the shortest of %.15g/%.16g/%.17g",
                     "that round-trips to the identical IEEE double.")

write_case <- function(name, description, r_call, fit_expr, data_source) {
  res <- with_warnings(eval(fit_expr))
  fit <- res$value
  s <- summary(fit)
  X <- model.matrix(fit)
  terms <- colnames(X)
  coefs <- coef(fit)
  tab <- matrix(NA_real_, nrow = length(terms), ncol = 4,
                dimnames = list(terms, NULL))
  ct <- coef(s)
  tab[rownames(ct), ] <- ct
  n <- nrow(X)
  off <- fit$offset
  pw <- fit$prior.weights
  has_weights <- !is.null(fit$call$weights)
  vc <- vcov(fit, complete = FALSE)   # non-aliased coefficients only
  out <- list(
    description = description,
    r_call = r_call,
    data_source = data_source,
    script = "tests/reference/glm/glm_reference.R",
    versions = VERSIONS,
    number_format = DIGITS_NOTE,
    family = fit$family$family,
    link = fit$family$link,
    n = n,
    max_iter = fit$control$maxit,
    epsilon = fit$control$epsilon,
    terms = I(terms),
    x = unname(lapply(seq_len(ncol(X)), function(j) I(as.numeric(X[, j])))),
    y = I(as.numeric(fit$y)),
    weights = if (has_weights) I(as.numeric(pw)) else NULL,
    offset = if (!is.null(off)) I(as.numeric(off)) else NULL,
    estimate = I(as.numeric(coefs)),
    std_error = I(tab[, 2]),
    statistic = I(tab[, 3]),
    p_value = I(tab[, 4]),
    statistic_name = colnames(ct)[3],
    aliased = I(terms[is.na(coefs)]),
    vcov = unname(lapply(seq_len(nrow(vc)), function(i) I(as.numeric(vc[i, ])))),
    dispersion = s$dispersion,
    deviance = fit$deviance,
    null_deviance = fit$null.deviance,
    df_residual = fit$df.residual,
    df_null = fit$df.null,
    rank = fit$rank,
    aic = fit$aic,
    iter = fit$iter,
    converged = fit$converged,
    boundary = fit$boundary,
    fitted = I(as.numeric(fitted(fit))),
    linear_predictor = I(as.numeric(fit$linear.predictors)),
    warnings = I(res$warnings)
  )
  write_json_file(out, file.path(OUT, paste0(name, ".json")))
  cat(name, ": iter", fit$iter, "converged", fit$converged,
      if (length(res$warnings)) paste("warnings:", paste(res$warnings, collapse = "; ")) else "", "\n")
}

# --- lalonde: logistic propensity model -------------------------------------
data("lalonde", package = "MatchIt", envir = environment())
lal <- lalonde
lal$race <- factor(as.character(lal$race))
LALONDE_SRC <- "MatchIt::lalonde (data(\"lalonde\", package = \"MatchIt\")), race as factor with levels black, hispan, white"

write_case("lalonde_logit",
  "Logistic regression (propensity score model) on lalonde.",
  "glm(treat ~ age + educ + race + married + nodegree + re74 + re75, family = binomial, data = lalonde)",
  quote(glm(treat ~ age + educ + race + married + nodegree + re74 + re75,
            family = binomial, data = lal)),
  LALONDE_SRC)

# Collinear column in the middle: age_plus_educ = age + educ is aliased (NA) and
# dqrdc2 moves it to the end; an all-zero column is aliased too.
lal$age_plus_educ <- lal$age + lal$educ
lal$zero <- 0
write_case("lalonde_logit_collinear",
  "Logistic regression with an exactly collinear column (age + educ) and an all-zero column, both aliased (NA) in R.",
  "glm(treat ~ age + educ + age_plus_educ + race + zero + married + re74, family = binomial, data = lalonde)",
  quote(glm(treat ~ age + educ + age_plus_educ + race + zero + married + re74,
            family = binomial, data = lal)),
  paste(LALONDE_SRC, "; age_plus_educ = age + educ; zero = 0"))

# Zero and unequal prior weights in a Bernoulli model.
lal$w <- rep_len(c(0, 1, 2, 3), nrow(lal))
write_case("lalonde_logit_weights",
  "Logistic regression with prior weights rep_len(c(0, 1, 2, 3), n) (zero weights drop rows from df and AIC).",
  "glm(treat ~ age + educ + race + married + nodegree + re74 + re75, family = binomial, data = lalonde, weights = w)",
  quote(glm(treat ~ age + educ + race + married + nodegree + re74 + re75,
            family = binomial, data = lal, weights = w)),
  paste(LALONDE_SRC, "; w = rep_len(c(0, 1, 2, 3), 614)"))

# Stopped early: maxit = 3 (converged = FALSE), same iterates as R.
write_case("lalonde_logit_maxit3",
  "Logistic regression stopped after 3 IRLS iterations (not converged).",
  "glm(treat ~ age + educ + race + married + nodegree + re74 + re75, family = binomial, data = lalonde, control = glm.control(maxit = 3))",
  quote(glm(treat ~ age + educ + race + married + nodegree + re74 + re75,
            family = binomial, data = lal, control = glm.control(maxit = 3))),
  LALONDE_SRC)

# Gaussian (identity) model on lalonde earnings.
write_case("lalonde_gaussian",
  "Linear model by glm (gaussian, identity) of 1978 earnings.",
  "glm(re78 ~ treat + age + educ + race + married + nodegree + re74 + re75, family = gaussian, data = lalonde)",
  quote(glm(re78 ~ treat + age + educ + race + married + nodegree + re74 + re75,
            family = gaussian, data = lal)),
  LALONDE_SRC)

# --- MASS::Insurance: Poisson rate model with offset ------------------------
ins <- Insurance
ins$Group <- factor(ins$Group, ordered = FALSE)
ins$Age <- factor(ins$Age, ordered = FALSE)
INS_SRC <- "MASS::Insurance, Group and Age converted to unordered factors (treatment contrasts)"
write_case("insurance_poisson_offset",
  "Poisson regression of claims with offset log(Holders).",
  "glm(Claims ~ District + Group + Age + offset(log(Holders)), family = poisson, data = Insurance)",
  quote(glm(Claims ~ District + Group + Age + offset(log(Holders)),
            family = poisson, data = ins)),
  INS_SRC)

write_case("insurance_poisson_offset_nointercept",
  "Poisson regression with offset and without intercept (null deviance at mu = exp(offset)).",
  "glm(Claims ~ 0 + District + Group + Age + offset(log(Holders)), family = poisson, data = Insurance)",
  quote(glm(Claims ~ 0 + District + Group + Age + offset(log(Holders)),
            family = poisson, data = ins)),
  INS_SRC)

write_case("insurance_poisson_weights",
  "Poisson regression with non-integer prior weights Holders / 1000 and no offset.",
  "glm(Claims ~ District + Group + Age, family = poisson, data = Insurance, weights = Holders / 1000)",
  quote(glm(Claims ~ District + Group + Age, family = poisson, data = ins,
            weights = Holders / 1000)),
  INS_SRC)

# --- mtcars: gaussian with prior weights ------------------------------------
mt <- mtcars
mt$cyl <- factor(mt$cyl)
write_case("mtcars_gaussian_weights",
  "Weighted gaussian model on mtcars with weights = disp / 100.",
  "glm(mpg ~ wt + hp + cyl + am, family = gaussian, data = mtcars, weights = disp / 100)",
  quote(glm(mpg ~ wt + hp + cyl + am, family = gaussian, data = mt, weights = disp / 100)),
  "datasets::mtcars, cyl as factor")

# --- budworm: binomial proportions with numbers of trials as weights --------
budworm <- data.frame(ldose = rep(0:5, 2),
                      numdead = c(1, 4, 9, 13, 18, 20, 0, 2, 6, 10, 12, 16),
                      sex = factor(rep(c("M", "F"), c(6, 6))))
budworm$p <- budworm$numdead / 20
budworm$n <- 20
write_case("budworm_binomial_trials",
  "Binomial proportions with 20 trials each (Venables & Ripley, MASS 4th ed., sec. 7.2).",
  "glm(numdead / 20 ~ sex * ldose, family = binomial, weights = rep(20, 12))",
  quote(glm(p ~ sex * ldose, family = binomial, data = budworm, weights = n)),
  "budworm data of Venables & Ripley (2002), sec. 7.2")

# --- separation --------------------------------------------------------------
# Complete separation: x separates y perfectly.
sep_c <- data.frame(x = c(1, 2, 3, 4, 5, 6, 7, 8), z = c(2, 1, 4, 3, 2, 5, 1, 3),
                    y = c(0, 0, 0, 0, 1, 1, 1, 1))
write_case("separation_complete",
  "Complete separation: y = 1 exactly when x > 4.5 (R moves x, z and the intercept along the separating direction).",
  "glm(y ~ x + z, family = binomial)",
  quote(glm(y ~ x + z, family = binomial, data = sep_c)),
  "constructed: x = 1:8, z = c(2,1,4,3,2,5,1,3), y = x > 4.5")

# Quasi-complete separation: level c of g has only y = 0.
set.seed(20240601)
n <- 300
sep_q <- data.frame(x = rnorm(n), g = factor(sample(c("a", "b", "c"), n, replace = TRUE)))
sep_q$y <- rbinom(n, 1, plogis(-0.3 + 0.8 * sep_q$x))
sep_q$y[sep_q$g == "c"] <- 0
write_case("separation_quasi",
  "Quasi-complete separation: every observation in level c of g has y = 0.",
  "glm(y ~ x + g, family = binomial)",
  quote(glm(y ~ x + g, family = binomial, data = sep_q)),
  "simulated, set.seed(20240601): x ~ N(0,1), g uniform on a,b,c, y ~ Bernoulli(plogis(-0.3 + 0.8 x)), y = 0 where g == c")

# Poisson: a group with only zero counts (rate estimate runs to zero).
set.seed(20240602)
sep_p <- data.frame(x = rnorm(n), g = factor(sample(c("a", "b", "c"), n, replace = TRUE)))
sep_p$y <- rpois(n, exp(0.5 + 0.3 * sep_p$x))
sep_p$y[sep_p$g == "c"] <- 0
write_case("separation_poisson",
  "Poisson with a level whose counts are all zero.",
  "glm(y ~ x + g, family = poisson)",
  quote(glm(y ~ x + g, family = poisson, data = sep_p)),
  "simulated, set.seed(20240602): x ~ N(0,1), g uniform on a,b,c, y ~ Poisson(exp(0.5 + 0.3 x)), y = 0 where g == c")

# --- more columns than observations ------------------------------------------
# n = 4, p = 5: x4 is aliased, df.residual = 0, so the gaussian dispersion and all
# standard errors are NaN in summary.glm.
wide <- data.frame(x1 = c(1, 2, 3, 4), x2 = c(2, 1, 4, 3), x3 = c(0, 1, 1, 0),
                   x4 = c(5, 3, 2, 7), y = c(1.5, 2.0, 4.1, 3.3))
write_case("wide_gaussian",
  "Gaussian model with more columns (5) than observations (4): x4 aliased, df.residual 0.",
  "glm(y ~ x1 + x2 + x3 + x4, family = gaussian)",
  quote(glm(y ~ x1 + x2 + x3 + x4, family = gaussian, data = wide)),
  "constructed: x1 = 1:4, x2 = c(2,1,4,3), x3 = c(0,1,1,0), x4 = c(5,3,2,7), y = c(1.5,2,4.1,3.3)")
