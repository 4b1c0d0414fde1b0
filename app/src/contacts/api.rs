//! Contact server functions.

use leptos::prelude::*;

use super::{ContactDetail, ContactForm, ContactQuery, ContactRow};
use crate::accounts::Page;
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "contacts/list")]
pub async fn list_contacts(query: ContactQuery) -> Result<Page<ContactRow>, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        super::server::list(&crate::server::pool()?, &user, &query).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "contacts/get")]
pub async fn get_contact(id: String) -> Result<ContactDetail, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        let id = crate::server::parse_id(&id)?;
        super::server::detail(&crate::server::pool()?, &user, id).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "contacts/create")]
pub async fn create_contact(form: ContactForm) -> Result<String, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let id = super::server::create(&crate::server::pool()?, &user, &form).await?;
        leptos_axum::redirect(&format!("/contacts/{id}?notice=created"));
        Ok(id.to_string())
    })
    .await
}

#[server(prefix = "/api", endpoint = "contacts/update")]
pub async fn update_contact(id: String, version: String, form: ContactForm) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let id = crate::server::parse_id(&id)?;
        let version = crate::server::parse_version(&version).map_err(|e| e.with_submitted(form.to_pairs()))?;
        // The version the edit was based on travels with a refusal, so a page
        // re-rendered without JavaScript still conflicts rather than overwrites.
        super::server::update(&crate::server::pool()?, &user, id, version, &form)
            .await
            .map_err(|e| e.with_echo("version", &version.to_string()))?;
        leptos_axum::redirect(&format!("/contacts/{id}?notice=saved"));
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "contacts/delete")]
pub async fn delete_contact(id: String, version: String) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let id = crate::server::parse_id(&id)?;
        let version = crate::server::parse_version(&version)?;
        let account_id = super::server::delete(&crate::server::pool()?, &user, id, version).await?;
        leptos_axum::redirect(&format!("/accounts/{account_id}?notice=deleted"));
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "contacts/restore")]
pub async fn restore_contact(id: String) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_manager()?;
        let id = crate::server::parse_id(&id)?;
        super::server::restore(&crate::server::pool()?, &user, id).await?;
        leptos_axum::redirect(&format!("/contacts/{id}?notice=restored"));
        Ok(())
    })
    .await
}
