//! A seeded random forest that gives class probabilities.
