//! Contacts (담당자): the people at an account.

pub mod api;
#[cfg(feature = "ssr")]
pub mod server;
pub mod views;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::record::{HistoryEntry, Permissions};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRow {
    pub id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub account_id: Uuid,
    pub account_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub row: ContactRow,
    pub version: i32,
    pub updated_by: String,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactDetail {
    pub contact: Contact,
    pub history: Vec<HistoryEntry>,
    pub can: Permissions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ContactQuery {
    pub q: String,
    pub after: String,
    pub before: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContactForm {
    pub account_id: String,
    pub name: String,
    pub title: String,
    pub department: String,
    pub email: String,
    pub phone: String,
}

impl ContactForm {
    pub fn from_contact(c: &Contact) -> Self {
        let r = &c.row;
        ContactForm {
            account_id: r.account_id.to_string(),
            name: r.name.clone(),
            title: r.title.clone().unwrap_or_default(),
            department: r.department.clone().unwrap_or_default(),
            email: r.email.clone().unwrap_or_default(),
            phone: r.phone.clone().unwrap_or_default(),
        }
    }
}
