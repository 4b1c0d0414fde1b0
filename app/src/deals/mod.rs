//! Deals (영업기회), their stages and the pipeline board.

pub mod api;
pub mod board;
#[cfg(feature = "ssr")]
pub mod server;
pub mod views;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::UserRef;
use crate::i18n::T;
use crate::record::{HistoryEntry, Page, Permissions};

pub use crate::domain::{check_stage, StageFacts, StageInfo};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deal {
    pub id: Uuid,
    pub name: String,
    pub account_id: Uuid,
    pub account_name: String,
    pub stage_id: String,
    pub amount: Option<Decimal>,
    pub currency: String,
    pub probability: i32,
    #[serde(with = "crate::domain::iso_date_option")]
    pub expected_close_date: Option<NaiveDate>,
    pub owner: UserRef,
    pub source: Option<String>,
    pub lost_reason: Option<String>,
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub last_activity_at: Option<DateTime<Utc>>,
    pub version: i32,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub created_at: DateTime<Utc>,
    pub updated_by: String,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// One stretch of time a deal spent in a stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSpan {
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub changed_by: String,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub changed_at: DateTime<Utc>,
    /// Whole days until the next change (or now).
    pub days: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealDetail {
    pub deal: Deal,
    pub stages: Vec<StageInfo>,
    pub stage_history: Vec<StageSpan>,
    pub history: Vec<HistoryEntry>,
    pub can: Permissions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealRow {
    pub id: Uuid,
    pub name: String,
    pub account_name: String,
    pub stage_id: String,
    pub amount: Option<Decimal>,
    pub currency: String,
    pub probability: i32,
    #[serde(with = "crate::domain::iso_date_option")]
    pub expected_close_date: Option<NaiveDate>,
    pub owner_name: String,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DealQuery {
    pub q: String,
    pub owner: String,
    pub stage: String,
    pub currency: String,
    pub account: String,
    pub after: String,
    pub before: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealList {
    pub page: Page<DealRow>,
    pub stages: Vec<StageInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DealForm {
    pub name: String,
    pub account_id: String,
    pub stage_id: String,
    pub amount: String,
    pub currency: String,
    pub probability: String,
    pub expected_close_date: String,
    pub owner_id: String,
    pub source: String,
    pub lost_reason: String,
}

impl DealForm {
    pub fn from_deal(d: &Deal, stages: &[StageInfo]) -> Self {
        // An unchanged stage default is shown empty, so a stage change takes the new default.
        let default = stages.iter().find(|s| s.id == d.stage_id).map(|s| s.default_probability);
        DealForm {
            name: d.name.clone(),
            account_id: d.account_id.to_string(),
            stage_id: d.stage_id.clone(),
            amount: d.amount.map(|a| a.normalize().to_string()).unwrap_or_default(),
            currency: d.currency.clone(),
            probability: if Some(d.probability) == default { String::new() } else { d.probability.to_string() },
            expected_close_date: d.expected_close_date.map(|x| x.to_string()).unwrap_or_default(),
            owner_id: d.owner.id.to_string(),
            source: d.source.clone().unwrap_or_default(),
            lost_reason: d.lost_reason.clone().unwrap_or_default(),
        }
    }
}

/// Board filters, as the filter form submits them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BoardQuery {
    pub owner: String,
    /// "month", "quarter", "next-quarter", "year", or empty for any time.
    pub period: String,
    pub currency: String,
}

pub const PERIODS: &[(&str, T)] = &[
    ("", T::AnyTime),
    ("month", T::CloseThisMonth),
    ("quarter", T::CloseThisQuarter),
    ("next-quarter", T::CloseNext90),
    ("year", T::CloseThisYear),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub count: i64,
    pub sum: Decimal,
    pub weighted: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealCard {
    pub id: Uuid,
    pub name: String,
    pub account_name: String,
    pub amount: Option<Decimal>,
    pub currency: String,
    pub probability: i32,
    #[serde(with = "crate::domain::iso_date_option")]
    pub expected_close_date: Option<NaiveDate>,
    pub owner_name: String,
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardColumn {
    pub stage: StageInfo,
    pub cards: Vec<DealCard>,
    pub count: i64,
    pub totals: Vec<CurrencyTotal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Board {
    pub columns: Vec<BoardColumn>,
    pub can_move: bool,
}

/// How many cards a column shows; the rest are one link away.
pub const CARDS_PER_COLUMN: i64 = 30;

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(id: &str, won: bool, lost: bool) -> StageInfo {
        StageInfo {
            id: id.into(),
            position: 0,
            name_ko: id.into(),
            name_en: id.into(),
            default_probability: 10,
            is_won: won,
            is_lost: lost,
        }
    }

    #[test]
    fn stage_rules() {
        let (open, won, lost) =
            (stage("proposal", false, false), stage("won", true, false), stage("lost", false, true));
        let bare = StageFacts { amount: None, close_date: None, lost_reason: None };
        let complete = StageFacts {
            amount: Some(Decimal::from(1000)),
            close_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
            lost_reason: Some("가격".into()),
        };
        assert_eq!(check_stage(Some(&open), &won, &bare, false), Err(T::WonNeedsAmountAndDate));
        assert_eq!(check_stage(Some(&open), &won, &complete, false), Ok(()));
        assert_eq!(check_stage(Some(&open), &lost, &bare, true), Err(T::LostNeedsReason));
        assert_eq!(check_stage(Some(&won), &open, &complete, false), Err(T::OnlyManagerReopens));
        assert_eq!(check_stage(Some(&won), &open, &complete, true), Ok(()));
        assert_eq!(check_stage(Some(&won), &won, &complete, false), Ok(()));
    }
}
