# Reference values for stats::coefficient's t quantile at extreme degrees of freedom
# (src/stats/coefficient.rs, extreme_degrees_of_freedom_give_the_quantile_without_hanging).
#   Rscript tests/reference/t_quantile/qt_extreme_df.R > tests/reference/t_quantile/qt_extreme_df.csv
df <- c(1e7, 1e12, 0.2, 1e-3)
write.csv(data.frame(df = df, qt_975 = sprintf("%.15g", qt(0.975, df))), stdout(), row.names = FALSE)
