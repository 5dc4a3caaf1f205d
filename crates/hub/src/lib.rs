//! The findings hub: Security Hub semantics over the store and an in-memory findings index.
