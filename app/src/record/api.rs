//! Delete and restore for every record kind: public HTTP endpoints that check
//! the session and role first; the SQL checks ownership again.

use super::{Entity, RecordRef};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "records/delete")]
pub async fn delete_record(kind: Entity, id: String, version: String) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let id = crate::server::parse_id(&id)?;
        let version = crate::server::parse_version(&version)?;
        let locked = super::server::delete(&crate::server::pool()?, &user, kind, id, version).await?;
        // A deleted contact is shown on its account; other records stay on
        // their own page for whoever may see (and restore) a deleted one.
        let back = match (kind, locked.parent) {
            (Entity::Contact, Some(account)) => Entity::Account.path(account),
            _ if user.is_manager() => kind.path(id),
            _ => kind.list_path().to_string(),
        };
        leptos_axum::redirect(&super::Notice::Deleted.on(&back));
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "records/restore")]
pub async fn restore_record(kind: Entity, id: String) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_manager()?;
        let id = crate::server::parse_id(&id)?;
        super::server::restore(&crate::server::pool()?, &user, kind, id).await?;
        leptos_axum::redirect(&super::Notice::Restored.on(&kind.path(id)));
        Ok(())
    })
    .await
}

/// A live account's name, for the forms that file a record under it.
#[server(prefix = "/api", endpoint = "records/account-ref")]
pub async fn get_account_ref(id: String) -> Result<RecordRef, AppError> {
    crate::server::run(async {
        crate::auth::server::require_access()?;
        let id = crate::server::parse_id(&id)?;
        super::server::account_ref(&crate::server::pool()?, id).await
    })
    .await
}
