# A random-slope panel for the Kenward-Roger timing: SUBJECTS subjects x 6 visits,
# y ~ t * group + (t | id), about 10 % of the visits missing. Seed fixed.
#   Rscript make_data.R OUT.csv SUBJECTS
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]; n_id <- as.integer(args[2])
set.seed(14)
d <- data.frame(id = sprintf("s%05d", rep(seq_len(n_id), each = 6)), t = rep(0:5, n_id))
d$group <- ifelse(as.integer(sub("s", "", d$id)) %% 2 == 0, "a", "b")
b0 <- rnorm(n_id, 0, 2); b1 <- rnorm(n_id, 0, 0.5)
i <- as.integer(factor(d$id))
d$y <- round(10 + 0.4 * d$t + 0.3 * (d$group == "b") * d$t + b0[i] + b1[i] * d$t + rnorm(nrow(d)), 4)
d <- d[runif(nrow(d)) > 0.1, c("y", "t", "group", "id")]
write.csv(d, out, row.names = FALSE, quote = FALSE)
