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

#[cfg(feature = "ssr")]
pub mod search;

/// The global search's answer: per kind of record, the best few matches
/// this user may see, each with the field it matched on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SearchResults {
    pub groups: Vec<SearchGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchGroup {
    pub kind: crate::record::Entity,
    pub hits: Vec<SearchHit>,
    /// More matches than shown: the list page has them all.
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub href: String,
    pub title: String,
    pub detail: String,
    /// The field the text was found in (a contact's name for an account
    /// found through its contact).
    pub matched: crate::i18n::T,
}
