//! Lesion-level FROC, as the CAMELYON16 evaluation script computes it.
