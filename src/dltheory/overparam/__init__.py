"""More parameters, better accuracy? Test error against the number of parameters past the interpolation point
(Imaizumi's JST slides, seed 001; Nakada & Imaizumi, arXiv 2103.00500; Imaizumi & Schmidt-Hieber, IEEE TIT 2023).

``data`` (digits splits, label noise) and ``random_features`` (min-norm and ridge least squares) are numpy only;
``mlp`` trains the width sweep and the parallel networks with torch; ``analysis`` and ``figures`` read the tables.
"""
