//! AWS Signature Version 4 verification for incoming API requests.
