//! Pages that combine several domains (an account with its contacts, deals,
//! contracts and timeline; a deal with its contracts and timeline; a contract
//! with its timeline). This layer sits above the
//! domains, which never use each other.

pub mod api;
pub mod views;

use serde::{Deserialize, Serialize};

use crate::accounts::AccountDetail;
use crate::activities::Activity;
use crate::contacts::ContactRow;
use crate::contracts::{ContractDetail, ContractRow, MonthlyTotal};
use crate::deals::{DealDetail, DealRow, StageInfo};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountPageData {
    pub detail: AccountDetail,
    pub contacts: Vec<ContactRow>,
    /// The account's deals this user may see.
    pub deals: Vec<DealRow>,
    pub stages: Vec<StageInfo>,
    pub activities: Vec<Activity>,
    /// The account's contracts this user may see, and their monthly value per currency.
    pub contracts: Vec<ContractRow>,
    pub monthly: Vec<MonthlyTotal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealPageData {
    pub detail: DealDetail,
    pub activities: Vec<Activity>,
    pub contracts: Vec<ContractRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractPageData {
    pub detail: ContractDetail,
    pub activities: Vec<Activity>,
}
