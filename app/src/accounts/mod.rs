//! Accounts (고객사): the companies the sales team sells to.

pub mod api;
#[cfg(feature = "ssr")]
pub mod server;
pub mod views;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::UserRef;
use crate::i18n::T;
use crate::record::{HistoryEntry, Permissions};

pub use crate::domain::{COMPANY_SIZES, INDUSTRIES};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: Uuid,
    pub name: String,
    /// Shown dashed (123-45-67890).
    pub business_number: Option<String>,
    pub industry: Option<String>,
    pub company_size: Option<String>,
    pub address: Option<String>,
    pub main_phone: Option<String>,
    pub website: Option<String>,
    pub notes: Option<String>,
    pub owner: UserRef,
    pub version: i32,
    pub created_by: String,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub created_at: DateTime<Utc>,
    pub updated_by: String,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// One account with its own history and what this user may do with it
/// (the page around it adds contacts, deals and the timeline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountDetail {
    pub account: Account,
    pub history: Vec<HistoryEntry>,
    pub can: Permissions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: Uuid,
    pub name: String,
    pub business_number: Option<String>,
    pub industry: Option<String>,
    pub owner_name: String,
    pub contact_count: i64,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum AccountSort {
    #[default]
    NameAsc,
    NameDesc,
    UpdatedDesc,
    CreatedDesc,
}

impl AccountSort {
    pub const ALL: [(AccountSort, &'static str, T); 4] = [
        (AccountSort::NameAsc, "name", T::SortNameAsc),
        (AccountSort::NameDesc, "-name", T::SortNameDesc),
        (AccountSort::UpdatedDesc, "-updated", T::SortUpdatedDesc),
        (AccountSort::CreatedDesc, "-created", T::SortCreatedDesc),
    ];

    pub fn from_param(s: &str) -> AccountSort {
        Self::ALL.iter().find(|(_, p, _)| *p == s).map(|(v, _, _)| *v).unwrap_or_default()
    }

    pub fn param(self) -> &'static str {
        Self::ALL.iter().find(|(v, _, _)| *v == self).map(|(_, p, _)| *p).unwrap_or("name")
    }
}

/// The list's query string, as the filter form (a GET form) submits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AccountQuery {
    pub q: String,
    pub owner: String,
    pub industry: String,
    pub sort: String,
    pub after: String,
    pub before: String,
    pub deleted: bool,
}

/// The account form as posted. Everything arrives as text and is validated
/// by the server (`AccountForm::validate` in server.rs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct AccountForm {
    pub name: String,
    pub business_number: String,
    pub industry: String,
    pub company_size: String,
    pub address: String,
    pub main_phone: String,
    pub website: String,
    pub notes: String,
    pub owner_id: String,
}

impl AccountForm {
    pub fn from_account(a: &Account) -> Self {
        AccountForm {
            name: a.name.clone(),
            business_number: a.business_number.clone().unwrap_or_default(),
            industry: a.industry.clone().unwrap_or_default(),
            company_size: a.company_size.clone().unwrap_or_default(),
            address: a.address.clone().unwrap_or_default(),
            main_phone: a.main_phone.clone().unwrap_or_default(),
            website: a.website.clone().unwrap_or_default(),
            notes: a.notes.clone().unwrap_or_default(),
            owner_id: a.owner.id.to_string(),
        }
    }
}
