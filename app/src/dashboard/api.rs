//! The dashboard's server function: a public HTTP endpoint that checks the
//! session first; the SQL keeps a rep to their own figures.

use leptos::prelude::*;

use super::{Dashboard, DashboardQuery};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "dashboard")]
pub async fn get_dashboard(query: DashboardQuery) -> Result<Dashboard, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        super::server::dashboard(&crate::server::pool()?, &user, &query).await
    })
    .await
}
