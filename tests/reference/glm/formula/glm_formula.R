#!/usr/bin/env Rscript
# Formula-level reference values for glm(): logistic, Poisson with offset,
# separation cases -- starting from CSV data + an R formula with text factors,
# so they exercise shine's whole path (CSV -> factor coding -> design -> IRLS).
# (The sibling tests/reference/glm/glm_reference.R stores model matrices
# instead; this directory complements it and writes nothing outside itself.)
#
# Run from the repository root:
#     Rscript tests/reference/glm/formula/glm_formula.R
# (reads tests/reference/matching/lalonde.csv, written by matching.R)
#
# Writes into tests/reference/glm/formula/: the data sets as CSV (factors as text with
# labels whose byte order = R's default level order) and one JSON per model.
# Every model is fitted on the data as read back from its CSV file.

suppressPackageStartupMessages({
  library(MASS)
  library(stats)
})
source(file.path("tests", "reference", "common", "json.R"))

OUT <- file.path("tests", "reference", "glm", "formula")
stopifnot(dir.exists(OUT))
VERSIONS <- versions_block(c("stats", "MASS"))
DIGITS_NOTE <- paste("Doubles are written with the shortest of %.15g/%.16g/%.17g",
                     "that round-trips to the identical IEEE double.")

write_data <- function(d, name) {
  path <- file.path(OUT, name)
  write.csv(d, path, row.names = FALSE, quote = FALSE, eol = "\n")
  back <- read.csv(path, stringsAsFactors = FALSE, check.names = FALSE)
  num <- function(x) lapply(x, function(v) if (is.numeric(v)) as.double(v) else v)
  stopifnot(identical(unname(num(back)), unname(num(d))))   # exact round trip
  back
}

# ---------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------

# MASS::Insurance -- Group and Age are ORDERED factors in MASS (poly contrasts);
# here they are written as plain text so R uses treatment contrasts.
ins <- MASS::Insurance
insurance <- data.frame(
  District = paste0("D", as.character(ins$District)),
  Group = c("<1l" = "g1_lt1l", "1-1.5l" = "g2_1to1.5l", "1.5-2l" = "g3_1.5to2l",
            ">2l" = "g4_gt2l")[as.character(ins$Group)],
  Age = c("<25" = "a1_lt25", "25-29" = "a2_25to29", "30-35" = "a3_30to35",
          ">35" = "a4_gt35")[as.character(ins$Age)],
  Holders = ins$Holders, Claims = ins$Claims, stringsAsFactors = FALSE)
rownames(insurance) <- NULL
insurance <- write_data(insurance, "insurance.csv")

# MASS::ships -- rows with zero service months dropped (log(0) offset).
sh <- MASS::ships
sh <- sh[sh$service > 0, ]
ships <- data.frame(type = as.character(sh$type), year = paste0("y", sh$year),
                    period = paste0("p", sh$period), service = sh$service,
                    incidents = sh$incidents, stringsAsFactors = FALSE)
ships <- write_data(ships, "ships.csv")

# Dobson (1990) p. 93, the example in ?glm.
dobson <- data.frame(counts = c(18, 17, 15, 20, 10, 20, 25, 13, 12),
                     outcome = paste0("o", gl(3, 1, 9)),
                     treatment = paste0("t", gl(3, 3)), stringsAsFactors = FALSE)
dobson <- write_data(dobson, "dobson.csv")

# MASS::birthwt, low birth weight; race 1/2/3 written as text.
bw <- MASS::birthwt
birthwt <- data.frame(low = bw$low, age = bw$age, lwt = bw$lwt,
                      race = c("white", "black", "other")[bw$race],
                      smoke = bw$smoke, ptl = bw$ptl, ht = bw$ht, ui = bw$ui,
                      ftv = bw$ftv, stringsAsFactors = FALSE)
birthwt <- write_data(birthwt, "birthwt.csv")

# Separation examples (constructed; 12 rows).
#  - quasi-complete: x separates y except at x = 4, where two rows with the
#                    same (x, z) have different outcomes
#  - complete:       y = 1 exactly when x > 4.5
separation <- data.frame(
  x = c(1, 2, 3, 3.5, 4, 4, 5, 6, 7, 8, 9, 10),
  z = c(0.3, -1.2, 0.8, 0.1, 0.2, 0.2, -0.9, 0.6, -0.2, 1.1, -1.5, 0.4),
  y_quasi = c(0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1),
  y_complete = c(0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1))
separation <- write_data(separation, "separation.csv")

lalonde <- read.csv(file.path("tests", "reference", "matching", "lalonde.csv"),
                    stringsAsFactors = FALSE)

# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------
MODELS <- list(
  lalonde_logit_formula = list(
    data = lalonde, data_path = "tests/reference/matching/lalonde.csv",
    formula = treat ~ age + educ + race + married + nodegree + re74 + re75,
    family = binomial(), family_str = "binomial(link = \"logit\")"),
  birthwt_logit = list(
    data = birthwt, data_path = "tests/reference/glm/formula/birthwt.csv",
    formula = low ~ age + lwt + race + smoke + ptl + ht + ui + ftv,
    family = binomial(), family_str = "binomial(link = \"logit\")"),
  insurance_poisson_offset_formula = list(
    data = insurance, data_path = "tests/reference/glm/formula/insurance.csv",
    formula = Claims ~ District + Group + Age + offset(log(Holders)),
    family = poisson(), family_str = "poisson(link = \"log\")"),
  ships_poisson_offset = list(
    data = ships, data_path = "tests/reference/glm/formula/ships.csv",
    formula = incidents ~ type + year + period + offset(log(service)),
    family = poisson(), family_str = "poisson(link = \"log\")"),
  dobson_poisson = list(
    data = dobson, data_path = "tests/reference/glm/formula/dobson.csv",
    formula = counts ~ outcome + treatment,
    family = poisson(), family_str = "poisson(link = \"log\")"),
  separation_quasi_logit = list(
    data = separation, data_path = "tests/reference/glm/formula/separation.csv",
    formula = y_quasi ~ x + z,
    family = binomial(), family_str = "binomial(link = \"logit\")"),
  separation_complete_logit = list(
    data = separation, data_path = "tests/reference/glm/formula/separation.csv",
    formula = y_complete ~ x + z,
    family = binomial(), family_str = "binomial(link = \"logit\")")
)

fmla_str <- function(f) paste(deparse(f, width.cutoff = 500L), collapse = " ")

factor_levels <- function(d, f) {
  v <- intersect(all.vars(f), names(d))
  v <- v[vapply(d[v], is.character, logical(1))]
  setNames(lapply(v, function(x) sort(unique(d[[x]]), method = "radix")), v)
}

for (nm in names(MODELS)) {
  mdl <- MODELS[[nm]]
  data <- mdl$data
  res <- with_warnings(glm(mdl$formula, data = data, family = mdl$family))
  fit <- res$value
  s <- summary(fit)
  co <- s$coefficients
  # aliased (NA) coefficients would be dropped from summary(); none expected
  stopifnot(identical(rownames(co), names(coef(fit))))
  V <- vcov(fit)
  lv <- factor_levels(data, mdl$formula)
  stat_name <- colnames(co)[3]
  out <- list(
    description = "glm() reference fit (IRLS, R defaults).",
    model = nm,
    data_path = mdl$data_path,
    script = "tests/reference/glm/formula/glm_formula.R",
    r_call = sprintf("glm(%s, data = data, family = %s)", fmla_str(mdl$formula), mdl$family_str),
    formula = fmla_str(mdl$formula),
    family = fit$family$family, link = fit$family$link,
    factor_levels = if (length(lv)) lv else NULL,
    contrasts = "treatment (R default contr.treatment; first level = reference)",
    control = list(epsilon = fit$control$epsilon, maxit = fit$control$maxit),
    versions = VERSIONS, number_format = DIGITS_NOTE,
    n = nrow(data),
    warnings = I(res$warnings),
    terms = rownames(co),
    estimate = I(unname(co[, 1])),
    std_error = I(unname(co[, 2])),
    statistic_name = stat_name,
    statistic = I(unname(co[, 3])),
    p_value = I(unname(co[, 4])),
    vcov = lapply(seq_len(nrow(V)), function(i) I(unname(V[i, ]))),
    deviance = fit$deviance,
    null_deviance = fit$null.deviance,
    df_residual = fit$df.residual,
    df_null = fit$df.null,
    aic = fit$aic,
    log_lik = as.numeric(logLik(fit)),
    dispersion = s$dispersion,
    iterations = fit$iter,
    converged = fit$converged,
    boundary = fit$boundary,
    linear_predictor = I(unname(fit$linear.predictors)),
    fitted = I(unname(fit$fitted.values)),
    offset = if (is.null(fit$offset)) NULL else I(unname(fit$offset))
  )
  write_json_file(out, file.path(OUT, paste0(nm, ".json")))
  cat(sprintf("%-28s iter=%2d converged=%s dev=%.6g warnings=%d\n", nm, fit$iter,
              fit$converged, fit$deviance, length(res$warnings)))
}
