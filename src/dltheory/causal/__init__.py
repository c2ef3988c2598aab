"""Causal direction from little data (issue 5): Meta-CGNN (Ton, Sejdinovic & Fukumizu, AAAI 2021) against CGNN,
ANM, IGCI and RECI on synthetic cause-effect benchmarks and the Tübingen pairs."""
