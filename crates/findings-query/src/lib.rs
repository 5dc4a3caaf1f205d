//! The findings filter engine: attribute catalogue, compact finding records, filters, sorting and grouping.
