//! Import server functions: public HTTP endpoints, admin only (checked here
//! and again in the SQL). The upload itself is a plain multipart route of
//! the server crate, with its own body limit.

use leptos::prelude::*;

use super::{EditedSince, ImportParams, ImportSummary, Preview};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "imports/list")]
pub async fn list_imports() -> Result<Vec<ImportSummary>, AppError> {
    crate::server::run(async {
        crate::auth::server::require_admin()?;
        super::server::list(&crate::server::pool()?).await
    })
    .await
}

/// The file read and checked with the admin's choices (query values as the
/// page's form sent them).
#[server(prefix = "/api", endpoint = "imports/preview")]
pub async fn preview_import(id: String, params: ImportParams, page: String) -> Result<Preview, AppError> {
    crate::server::run(async {
        crate::auth::server::require_admin()?;
        let id = crate::server::parse_id(&id)?;
        let choices = super::ImportChoices::from_params(&params);
        let page = page.trim().parse::<u32>().unwrap_or(0).min(100_000);
        super::server::preview(&crate::server::pool()?, id, &choices, page).await
    })
    .await
}

/// Queues the import with the choices it was previewed with; the page then
/// follows its progress.
#[server(prefix = "/api", endpoint = "imports/commit")]
pub async fn commit_import(id: String, params: ImportParams) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_admin()?;
        let id = crate::server::parse_id(&id)?;
        let choices = super::ImportChoices::from_params(&params);
        super::server::queue(&crate::server::pool()?, &user, id, &choices).await?;
        leptos_axum::redirect(&format!("/import/{id}"));
        Ok(())
    })
    .await
}

/// Undoes a committed import, or names the records edited since (nothing changes then).
#[server(prefix = "/api", endpoint = "imports/undo")]
pub async fn undo_import(id: String) -> Result<Vec<EditedSince>, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_admin()?;
        let id = crate::server::parse_id(&id)?;
        let edited = super::server::undo(&crate::server::pool()?, &user, id).await?;
        let refused = if edited.is_empty() { "" } else { "?undo=refused" };
        leptos_axum::redirect(&format!("/import/{id}{refused}"));
        Ok(edited)
    })
    .await
}

/// What the page shows after a refused undo.
#[server(prefix = "/api", endpoint = "imports/edited-since")]
pub async fn import_edited_since(id: String) -> Result<Vec<EditedSince>, AppError> {
    crate::server::run(async {
        crate::auth::server::require_admin()?;
        let id = crate::server::parse_id(&id)?;
        let pool = crate::server::pool()?;
        let mut conn = pool.acquire().await?;
        super::server::edited_since(&mut conn, id).await
    })
    .await
}

/// The rows a finished import left out, and why.
#[server(prefix = "/api", endpoint = "imports/problems")]
pub async fn import_problems(id: String) -> Result<super::StoredProblems, AppError> {
    crate::server::run(async {
        crate::auth::server::require_admin()?;
        let id = crate::server::parse_id(&id)?;
        let mut stored = super::server::stored_problems(&crate::server::pool()?, id).await?;
        stored.problems.truncate(super::PROBLEMS_PER_PAGE * 10);
        Ok(stored)
    })
    .await
}
