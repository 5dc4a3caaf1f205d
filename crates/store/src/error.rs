//! The one error type of the store.
//!
//! Callers map it to their own service errors: its text names tables and constraints, so it
//! must never be shown to API clients (log it, answer with a generic internal error).

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A write hit a unique key that already exists (primary key or a unique index).
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// A write broke another integrity rule (foreign key, check, not-null).
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// [`Store::lock_node`](crate::Store::lock_node): another Fleetward node (process)
    /// holds the database's node lock.
    #[error("database locked: {0}")]
    Locked(String),
    /// `open` was given a URL it does not understand.
    #[error("invalid database url: {0}")]
    InvalidUrl(String),
    /// Applying the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database or I/O failure.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match &err {
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => StoreError::AlreadyExists(db.message().to_owned()),
                ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation => StoreError::Constraint(db.message().to_owned()),
                _ => StoreError::Database(err),
            },
            _ => StoreError::Database(err),
        }
    }
}

impl StoreError {
    /// True for [`StoreError::AlreadyExists`], so callers can map it to a conflict.
    pub fn is_already_exists(&self) -> bool {
        matches!(self, StoreError::AlreadyExists(_))
    }
}
