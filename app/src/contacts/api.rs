//! Contact server functions.

use leptos::prelude::*;

use super::{ContactDetail, ContactForm, ContactQuery, ContactRow};
use crate::error::AppError;
use crate::record::Page;

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
        crate::record::server::redirect_to(crate::record::Entity::Contact, id, crate::record::Notice::Created);
        Ok(id.to_string())
    })
    .await
}

#[server(prefix = "/api", endpoint = "contacts/update")]
pub async fn update_contact(id: String, version: String, form: ContactForm) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let (id, version) = crate::record::server::edit_target(&id, &version, &form)?;
        // The version the edit was based on travels with a refusal, so a page
        // re-rendered without JavaScript still conflicts rather than overwrites.
        super::server::update(&crate::server::pool()?, &user, id, version, &form)
            .await
            .map_err(|e| e.with_echo("version", &version.to_string()))?;
        crate::record::server::redirect_to(crate::record::Entity::Contact, id, crate::record::Notice::Saved);
        Ok(())
    })
    .await
}
