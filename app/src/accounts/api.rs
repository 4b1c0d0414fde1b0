//! Account server functions: public HTTP endpoints, each checking the session
//! and role first.

use leptos::prelude::*;

use super::{AccountDetail, AccountForm, AccountQuery, AccountRow, Page};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "accounts/list")]
pub async fn list_accounts(query: AccountQuery) -> Result<Page<AccountRow>, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        super::server::list(&crate::server::pool()?, &user, &query).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "accounts/get")]
pub async fn get_account(id: String) -> Result<AccountDetail, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        let id = crate::server::parse_id(&id)?;
        super::server::detail(&crate::server::pool()?, &user, id).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "accounts/create")]
pub async fn create_account(form: AccountForm) -> Result<String, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let id = super::server::create(&crate::server::pool()?, &user, &form).await?;
        leptos_axum::redirect(&format!("/accounts/{id}?notice=created"));
        Ok(id.to_string())
    })
    .await
}

#[server(prefix = "/api", endpoint = "accounts/update")]
pub async fn update_account(id: String, version: String, form: AccountForm) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let id = crate::server::parse_id(&id)?;
        let version = crate::server::parse_version(&version).map_err(|e| e.with_submitted(form.to_pairs()))?;
        // The version the edit was based on travels with a refusal, so a page
        // re-rendered without JavaScript still conflicts rather than overwrites.
        super::server::update(&crate::server::pool()?, &user, id, version, &form)
            .await
            .map_err(|e| e.with_echo("version", &version.to_string()))?;
        leptos_axum::redirect(&format!("/accounts/{id}?notice=saved"));
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "accounts/delete")]
pub async fn delete_account(id: String, version: String) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let id = crate::server::parse_id(&id)?;
        let version = crate::server::parse_version(&version)?;
        super::server::delete(&crate::server::pool()?, &user, id, version).await?;
        // Only managers can see (and restore) a deleted account.
        if user.is_manager() {
            leptos_axum::redirect(&format!("/accounts/{id}?notice=deleted"));
        } else {
            leptos_axum::redirect("/accounts?notice=deleted");
        }
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "accounts/restore")]
pub async fn restore_account(id: String) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_manager()?;
        let id = crate::server::parse_id(&id)?;
        super::server::restore(&crate::server::pool()?, &user, id).await?;
        leptos_axum::redirect(&format!("/accounts/{id}?notice=restored"));
        Ok(())
    })
    .await
}
