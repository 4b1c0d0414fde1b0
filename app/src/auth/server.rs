//! Server side of authorization: the session's user, read from the request
//! (the server crate's session middleware puts it there), and role checks.

use sqlx::PgPool;

use super::{CurrentUser, UserRef};
use crate::error::AppError;

/// The user whose session cookie came with this request, if any.
/// This is the one seam every server function goes through: no user id ever
/// comes from the browser.
pub fn session_user() -> Option<CurrentUser> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
}

/// Signed in with at least one SalesOps role.
pub fn require_access() -> Result<CurrentUser, AppError> {
    let user = session_user().ok_or(AppError::Unauthenticated)?;
    if user.has_access() {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Signed in and allowed to change records.
pub fn require_writer() -> Result<CurrentUser, AppError> {
    let user = require_access()?;
    if user.can_write() {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Manager or admin.
pub fn require_manager() -> Result<CurrentUser, AppError> {
    let user = require_access()?;
    if user.is_manager() {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

pub async fn owners(pool: &PgPool) -> Result<Vec<UserRef>, AppError> {
    let rows = sqlx::query_as!(
        UserRef,
        "select id, display_name from users
         where roles && array['sales-rep','sales-manager','salesops-admin']
         order by display_name",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// An admin: imports, undo.
pub fn require_admin() -> Result<CurrentUser, AppError> {
    let user = require_access()?;
    if user.has(super::Role::Admin) {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}
