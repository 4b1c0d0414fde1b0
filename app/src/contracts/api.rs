//! Contract server functions: public HTTP endpoints that check the session
//! and role first; the SQL checks visibility and ownership again.

use leptos::prelude::*;

use super::{ContractDetail, ContractForm, ContractList, ContractQuery, ContractStart, TerminateForm};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "contracts/list")]
pub async fn list_contracts(query: ContractQuery) -> Result<ContractList, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        super::server::list(&crate::server::pool()?, &user, &query).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "contracts/get")]
pub async fn get_contract(id: String) -> Result<ContractDetail, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        let id = crate::server::parse_id(&id)?;
        super::server::detail(&crate::server::pool()?, &user, id).await
    })
    .await
}

/// Where a new contract's form starts: `deal` (a won deal) or `account`.
#[server(prefix = "/api", endpoint = "contracts/start")]
pub async fn start_contract(deal: String, account: String) -> Result<ContractStart, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let deal = crate::domain::parse_optional_id(&deal).map_err(|_| AppError::NotFound)?;
        let account = crate::domain::parse_optional_id(&account).map_err(|_| AppError::NotFound)?;
        super::server::start(&crate::server::pool()?, &user, deal, account).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "contracts/create")]
pub async fn create_contract(form: ContractForm) -> Result<String, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let id = super::server::create(&crate::server::pool()?, &user, &form).await?;
        crate::record::server::redirect_to(crate::record::Entity::Contract, id, crate::record::Notice::Created);
        Ok(id.to_string())
    })
    .await
}

#[server(prefix = "/api", endpoint = "contracts/update")]
pub async fn update_contract(id: String, version: String, form: ContractForm) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let (id, version) = crate::record::server::edit_target(&id, &version, &form)?;
        super::server::update(&crate::server::pool()?, &user, id, version, &form)
            .await
            .map_err(|e| e.with_echo("version", &version.to_string()))?;
        crate::record::server::redirect_to(crate::record::Entity::Contract, id, crate::record::Notice::Saved);
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "contracts/terminate")]
pub async fn terminate_contract(id: String, version: String, form: TerminateForm) -> Result<(), AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_writer()?;
        let (id, version) = crate::record::server::edit_target(&id, &version, &form)?;
        super::server::terminate(&crate::server::pool()?, &user, id, version, &form).await?;
        crate::record::server::redirect_to(crate::record::Entity::Contract, id, crate::record::Notice::Saved);
        Ok(())
    })
    .await
}
