# Deterministic JSON writer shared by the reference scripts.
#
# Why not jsonlite::toJSON? It caps numbers at 15 significant digits, which
# does not round-trip IEEE doubles.  Here every double is written with the
# shortest of %.15g / %.16g / %.17g that parses back to the identical double,
# so the stored values are bit-exact R results.
#
# Conventions:
#   * named list            -> JSON object (names kept in the given order)
#   * unnamed list          -> JSON array
#   * atomic, length 1      -> JSON scalar (wrap in I() to force an array)
#   * atomic, length != 1   -> JSON array
#   * NA / NaN              -> null
#   * +Inf / -Inf           -> the strings "Inf" / "-Inf"
#   * NULL                  -> null
#   * logical               -> true / false

json_num <- function(x) {
  if (is.na(x)) return("null")
  if (is.infinite(x)) return(if (x > 0) "\"Inf\"" else "\"-Inf\"")
  if (x == 0) return("0")
  if (x == round(x) && abs(x) < 1e15) return(sprintf("%.0f", x))
  for (d in 15:17) {
    s <- sprintf(paste0("%.", d, "g"), x)
    if (as.numeric(s) == x) break
  }
  s
}

json_scalar <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (is.logical(x)) return(if (is.na(x)) "null" else if (x) "true" else "false")
  if (is.character(x)) return(if (is.na(x)) "null" else encodeString(x, quote = "\""))
  if (is.integer(x)) return(if (is.na(x)) "null" else as.character(x))
  if (is.numeric(x)) return(json_num(x))
  stop("unsupported scalar type: ", class(x)[1])
}

to_json <- function(x, indent = 0L) {
  pad  <- strrep("  ", indent)
  pad1 <- strrep("  ", indent + 1L)
  if (is.null(x)) return("null")
  if (is.data.frame(x)) x <- as.list(x)          # columnar
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, character(1), indent = indent + 1L)
    if (!is.null(names(x))) {
      keys <- encodeString(names(x), quote = "\"")
      body <- paste0(pad1, keys, ": ", items)
      return(paste0("{\n", paste(body, collapse = ",\n"), "\n", pad, "}"))
    }
    return(paste0("[\n", paste0(pad1, items, collapse = ",\n"), "\n", pad, "]"))
  }
  if (is.atomic(x)) {
    as_array <- inherits(x, "AsIs") || length(x) != 1L
    x <- unclass(x)
    if (is.matrix(x)) stop("convert matrices explicitly")
    names(x) <- NULL
    vals <- vapply(seq_along(x), function(i) json_scalar(x[i]), character(1))
    if (!as_array) return(vals)
    return(paste0("[", paste(vals, collapse = ", "), "]"))
  }
  stop("unsupported type: ", class(x)[1])
}

write_json_file <- function(x, path) {
  con <- file(path, open = "wb")              # "\n" line ends on every OS
  on.exit(close(con))
  writeLines(to_json(x), con, sep = "\n")
  invisible(path)
}

# Named numeric vector -> JSON object keyed by name.
named_num <- function(v) as.list(setNames(as.numeric(v), names(v)))

# Versions of R and of the packages named, for the "versions" block.
versions_block <- function(pkgs) {
  c(list(R = paste(R.version$major, R.version$minor, sep = ".")),
    setNames(lapply(pkgs, function(p) as.character(utils::packageVersion(p))), pkgs))
}

# Evaluate expr, collecting warnings (muffled) instead of printing them.
with_warnings <- function(expr) {
  w <- character(0)
  val <- withCallingHandlers(expr, warning = function(cond) {
    w <<- c(w, conditionMessage(cond))
    invokeRestart("muffleWarning")
  })
  list(value = val, warnings = w)
}
