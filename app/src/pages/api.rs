//! The combined pages' server functions: each checks the session first and
//! reads through the domains' own queries, so their visibility rules apply.

use leptos::prelude::*;

use super::{AccountPageData, ContractPageData, DealPageData};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "pages/account")]
pub async fn get_account_page(id: String) -> Result<AccountPageData, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        let id = crate::server::parse_id(&id)?;
        let pool = crate::server::pool()?;
        let detail = crate::accounts::server::detail(&pool, &user, id).await?;
        let contacts = crate::contacts::server::for_account(&pool, id).await?;
        let deals = crate::deals::server::list(
            &pool,
            &user,
            &crate::deals::DealQuery { account: id.to_string(), ..Default::default() },
        )
        .await?;
        let activities = crate::activities::server::for_account(&pool, &user, id).await?;
        let contracts = crate::contracts::server::list(
            &pool,
            &user,
            &crate::contracts::ContractQuery { account: id.to_string(), ..Default::default() },
        )
        .await?;
        let monthly = crate::contracts::server::monthly_totals(&pool, &user, id).await?;
        Ok(AccountPageData {
            detail,
            contacts,
            deals: deals.page.rows,
            stages: deals.stages,
            activities,
            contracts: contracts.rows,
            monthly,
        })
    })
    .await
}

#[server(prefix = "/api", endpoint = "pages/deal")]
pub async fn get_deal_page(id: String) -> Result<DealPageData, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        let id = crate::server::parse_id(&id)?;
        let pool = crate::server::pool()?;
        let detail = crate::deals::server::detail(&pool, &user, id).await?;
        let activities = crate::activities::server::for_deal(&pool, id).await?;
        let contracts = crate::contracts::server::list(
            &pool,
            &user,
            &crate::contracts::ContractQuery { deal: id.to_string(), ..Default::default() },
        )
        .await?;
        Ok(DealPageData { detail, activities, contracts: contracts.rows })
    })
    .await
}

#[server(prefix = "/api", endpoint = "pages/contract")]
pub async fn get_contract_page(id: String) -> Result<ContractPageData, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        let id = crate::server::parse_id(&id)?;
        let pool = crate::server::pool()?;
        let detail = crate::contracts::server::detail(&pool, &user, id).await?;
        let activities = crate::activities::server::for_contract(&pool, id).await?;
        Ok(ContractPageData { detail, activities })
    })
    .await
}

/// The header's search across accounts, contacts, deals and contracts.
#[server(prefix = "/api", endpoint = "pages/search")]
pub async fn global_search(q: String) -> Result<super::SearchResults, AppError> {
    crate::server::run(async {
        let user = crate::auth::server::require_access()?;
        let Some(text) = crate::domain::parse_search(&q).map_err(|m| AppError::field("", m))? else {
            return Ok(super::SearchResults::default());
        };
        let pool = crate::server::pool()?;
        super::search::search(&pool, &user, &text, crate::ui::request_lang()).await
    })
    .await
}
