//! Contacts (담당자): the people at an account.

pub mod api;
#[cfg(feature = "ssr")]
pub mod server;
pub mod views;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::HistoryEntry;

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
    pub can_edit: bool,
    pub can_restore: bool,
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

    pub fn to_pairs(&self) -> crate::error::Submitted {
        [
            ("account_id", &self.account_id),
            ("name", &self.name),
            ("title", &self.title),
            ("department", &self.department),
            ("email", &self.email),
            ("phone", &self.phone),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
    }

    pub fn from_pairs(pairs: &crate::error::Submitted) -> Self {
        <Self as crate::ui::EchoedForm>::from_pairs(pairs)
    }
}

impl crate::ui::EchoedForm for ContactForm {
    fn from_pairs(pairs: &crate::error::Submitted) -> Self {
        let get = |k: &str| pairs.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone()).unwrap_or_default();
        ContactForm {
            account_id: get("account_id"),
            name: get("name"),
            title: get("title"),
            department: get("department"),
            email: get("email"),
            phone: get("phone"),
        }
    }
}
