# Reference values for the participation dose-response (src/stats/participation.rs):
# the mean change per level with its t interval, and the test for linear trend
# summary(lm(change ~ score)). Run from the repository root:
#   Rscript tests/reference/participation/dose_response.R
# Reads dose_response_*.csv (written by this script with a fixed seed when absent) and
# writes dose_response_reference.json.
library(jsonlite)
dir <- "tests/reference/participation"
make <- function(name, seed, n, slope) {
  path <- file.path(dir, paste0("dose_response_", name, ".csv"))
  if (!file.exists(path)) {
    set.seed(seed)
    level <- sample(0:4, n, replace = TRUE, prob = c(.3, .25, .2, .1, .15))
    score <- 4 - level
    change <- round(-0.5 + slope * score + rnorm(n, 0, 1.2), 4)
    write.csv(data.frame(level = level, change = change), path, row.names = FALSE)
  }
  d <- read.csv(path)
  d$score <- 4 - d$level
  fit <- summary(lm(change ~ score, data = d))
  co <- fit$coefficients["score", ]
  df <- fit$df[2]
  q <- qt(0.975, df)
  levels <- lapply(sort(unique(d$level)), function(l) {
    x <- d$change[d$level == l]
    n <- length(x)
    m <- mean(x)
    h <- if (n > 1) qt(0.975, n - 1) * sd(x) / sqrt(n) else NA
    list(level = l, n = n, mean = m, conf_low = m - h, conf_high = m + h)
  })
  list(name = name, data_file = basename(path), n = nrow(d),
       slope = unname(co["Estimate"]), std_error = unname(co["Std. Error"]),
       statistic = unname(co["t value"]), p_value = unname(co["Pr(>|t|)"]), df = df,
       conf_low = unname(co["Estimate"] - q * co["Std. Error"]),
       conf_high = unname(co["Estimate"] + q * co["Std. Error"]), levels = levels)
}
cases <- list(make("trend", 11, 180, -0.15), make("null", 12, 90, 0))
out <- list(call = "summary(lm(change ~ score)) with score = 4 - level; per level mean +/- qt(0.975, n - 1) sd / sqrt(n)",
            r_version = R.version.string, cases = cases)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(dir, "dose_response_reference.json"))
