//! Slide-level features of a heatmap (global and local, after the authors' code).
