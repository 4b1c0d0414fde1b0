//! Activities: dated notes, calls, meetings and tasks on an account, a deal or a contract,
//! shown as a timeline.

pub mod api;
#[cfg(feature = "ssr")]
pub mod server;
pub mod views;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::i18n::T;

pub const KINDS: &[(&str, T)] =
    &[("note", T::KindNote), ("call", T::KindCall), ("meeting", T::KindMeeting), ("task", T::KindTask)];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: Uuid,
    pub kind: String,
    pub subject: String,
    pub body: Option<String>,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub occurred_at: DateTime<Utc>,
    #[serde(with = "crate::domain::iso_date_option")]
    pub due_date: Option<NaiveDate>,
    pub done: bool,
    pub created_by: String,
    /// Set when the timeline mixes an account's own activities with its deals'.
    pub deal_name: Option<String>,
}

/// What an activity is attached to: "account", "deal" or "contract", and its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ActivityForm {
    pub target: String,
    pub target_id: String,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub due_date: String,
}
