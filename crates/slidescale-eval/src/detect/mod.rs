//! Lesion detections from a heatmap and their files.
