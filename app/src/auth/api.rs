use leptos::prelude::*;

use super::{CurrentUser, UserRef};
use crate::error::AppError;

/// The signed-in user, or `None` (pages are redirected to sign-in by the
/// server before they render, so `None` is only seen on public pages).
#[server(prefix = "/api", endpoint = "me")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    Ok(super::server::session_user())
}

/// Users who can own records: for owner filters and reassignment.
#[server(prefix = "/api", endpoint = "users/owners")]
pub async fn list_owners() -> Result<Vec<UserRef>, AppError> {
    crate::server::run(async {
        let user = super::server::require_access()?;
        let _ = user;
        super::server::owners(&crate::server::pool()?).await
    })
    .await
}
