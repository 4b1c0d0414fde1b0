//! The application's one error type, shared by server and browser. Each variant
//! maps once, here, to what the user sees (in their language) and to an HTTP status.

use crate::i18n::{Lang, T};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// A problem with one form field, shown next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: T,
}

/// What the user typed, echoed back so a refused form (even without
/// JavaScript, where the page is reloaded) keeps the input on screen.
pub type Submitted = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("validation failed")]
    Validation { fields: Vec<FieldError>, submitted: Submitted },
    #[error("stale version")]
    Conflict {
        changed_by: String,
        #[serde(with = "chrono::serde::ts_microseconds")]
        changed_at: DateTime<Utc>,
        submitted: Submitted,
    },
    #[error("bad request")]
    BadRequest,
    /// Details are logged on the server and never sent.
    #[error("internal error")]
    Internal,
    /// The browser could not reach the server or read its answer.
    #[error("network error")]
    Network,
    /// The database gave up on the request (statement timeout): the request
    /// asked for too much, not something broken.
    #[error("request took too long")]
    Busy,
}

impl AppError {
    pub fn field(field: &str, message: T) -> Self {
        AppError::Validation { fields: vec![FieldError { field: field.into(), message }], submitted: vec![] }
    }

    pub fn with_submitted(self, input: Submitted) -> Self {
        match self {
            AppError::Validation { fields, .. } => AppError::Validation { fields, submitted: input },
            AppError::Conflict { changed_by, changed_at, .. } => {
                AppError::Conflict { changed_by, changed_at, submitted: input }
            }
            other => other,
        }
    }

    /// Adds one more echoed field (e.g. the version the user's edit was based on).
    pub fn with_echo(mut self, key: &str, value: &str) -> Self {
        if let AppError::Validation { submitted, .. } | AppError::Conflict { submitted, .. } = &mut self {
            if !submitted.is_empty() {
                submitted.push((key.to_string(), value.to_string()));
            }
        }
        self
    }

    /// An echoed field's value.
    pub fn echoed(&self, key: &str) -> Option<&str> {
        self.submitted()?.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Validation { .. } | AppError::BadRequest => 400,
            AppError::Conflict { .. } => 409,
            AppError::Internal => 500,
            AppError::Network => 502,
            AppError::Busy => 503,
        }
    }

    /// The headline the user reads.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            AppError::Unauthenticated => T::ErrUnauthenticated.text(lang).into(),
            AppError::Forbidden => T::ErrForbidden.text(lang).into(),
            AppError::NotFound => T::ErrNotFound.text(lang).into(),
            AppError::Validation { fields, .. } => match fields.as_slice() {
                [only] if only.field.is_empty() => only.message.text(lang).into(),
                _ => T::FormHasErrors.text(lang).into(),
            },
            AppError::Conflict { changed_by, changed_at, .. } => format!(
                "{}: {} ({}). {}",
                T::ErrConflict.text(lang),
                changed_by,
                crate::i18n::format_datetime(*changed_at, lang),
                T::ErrConflictHint.text(lang)
            ),
            AppError::BadRequest => T::ErrBadRequest.text(lang).into(),
            AppError::Internal => T::ErrInternal.text(lang).into(),
            AppError::Network => T::ErrNetwork.text(lang).into(),
            AppError::Busy => T::ErrBusy.text(lang).into(),
        }
    }

    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AppError::Validation { fields, .. } => fields,
            _ => &[],
        }
    }

    pub fn submitted(&self) -> Option<&Submitted> {
        match self {
            AppError::Validation { submitted, .. } | AppError::Conflict { submitted, .. } if !submitted.is_empty() => {
                Some(submitted)
            }
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments the server could not read: a tampered or malformed form.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => AppError::BadRequest,
            // On the server these mean the request itself could not be read
            // (a body that is not UTF-8, say): the client's fault, not a
            // gateway's. Only in the browser are they a failed connection or
            // an unreadable answer.
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Deserialization(_) if cfg!(feature = "ssr") => {
                AppError::BadRequest
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Deserialization(_) => AppError::Network,
            _ => AppError::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => AppError::NotFound,
            // query_canceled: the statement timeout every request runs under.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => {
                tracing::warn!(error = %db, "statement timeout");
                AppError::Busy
            }
            // Class 22, "data exception": a value sent cannot be stored or
            // compared as given (a NUL byte in text, a number or date out of
            // range). That is bad input, not a server fault; the statement
            // failed, so nothing changed.
            sqlx::Error::Database(e) if e.code().is_some_and(|c| c.starts_with("22")) => {
                tracing::warn!(error = %e, "database refused a value from the request");
                AppError::BadRequest
            }
            other => {
                tracing::error!(error = %other, "database error");
                AppError::Internal
            }
        }
    }
}
