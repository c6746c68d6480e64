# The R way: haven::read_sas, then arrow::write_parquet where arrow is installed,
# otherwise write.csv (the baseline states which it used).
#
#   Rscript benches/convert/haven_convert.R IN.sas7bdat OUT
suppressMessages(library(haven))
args <- commandArgs(trailingOnly = TRUE)
data <- read_sas(args[1])
if (requireNamespace("arrow", quietly = TRUE)) {
  arrow::write_parquet(data, paste0(args[2], ".parquet"))
} else {
  utils::write.csv(data, paste0(args[2], ".csv"), row.names = FALSE, na = "")
}
