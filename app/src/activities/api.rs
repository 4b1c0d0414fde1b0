use leptos::prelude::*;

use super::ActivityForm;
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "activities/add")]
pub async fn add_activity(form: ActivityForm) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let (target, id) = super::server::add(&crate::server::pool()?, &user, &form).await?;
        leptos_axum::redirect(&crate::record::Notice::ActivityAdded.on(&format!("{}#timeline", target.path(id))));
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "activities/done")]
pub async fn set_activity_done(id: String, done: bool) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let id = crate::server::parse_id(&id)?;
        let back = super::server::set_done(&crate::server::pool()?, &user, id, done).await?;
        leptos_axum::redirect(&format!("{back}#timeline"));
        Ok(())
    })
    .await
}
