//! The AWS Security Finding Format: validation, normalisation and the import and update rules.
