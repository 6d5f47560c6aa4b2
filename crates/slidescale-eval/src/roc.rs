//! ROC curves, AUC and its confidence interval (DeLong; Mann–Whitney).
