//! The HTTP API: one SigV4 pipeline, routing by service, one error mapping.
