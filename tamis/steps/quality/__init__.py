"""Quality filters of Gopher, C4 and FineWeb, with per-language words, stop words and thresholds."""
