//! CAMELYON16 evaluation masks and their pyramidal TIFF files.
