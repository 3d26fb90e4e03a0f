//! Errors of the PostgreSQL store: what a query returned (kept whole, so its SQLSTATE decides
//! whether a transaction is worth retrying), and how it reads as an imx [`Error`].

use tokio_postgres::error::SqlState;

use crate::Error;

/// An error inside the PostgreSQL store, before it becomes an imx [`Error`].
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error(transparent)]
    Imx(#[from] Error),
}

/// A result inside the PostgreSQL store.
pub type PgResult<T> = std::result::Result<T, PgError>;

impl PgError {
    /// The SQLSTATE the server answered with, if the error came from the server.
    pub fn sqlstate(&self) -> Option<&SqlState> {
        match self {
            PgError::Db(e) => e.code(),
            PgError::Pool(deadpool_postgres::PoolError::Backend(e)) => e.code(),
            _ => None,
        }
    }

    /// A serialization failure (40001) or a deadlock (40P01): the transaction was rolled back
    /// and running it again may well succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.sqlstate(),
            Some(s) if *s == SqlState::T_R_SERIALIZATION_FAILURE || *s == SqlState::T_R_DEADLOCK_DETECTED
        )
    }

    /// The connection is gone or could not be made (the server restarted, the network broke),
    /// as opposed to a query the server refused.
    pub fn is_connection(&self) -> bool {
        match self {
            PgError::Db(e) => e.is_closed() || (e.code().is_none() && e.as_db_error().is_none()),
            PgError::Pool(deadpool_postgres::PoolError::Backend(e)) => {
                e.is_closed() || (e.code().is_none() && e.as_db_error().is_none())
            }
            PgError::Pool(_) => true,
            PgError::Imx(_) => false,
        }
    }

    /// As an imx error; `place` names the database (its URL without a password).
    pub fn into_error(self, place: &str) -> Error {
        match self {
            PgError::Imx(e) => e,
            e if e.is_connection() => Error::Unavailable {
                path: place.into(),
                reason: describe(&e),
            },
            e => Error::Store(format!("{place}: {}", describe(&e))),
        }
    }
}

/// The most useful text of an error: the server's message (and detail) when there is one.
fn describe(e: &PgError) -> String {
    let db = match e {
        PgError::Db(e) => e.as_db_error(),
        PgError::Pool(deadpool_postgres::PoolError::Backend(e)) => e.as_db_error(),
        _ => None,
    };
    match db {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        None => {
            // tokio-postgres's own text ("error connecting to server") hides the cause.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let more = s.to_string();
                if !text.contains(&more) {
                    text = format!("{text}: {more}");
                }
                source = s.source();
            }
            text
        }
    }
}
