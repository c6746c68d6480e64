# Reference values for shine's Stata reader: every value of every fixture under
# tests/fixtures/dta/, as R haven reads it.
#
# Run from the repository root:
#   Rscript tests/reference/dta/read_with_haven.R
# Writes tests/reference/dta/values/<file>.json, one per fixture:
#   {"file": ..., "haven": <version>, "rows": n,
#    "columns": [{"name": ..., "type": "double"|"date"|"datetime"|"time"|"string",
#                 "values": [...]}]}
# Values are strings (null for NA): doubles and times (seconds since midnight) with 17
# significant digits, dates as YYYY-MM-DD, date-times as YYYY-MM-DDTHH:MM:SS (UTC, whole
# seconds), text as read. Tagged missing values (.a-.z) are NA like ".".
suppressMessages({
  library(haven)
  library(jsonlite)
})

fixtures <- "tests/fixtures/dta"
out <- "tests/reference/dta/values"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
as_text <- function(x) {
  if (inherits(x, "Date")) {
    v <- format(x, "%Y-%m-%d")
    type <- "date"
  } else if (inherits(x, "POSIXct")) {
    v <- format(x, "%Y-%m-%dT%H:%M:%S", tz = "UTC")
    type <- "datetime"
  } else if (inherits(x, "hms") || inherits(x, "difftime")) {
    v <- sprintf("%.17g", as.numeric(x, units = "secs"))
    type <- "time"
  } else if (is.character(x)) {
    v <- x
    type <- "string"
  } else {
    v <- sprintf("%.17g", as.numeric(x))
    type <- "double"
  }
  v[is.na(x)] <- NA
  list(type = type, values = v)
}

for (file in sort(list.files(fixtures, pattern = "\\.dta$"))) {
  data <- read_dta(file.path(fixtures, file))
  columns <- lapply(names(data), function(name) {
    c(list(name = name), as_text(zap_labels(data[[name]])))
  })
  record <- list(
    file = file,
    haven = as.character(packageVersion("haven")),
    rows = nrow(data),
    columns = columns
  )
  target <- file.path(out, paste0(sub("\\.dta$", "", file), ".json"))
  writeLines(toJSON(record, auto_unbox = TRUE, na = "null", null = "null", digits = NA),
             target, useBytes = TRUE)
}
