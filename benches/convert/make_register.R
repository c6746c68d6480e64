# A BEF-like register of N rows as a SAS dataset, written by R haven.
#
#   Rscript benches/convert/make_register.R OUT.sas7bdat [N]   (N defaults to 5,000,000)
suppressMessages(library(haven))
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]
n <- if (length(args) > 1) as.integer(args[2]) else 5000000L
set.seed(2019)
register <- data.frame(
  PNR = sprintf("%010d", sample.int(1e9, n)),
  KOEN = sample(c(1, 2), n, replace = TRUE),
  FOED_DAG = as.Date("1920-01-01") + sample.int(30000, n, replace = TRUE),
  KOM = sample(c(101, 147, 151, 153, 155, 157, 159, 161, 163, 165), n, replace = TRUE),
  IE_TYPE = sample(c(1, 2, 3, NA), n, replace = TRUE, prob = c(0.85, 0.1, 0.04, 0.01)),
  FAMILIE_ID = sprintf("F%09d", sample.int(1e8, n, replace = TRUE)),
  ANTPERSF = sample(1:8, n, replace = TRUE) * 1.0,
  DISPON_NY = round(rnorm(n, 250000, 90000), 2),
  CIVST = sample(c("G", "U", "F", "E", "O"), n, replace = TRUE),
  VERSION = as.POSIXct("2020-03-01 06:00:00", tz = "UTC") + sample.int(86400, n, replace = TRUE),
  stringsAsFactors = FALSE
)
write_sas(register, out)
