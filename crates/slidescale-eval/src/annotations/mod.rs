//! Pathologists' outlines in: ASAP XML, NCRF JSON and QuPath GeoJSON.
