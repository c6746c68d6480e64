# Reference values for shine's Stata writer: every value of every file under
# tests/reference/dta_write/files/ (written by shine: the edge values of
# tests/dta_write.rs and raw registers of `shine simulate --raw --raw-format dta
# --referred 5 --pool 150 --seed 5`), as R haven reads it.
#
# Run from the repository root:
#   Rscript tests/reference/dta_write/read_with_haven.R
# Writes tests/reference/dta_write/values_haven/<file>.json, one per file:
#   {"file": ..., "reader": "haven <version>", "rows": n,
#    "columns": [{"name": ..., "type": "double"|"date"|"datetime"|"string",
#                 "values": [...]}]}
# Values are strings (null for NA): doubles with 17 significant digits, dates as
# YYYY-MM-DD, date-times as whole milliseconds since 1970-01-01T00:00:00 UTC, text as read.
suppressMessages({
  library(haven)
  library(jsonlite)
})

files <- "tests/reference/dta_write/files"
out <- "tests/reference/dta_write/values_haven"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
as_text <- function(x) {
  if (inherits(x, "Date")) {
    v <- format(x, "%Y-%m-%d")
    type <- "date"
  } else if (inherits(x, "POSIXct")) {
    # POSIXct holds seconds as a double: rounding to the millisecond recovers the
    # stored whole milliseconds.
    v <- sprintf("%.0f", round(as.numeric(x) * 1000))
    type <- "datetime"
  } else if (is.character(x)) {
    v <- x
    type <- "string"
  } else {
    v <- sprintf("%.17g", as.numeric(x))
    type <- "double"
  }
  v[is.na(x)] <- NA
  list(type = type, values = I(v))
}

for (file in sort(list.files(files, pattern = "\\.dta$"))) {
  data <- read_dta(file.path(files, file))
  columns <- lapply(names(data), function(name) {
    c(list(name = name), as_text(zap_labels(data[[name]])))
  })
  record <- list(
    file = file,
    reader = paste("haven", as.character(packageVersion("haven"))),
    rows = nrow(data),
    columns = columns
  )
  target <- file.path(out, paste0(sub("\\.dta$", "", file), ".json"))
  writeLines(toJSON(record, auto_unbox = TRUE, na = "null", null = "null", digits = NA),
             target, useBytes = TRUE)
}
