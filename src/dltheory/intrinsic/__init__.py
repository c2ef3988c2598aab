"""Low intrinsic dimension: Nakada & Imaizumi, JMLR 21(174), 2020, Sims 6.1 and 6.2."""
