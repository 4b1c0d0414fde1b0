//! Deal server functions.

use leptos::prelude::*;

use super::{Board, BoardQuery, DealDetail, DealForm, DealList, DealQuery};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "deals/list")]
pub async fn list_deals(query: DealQuery) -> Result<DealList, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        super::server::list(&crate::server::pool()?, &user, &query).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "deals/get")]
pub async fn get_deal(id: String) -> Result<DealDetail, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        let id = crate::server::parse_id(&id)?;
        super::server::detail(&crate::server::pool()?, &user, id).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "deals/stages")]
pub async fn list_stages() -> Result<Vec<super::StageInfo>, AppError> {
    crate::server::run(async {
        crate::auth::server::require_access()?;
        super::server::stages(&crate::server::pool()?).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "deals/create")]
pub async fn create_deal(form: DealForm) -> Result<String, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let id = super::server::create(&crate::server::pool()?, &user, &form).await?;
        crate::record::server::redirect_to(crate::record::Entity::Deal, id, crate::record::Notice::Created);
        Ok(id.to_string())
    })
    .await
}

#[server(prefix = "/api", endpoint = "deals/update")]
pub async fn update_deal(id: String, version: String, form: DealForm) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let (id, version) = crate::record::server::edit_target(&id, &version, &form)?;
        // The version the edit was based on travels with a refusal, so a page
        // re-rendered without JavaScript still conflicts rather than overwrites.
        super::server::update(&crate::server::pool()?, &user, id, version, &form)
            .await
            .map_err(|e| e.with_echo("version", &version.to_string()))?;
        crate::record::server::redirect_to(crate::record::Entity::Deal, id, crate::record::Notice::Saved);
        Ok(())
    })
    .await
}

/// Moves a deal to another stage (board drag, keyboard, or the no-JS selector).
/// `back` is where a plain form post returns to (a same-site path).
#[server(prefix = "/api", endpoint = "deals/move")]
pub async fn move_deal(id: String, version: String, stage: String, back: Option<String>) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let id = crate::server::parse_id(&id)?;
        let version = crate::server::parse_version(&version)?;
        // The same one same-site check as the sign-in's return address, made
        // before anything changes: a `back` pointing off the site refuses the move.
        let back = match back.as_deref() {
            None => None,
            Some(raw) => Some(
                crate::domain::same_site_path(raw)
                    .ok_or_else(|| AppError::field("back", crate::i18n::T::InvalidReturnAddress))?,
            ),
        };
        super::server::move_stage(&crate::server::pool()?, &user, id, version, stage.trim()).await?;
        if let Some(back) = back {
            leptos_axum::redirect(back);
        }
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "deals/board")]
pub async fn get_board(query: BoardQuery) -> Result<Board, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        super::server::board(&crate::server::pool()?, &user, &query).await
    })
    .await
}
