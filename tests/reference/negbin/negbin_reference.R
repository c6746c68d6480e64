# Reference fits of MASS::glm.nb (negative binomial NB2, log link) for shine's tests.
# Run from the repository root:  Rscript tests/reference/negbin/negbin_reference.R
#
# glm.nb is run with tight control, glm.control(epsilon = 1e-12, maxit = 100), so that its
# alternation of IRLS (for beta given theta) and theta.ml (for theta given mu) has
# converged far below the 1e-6 the tests ask for. (theta.ml's own Newton iteration keeps
# MASS's fixed tolerance .Machine$double.eps^0.25; shine reproduces that rule.)
#
# Writes quine.csv and prepost.csv (the data) and one JSON per fit: the model matrix,
# response and offset R used, and glm.nb's results.
source("tests/reference/common/json.R")
suppressPackageStartupMessages(library(MASS))
out <- "tests/reference/negbin"
CONTROL <- glm.control(epsilon = 1e-12, maxit = 100)

versions <- list(R = paste(R.version$major, R.version$minor, sep = "."),
                 MASS = as.character(packageVersion("MASS")))

write_case <- function(name, description, r_call, fit, data_file) {
  s <- summary(fit)
  co <- s$coefficients
  x <- model.matrix(fit)
  off <- model.offset(model.frame(fit))
  res <- list(
    description = description,
    r_call = r_call,
    data_file = data_file,
    versions = versions,
    control = list(epsilon = CONTROL$epsilon, maxit = CONTROL$maxit),
    n = nrow(x),
    terms = I(colnames(x)),
    x = lapply(seq_len(ncol(x)), function(j) I(unname(x[, j]))),
    y = I(unname(fit$y)),
    offset = if (is.null(off)) NULL else I(unname(off)),
    estimate = I(unname(co[, 1])),
    std_error = I(unname(co[, 2])),
    statistic = I(unname(co[, 3])),
    p_value = I(unname(co[, 4])),
    theta = fit$theta,
    se_theta = fit$SE.theta,
    twologlik = fit$twologlik,
    aic = fit$aic,
    deviance = fit$deviance,
    null_deviance = fit$null.deviance,
    df_residual = fit$df.residual,
    iterations = fit$iter,
    converged = fit$converged,
    vcov = lapply(seq_len(ncol(x)), function(j) I(unname(vcov(fit)[, j])))
  )
  writeLines(to_json(res), file.path(out, paste0(name, ".json")))
}

# --- quine (Venables & Ripley, MASS sec. 7.4) ---------------------------------------
q <- MASS::quine
write.csv(data.frame(Eth = as.character(q$Eth), Sex = as.character(q$Sex),
                     Age = as.character(q$Age), Lrn = as.character(q$Lrn), Days = q$Days),
          file.path(out, "quine.csv"), row.names = FALSE, quote = FALSE)
fit_q <- glm.nb(Days ~ Eth + Sex + Age + Lrn, data = q, control = CONTROL)
write_case("quine",
  "School absence (days) by ethnicity, sex, age group and learner status.",
  "glm.nb(Days ~ Eth + Sex + Age + Lrn, data = quine, control = glm.control(epsilon = 1e-12, maxit = 100))",
  fit_q, "quine.csv")

# --- simulated pre/post person-level counts ----------------------------------------
# 400 persons (150 referred, group = 1), each with a 12-month pre period and a 9-month
# post period; exposure in months, shortened at random for some (death, emigration);
# counts NB2 with theta = 1.4, rate ratio 1.3 for group, 0.9 for period, 0.8 for the
# interaction.
set.seed(20260415)
n <- 400
group <- rep(c(1, 0), c(150, n - 150))
frailty <- rnorm(n, 0, 0.3)
rows <- expand.grid(person = seq_len(n), period = c(0, 1))
rows$group <- group[rows$person]
full <- ifelse(rows$period == 0, 12, 9)
cut <- runif(nrow(rows)) < 0.1
rows$exposure <- ifelse(cut, round(full * runif(nrow(rows), 0.2, 1), 2), full)
mu <- rows$exposure * exp(log(0.5) + log(1.3) * rows$group + log(0.9) * rows$period +
                          log(0.8) * rows$group * rows$period + frailty[rows$person])
rows$y <- rnbinom(nrow(rows), size = 1.4, mu = mu)
pp <- data.frame(person_id = rows$person, group = rows$group, period = rows$period,
                 exposure = rows$exposure, y = rows$y)
pp <- pp[order(pp$person_id, pp$period), ]
write.csv(pp, file.path(out, "prepost.csv"), row.names = FALSE, quote = FALSE)
fit_p <- glm.nb(y ~ group + period + group:period + offset(log(exposure)), data = pp,
                control = CONTROL)
write_case("prepost",
  "Simulated pre/post person-level counts with group, period, their interaction and offset log(exposure).",
  "glm.nb(y ~ group + period + group:period + offset(log(exposure)), data = prepost, control = glm.control(epsilon = 1e-12, maxit = 100))",
  fit_p, "prepost.csv")

# --- no overdispersion: Poisson data, theta runs off to infinity ---------------------
set.seed(7)
pois <- data.frame(x = rep(c(0, 1), 100))
pois$y <- rpois(200, exp(1 + 0.3 * pois$x))
write.csv(pois, file.path(out, "poisson_data.csv"), row.names = FALSE, quote = FALSE)
w <- NULL
fit_pois <- withCallingHandlers(
  tryCatch(glm.nb(y ~ x, data = pois, control = CONTROL), error = function(e) e),
  warning = function(wn) { w <<- c(w, conditionMessage(wn)); invokeRestart("muffleWarning") })
writeLines(to_json(list(
  description = "Poisson counts (no overdispersion): glm.nb's theta grows without bound",
  r_call = "glm.nb(y ~ x, data = poisson_data, control = glm.control(epsilon = 1e-12, maxit = 100))",
  theta = if (inherits(fit_pois, "error")) NULL else fit_pois$theta,
  error = if (inherits(fit_pois, "error")) conditionMessage(fit_pois) else NULL,
  warnings = I(unique(w)))), file.path(out, "poisson_data.json"))
cat("done\n")
