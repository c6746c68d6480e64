#!/usr/bin/env Rscript
# Reference model matrices for src/stats/design.rs (and the formula expansion of
# src/stats/formula.rs): for each formula, the column names, assign, term labels, rows
# used (0-based), response and model matrix that R builds; the random-effect blocks as
# lme4 builds them; fixed-effect group codes.
#
# Run from the repository root:
#     Rscript tests/reference/design/model_matrix.R
# Writes tests/reference/design/model_matrix.json (doubles bit-exact, see
# tests/reference/common/json.R).
#
# R 4.2.2 (stats::model.matrix, model.frame) and lme4 1.1-31 (findbars, subbars), the
# Debian packages listed in tests/reference/VERSIONS.md. Levels are sorted in the C
# locale, as shine sorts them (byte order).
#
# fixest is not available (no Debian package), so the i() cases are computed here from
# fixest's rule (fixest R/miscfuns.R, i(): column names
# paste0(f_name, "::", item, ":", var_name), values 1[f == item] * var, items sorted,
# references removed). pyfixest 0.60.0 gives the same names for an integer
# rel_period: `rel_period::-3:treated`.
suppressPackageStartupMessages({
  library(lme4)
})
source(file.path("tests", "reference", "common", "json.R"))
OUT <- file.path("tests", "reference", "design")
stopifnot(dir.exists(OUT))
invisible(Sys.setlocale("LC_COLLATE", "C"))

d <- data.frame(
  y = c(10.5, 12.1, 9.8, 14.2, NA, 11.7, 13.3, 8.9, 12.8, 15.1, 10.2, 11.9, 13.7, 9.4, 12.2, 14.6),
  age = c(34, 51, 29, 62, 45, 38, 57, 23, NA, 66, 41, 36, 49, 31, 55, 60),
  income = c(210, 340, 180, 420, 300, 260, 390, 150, 280, 450, 230, 250, 330, 190, 370, 410),
  sex = c("F", "M", "F", "M", "F", "M", "F", "M", "F", "M", "F", "M", "F", "M", "F", "M"),
  race = c("white", "black", "hispan", "white", "black", "white", "hispan", "black",
           "white", "black", "hispan", NA, "white", "black", "hispan", "white"),
  education = c(1, 2, 3, 2, 1, 3, 2, 1, 3, 2, 1, 2, 3, 1, 2, 3),
  wave = c(0, 3, 9, 0, 3, 9, 0, 3, 9, 0, 3, 9, 0, 3, 9, 0),
  smoker = c(TRUE, FALSE, FALSE, TRUE, FALSE, TRUE, FALSE, FALSE, TRUE, FALSE, TRUE, FALSE, NA, TRUE, FALSE, FALSE),
  arm = factor(c("control", "treat", "control", "treat", "control", "treat", "control", "treat",
                 "control", "treat", "control", "treat", "control", "treat", "control", "treat"),
               levels = c("control", "treat", "unused")),
  dose = c(2.5, 3, -1, 2.5, 4.5, -1, 2.5, 3, -1, 2.5, 7, -1, 2.5, 3, -1, 2.5),
  rel_period = c(-3, -2, -1, 0, 1, 2, -3, -2, -1, 0, 1, 2, -3, -2, -1, 0),
  treated = c(1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0),
  g = c(1, 1, 2, 2, 3, 3, 4, 4, 1, 2, 3, 4, 1, 2, 3, 4),
  a = c("p", "p", "p", "p", "q", "q", "q", "q", "p", "p", "q", "q", "p", "q", "p", "q"),
  b = c("u", "v", "w", "u", "v", "w", "u", "v", "w", "u", "v", "w", "u", "v", "w", "u"),
  t = c(0, 3, 9, 0, 3, 9, 0, 3, 9, 0, 3, 9, 0, 3, 9, 0),
  fe1 = c("k", "k", "m", "m", "n", "n", "k", "m", "n", "k", "m", "n", "k", "m", "n", "k"),
  fe2 = c(2001, 2002, 2001, 2002, 2001, 2002, 2001, 2002, 2001, 2002, 2001, 2002, 2001, 2002, 2001, 2002),
  stringsAsFactors = FALSE
)

# A matrix as a list of rows (the JSON writer takes no matrices).
rows_of <- function(x) lapply(seq_len(nrow(x)), function(i) I(unname(x[i, ])))

column_json <- function(name) {
  x <- d[[name]]
  if (is.factor(x)) {
    list(name = name, type = "factor", levels = levels(x), values = as.character(x))
  } else if (is.character(x)) {
    list(name = name, type = "string", values = x)
  } else if (is.logical(x)) {
    list(name = name, type = "logical", values = I(x))
  } else {
    list(name = name, type = "numeric", values = x)
  }
}

mm_case <- function(formula, mode = "drop") {
  f <- as.formula(formula)
  if (mode == "drop") {
    # As lm()/glm(): drop.unused.levels = TRUE.
    mf <- model.frame(f, d, na.action = na.omit, drop.unused.levels = TRUE)
    x <- model.matrix(attr(mf, "terms"), mf)
  } else {
    # A bare model.matrix(formula, data): unused levels kept.
    mf <- model.frame(f, d, na.action = na.omit)
    x <- model.matrix(f, d)
  }
  list(
    formula = formula,
    mode = mode,
    column_names = I(colnames(x)),
    assign = I(attr(x, "assign")),
    term_labels = I(attr(terms(f), "term.labels")),
    rows = I(as.integer(rownames(x)) - 1L),
    response = unname(as.numeric(model.response(mf))),
    x = rows_of(x)
  )
}

cases <- list(
  mm_case("y ~ age + sex + age:sex"),
  mm_case("y ~ age * sex + factor(education)"),
  mm_case("y ~ 0 + race"),
  mm_case("y ~ age + age:race"),
  mm_case("y ~ race:sex"),
  mm_case("y ~ race + race:sex"),
  mm_case("y ~ smoker + I(age^2) + log(income)"),
  mm_case("y ~ 0 + smoker"),
  mm_case("y ~ (age + sex + race)^2"),
  mm_case("y ~ 0 + age + race + sex"),
  mm_case("y ~ sex:factor(wave)"),
  mm_case("y ~ factor(education) * sex - 1"),
  mm_case("y ~ I(age * income/1000) + sqrt(income) + exp(age/100) + abs(age - 50) + I(-age)"),
  mm_case("y ~ factor(dose) + arm"),
  mm_case("y ~ factor(dose) + arm", mode = "keep"),
  mm_case("y ~ 0 + age:race + sex"),
  mm_case("y ~ race/sex"),
  mm_case("y ~ 1"),
  mm_case("log(y) ~ age + sex")
)

formula_rhs_label <- function(formula) attr(terms(as.formula(formula)), "term.labels")

# fixest i(): columns 1[rel_period == level] * treated for every level but the refs.
event_case <- function(formula, refs, by) {
  used <- complete.cases(d[, c("y", "rel_period", if (!is.null(by)) by)])
  sub <- d[used, ]
  lev <- sort(unique(sub$rel_period))
  lev <- lev[!(lev %in% refs)]
  cols <- lapply(lev, function(l) as.numeric(sub$rel_period == l) * (if (is.null(by)) 1 else sub[[by]]))
  names <- paste0("rel_period::", lev, if (!is.null(by)) paste0(":", by) else "")
  x <- cbind(1, do.call(cbind, cols))
  list(
    formula = formula, mode = "drop",
    column_names = I(c("(Intercept)", names)),
    assign = I(c(0L, rep(1L, length(lev)))),
    term_labels = I(formula_rhs_label(formula)),
    rows = I(which(used) - 1L),
    response = sub$y,
    x = rows_of(x)
  )
}
events <- list(
  event_case("y ~ i(rel_period, treated, ref = -1)", -1, "treated"),
  event_case("y ~ i(rel_period, ref = c(-1, -3))", c(-1, -3), NULL)
)

# lme4: the random-effect terms as lme4's mkBlist builds them: grouping factor
# factor(eval(bar[[3]])), block model.matrix(~ bar[[2]]) over the model frame.
re_formula <- y ~ age + (1 + t | g) + (1 | a/b) + (t || fe1) + (1 | a:b)
mf <- model.frame(subbars(re_formula), d, na.action = na.omit, drop.unused.levels = TRUE)
fr <- mf
for (nm in names(fr)) if (is.character(fr[[nm]])) fr[[nm]] <- factor(fr[[nm]])
bars <- findbars(re_formula)
random <- lapply(bars, function(bar) {
  ff <- factor(eval(bar[[3]], fr))
  z <- model.matrix(eval(substitute(~foo, list(foo = bar[[2]]))), fr)
  list(
    term = paste(deparse(bar[[2]]), "|", deparse(bar[[3]])),
    group_name = deparse(bar[[3]]),
    group_levels = I(levels(ff)),
    group_codes = I(as.integer(ff) - 1L),
    column_names = I(colnames(z)),
    z = rows_of(z)
  )
})
random_case <- list(
  formula = "y ~ age + (1 + t | g) + (1 | a/b) + (t || fe1) + (1 | a:b)",
  rows = I(as.integer(rownames(mf)) - 1L),
  terms = random
)

# Fixed effects (fixest's `| fe1 + fe1^fe2`): dense codes over the rows used, levels in
# sorted order; the combination ordered with fe1 varying slowest.
fe_used <- complete.cases(d[, c("y", "age", "fe1", "fe2")])
fe_sub <- d[fe_used, ]
fe_case <- list(
  formula = "y ~ age | fe1 + fe1^fe2",
  rows = I(which(fe_used) - 1L),
  effects = list(
    list(name = "fe1", codes = I(as.integer(factor(fe_sub$fe1)) - 1L)),
    list(name = "fe1^fe2", codes = I(as.integer(interaction(fe_sub$fe1, fe_sub$fe2, drop = TRUE, lex.order = TRUE)) - 1L))
  )
)

out <- list(
  description = paste(
    "R's model matrices (treatment contrasts), lme4's random-effect blocks and",
    "fixed-effect group codes for a 16-row data set; mode 'drop' is",
    "model.frame(drop.unused.levels = TRUE) as in lm/glm/lmer, 'keep' is a bare",
    "model.matrix(formula, data)."),
  versions = versions_block(c("stats", "lme4")),
  data = lapply(names(d), column_json),
  cases = c(cases, events),
  random = random_case,
  fixed_effects = fe_case
)
write_json_file(out, file.path(OUT, "model_matrix.json"))
