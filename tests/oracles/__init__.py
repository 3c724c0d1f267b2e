"""Outside oracles: slow twins of the algorithm, written to be obviously right,
that the tests compare the estimators against."""
