# Regenerate dlstat/data/*.csv and dlstat/data/_meta.json from R's `datasets` package.
#
#   cd dlstat/data && Rscript export_from_R.R
#
# Doubles are written with the fewest significant digits (15, 16 or 17) that read back to
# the identical IEEE value, so Python's parser recovers R's numbers bit for bit.  NA is
# written as an empty field.  Row names that carry information (mtcars, swiss) become the
# first column and are named in `_meta.json` ("index"); automatic row names 1..n are dropped.
library(jsonlite)

tables <- list(
  mtcars       = list(index = "model",    hint = "gaussian (mpg ~ .) or binomial (am: 0/1)"),
  iris         = list(index = NULL,       hint = "multinomial (Species: 3 levels)"),
  ToothGrowth  = list(index = NULL,       hint = "gaussian (len ~ supp * dose)"),
  airquality   = list(index = NULL,       hint = "gaussian with NAs (Ozone: 37 NA, Solar.R: 7 NA)"),
  warpbreaks   = list(index = NULL,       hint = "poisson (breaks ~ wool * tension)"),
  esoph        = list(index = NULL,       hint = "binomial counts (cbind(ncases, ncontrols)); ordered factors"),
  InsectSprays = list(index = NULL,       hint = "poisson (count ~ spray)"),
  faithful     = list(index = NULL,       hint = "gaussian (eruptions ~ waiting)"),
  trees        = list(index = NULL,       hint = "gaussian (log(Volume) ~ log(Girth) + log(Height))"),
  swiss        = list(index = "province", hint = "gaussian (Fertility ~ .)"),
  PlantGrowth  = list(index = NULL,       hint = "gaussian one-way layout (weight ~ group)"),
  infert       = list(index = NULL,       hint = "binomial (case: 0/1)"),
  sunspot.year = list(index = NULL,       hint = "forecasting (next year's sunspots from the last T: dl.datasets.series_windows)",
                      series = c("year", "sunspots"))
)

exact <- function(x) {
  vapply(x, function(v) {
    if (is.na(v)) return(NA_character_)
    for (d in 15:17) {
      s <- sprintf("%.*g", d, v)
      if (as.numeric(s) == v) return(s)
    }
    stop("cannot format ", v)
  }, character(1), USE.NAMES = FALSE)
}

titles <- vapply(tools::Rd_db("datasets"), function(rd) {
  paste(unlist(rd[vapply(rd, attr, "", "Rd_tag") == "\\title"]), collapse = "")
}, character(1))
names(titles) <- sub("\\.Rd$", "", names(titles))

meta <- list()
for (name in names(tables)) {
  df <- get(name, envir = as.environment("package:datasets"))
  spec <- tables[[name]]
  if (!is.null(spec$series)) {  # a yearly time series: its time and its values as columns
    df <- setNames(data.frame(as.integer(time(df)), as.numeric(df)), spec$series)
  }
  out <- df
  columns <- list()
  for (col in names(df)) {
    x <- df[[col]]
    if (is.factor(x)) {
      columns[[length(columns) + 1]] <- list(name = col, type = "factor", levels = levels(x),
                                             ordered = is.ordered(x))
      out[[col]] <- as.character(x)
    } else if (is.integer(x)) {
      columns[[length(columns) + 1]] <- list(name = col, type = "integer")
    } else if (is.double(x)) {
      columns[[length(columns) + 1]] <- list(name = col, type = "double")
      out[[col]] <- exact(x)
    } else stop("unsupported column type in ", name, "$", col)
  }
  quote_cols <- which(vapply(df, is.factor, logical(1)))
  if (!is.null(spec$index)) {
    out <- cbind(setNames(data.frame(rownames(df)), spec$index), out)
    quote_cols <- c(1L, quote_cols + 1L)
  }
  write.csv(out, paste0(name, ".csv"), row.names = FALSE, na = "",
            quote = if (length(quote_cols)) quote_cols else FALSE, fileEncoding = "UTF-8")
  meta[[name]] <- list(title = unname(titles[name]), hint = spec$hint, file = paste0(name, ".csv"),
                       nrow = nrow(df), ncol = ncol(df), index = spec$index, columns = columns)
}

doc <- list(source = paste0(R.version.string, ", package datasets ",
                            as.character(packageVersion("datasets"))),
            datasets = meta)
writeLines(toJSON(doc, auto_unbox = TRUE, pretty = TRUE, null = "null"), "_meta.json")
