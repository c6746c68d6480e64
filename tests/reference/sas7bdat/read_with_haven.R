# Reference values for shine's SAS7BDAT reader: every value of every fixture under
# tests/fixtures/sas7bdat/, as R haven reads it.
#
# Run from the repository root:
#   Rscript tests/reference/sas7bdat/read_with_haven.R
# Writes tests/reference/sas7bdat/values/<folder>__<file>.json, one per fixture:
#   {"file": ..., "haven": <version>, "rows": n,
#    "columns": [{"name": ..., "type": "double"|"date"|"datetime"|"time"|"string",
#                 "values": [...]}]}
# Values are strings (null for NA): doubles and times (seconds since midnight) with 17
# significant digits, dates as YYYY-MM-DD, date-times as YYYY-MM-DDTHH:MM:SS (UTC, whole
# seconds), text as read (haven trims trailing blanks).
suppressMessages({
  library(haven)
  library(jsonlite)
})

fixtures <- "tests/fixtures/sas7bdat"
# This haven returns rows SAS marks as deleted; these files' values come from
# read_deleted_with_pyreadstat.py instead.
deleted_rows <- c("parso/all_rand_normal_with_deleted.sas7bdat", "parso/data_page_with_deleted.sas7bdat")
out <- "tests/reference/sas7bdat/values"
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

for (folder in sort(list.dirs(fixtures, recursive = FALSE, full.names = FALSE))) {
  for (file in sort(list.files(file.path(fixtures, folder), pattern = "\\.sas7bdat$"))) {
    if (file.path(folder, file) %in% deleted_rows) next
    data <- read_sas(file.path(fixtures, folder, file))
    columns <- lapply(names(data), function(name) {
      c(list(name = name), as_text(data[[name]]))
    })
    record <- list(
      file = file.path(folder, file),
      haven = as.character(packageVersion("haven")),
      rows = nrow(data),
      columns = columns
    )
    target <- file.path(out, paste0(folder, "__", sub("\\.sas7bdat$", "", file), ".json"))
    writeLines(toJSON(record, auto_unbox = TRUE, na = "null", null = "null", digits = NA),
               target, useBytes = TRUE)
  }
}
