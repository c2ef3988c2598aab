"""Non-smooth regression: Imaizumi & Fukumizu, AISTATS 2019 and JMLR 23(111), 2022."""
