//! Contracts (계약) and renewals: what a won deal becomes, its recurring value
//! and the dates the team must not miss. Pages are rendered on the server
//! only (no island), so they add nothing to any page's WASM.
//!
//! The state a person decides is stored (draft, signed, terminated); whether
//! a signed contract is active or expired is read from its dates, today.

pub mod api;
#[cfg(feature = "ssr")]
pub mod server;
pub mod views;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::UserRef;
use crate::domain::Currency;
use crate::i18n::T;
use crate::record::{HistoryEntry, Page, Permissions};

/// What a person decided about a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContractState {
    Draft,
    Signed,
    Terminated,
}

impl ContractState {
    pub fn code(self) -> &'static str {
        match self {
            ContractState::Draft => "draft",
            ContractState::Signed => "signed",
            ContractState::Terminated => "terminated",
        }
    }

    pub fn from_code(code: &str) -> Option<ContractState> {
        [ContractState::Draft, ContractState::Signed, ContractState::Terminated].into_iter().find(|s| s.code() == code)
    }
}

/// What the list and the page show: the state, with "signed" read from the dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContractStatus {
    Draft,
    Active,
    Expired,
    Terminated,
}

impl ContractStatus {
    pub const ALL: [ContractStatus; 4] =
        [ContractStatus::Draft, ContractStatus::Active, ContractStatus::Expired, ContractStatus::Terminated];

    /// A signed contract is active through its end date and expired after it.
    pub fn of(state: ContractState, end_date: NaiveDate, today: NaiveDate) -> ContractStatus {
        match state {
            ContractState::Draft => ContractStatus::Draft,
            ContractState::Terminated => ContractStatus::Terminated,
            ContractState::Signed if end_date < today => ContractStatus::Expired,
            ContractState::Signed => ContractStatus::Active,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ContractStatus::Draft => "draft",
            ContractStatus::Active => "active",
            ContractStatus::Expired => "expired",
            ContractStatus::Terminated => "terminated",
        }
    }

    pub fn from_code(code: &str) -> Option<ContractStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code.trim())
    }

    pub fn label(self) -> T {
        match self {
            ContractStatus::Draft => T::ContractDraft,
            ContractStatus::Active => T::ContractActive,
            ContractStatus::Expired => T::ContractExpired,
            ContractStatus::Terminated => T::ContractTerminated,
        }
    }
}

pub use crate::domain::BillingPeriod;

/// The contract's term in months: whole months from the start, and a part
/// month at the end counts as a month (billing is per month begun). Month
/// ends stay month ends: 31 January + 1 month is 29 February in a leap year.
pub fn term_months(start: NaiveDate, end: NaiveDate) -> u32 {
    let Some(after_end) = end.succ_opt() else { return 0 };
    // The day the m-th month is complete: start + m months, except where the
    // month is too short for the start's day (31 January + 1 month), which
    // completes at the end of that month, i.e. on the 1st of the next.
    let complete = |m: u32| -> Option<NaiveDate> {
        let anniversary = start.checked_add_months(Months::new(m))?;
        if anniversary.day() < start.day() {
            anniversary.succ_opt()
        } else {
            Some(anniversary)
        }
    };
    let mut months = 0u32;
    while months < 12 * 100 && complete(months + 1).is_some_and(|d| d <= after_end) {
        months += 1;
    }
    let begun = complete(months).is_some_and(|d| d < after_end);
    months + u32::from(begun)
}

/// Derived figures, exact per currency (rounded to its minor unit only where
/// a division makes it necessary, half away from zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractFigures {
    /// Monthly recurring value: nothing for a one-time contract.
    pub monthly: Decimal,
    /// Over the whole term.
    pub total: Decimal,
}

pub fn figures(amount: Decimal, currency: Currency, period: BillingPeriod, months: u32) -> ContractFigures {
    let round = |d: Decimal| d.round_dp_with_strategy(currency.minor_units(), RoundingStrategy::MidpointAwayFromZero);
    let months = Decimal::from(months);
    match period {
        BillingPeriod::OneTime => ContractFigures { monthly: Decimal::ZERO, total: amount },
        BillingPeriod::Monthly => ContractFigures { monthly: amount, total: amount * months },
        BillingPeriod::Annual => ContractFigures {
            monthly: round(amount / Decimal::from(12)),
            total: round(amount * months / Decimal::from(12)),
        },
    }
}

/// The last day an auto-renewing contract can still be cancelled.
pub fn notice_deadline(end: NaiveDate, notice_days: i32) -> NaiveDate {
    end.checked_sub_days(chrono::Days::new(u64::try_from(notice_days).unwrap_or(0))).unwrap_or(end)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    pub id: Uuid,
    pub title: String,
    pub contract_number: Option<String>,
    pub account_id: Uuid,
    pub account_name: String,
    pub deal_id: Option<Uuid>,
    pub deal_name: Option<String>,
    pub state: ContractState,
    pub status: ContractStatus,
    #[serde(with = "crate::domain::iso_date")]
    pub start_date: NaiveDate,
    #[serde(with = "crate::domain::iso_date")]
    pub end_date: NaiveDate,
    pub amount: Decimal,
    pub currency: String,
    pub billing_period: BillingPeriod,
    pub auto_renew: bool,
    pub notice_days: i32,
    pub owner: UserRef,
    pub notes: Option<String>,
    #[serde(with = "crate::domain::iso_date_option")]
    pub terminated_on: Option<NaiveDate>,
    pub termination_reason: Option<String>,
    pub figures: ContractFigures,
    pub days_to_renewal: i64,
    #[serde(with = "crate::domain::iso_date")]
    pub notice_deadline: NaiveDate,
    pub version: i32,
    pub updated_by: String,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractDetail {
    pub contract: Contract,
    pub history: Vec<HistoryEntry>,
    pub can: Permissions,
}

/// One contract in a list (the list, the renewal queue, a deal's or an account's page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractRow {
    pub id: Uuid,
    pub title: String,
    pub contract_number: Option<String>,
    pub account_name: String,
    pub status: ContractStatus,
    #[serde(with = "crate::domain::iso_date")]
    pub end_date: NaiveDate,
    #[serde(with = "crate::domain::iso_date")]
    pub notice_deadline: NaiveDate,
    pub days_to_renewal: i64,
    pub amount: Decimal,
    pub currency: String,
    pub billing_period: BillingPeriod,
    pub monthly: Decimal,
    pub auto_renew: bool,
    pub owner_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ContractQuery {
    pub q: String,
    pub owner: String,
    pub status: String,
    pub currency: String,
    pub account: String,
    pub deal: String,
    /// Renewal window in days (30, 60 or 90); empty for any.
    pub within: String,
    /// "title" (the default) or "end" (soonest end date first); the renewal
    /// queue has its own order.
    #[serde(default)]
    pub sort: String,
    pub after: String,
    pub before: String,
    pub deleted: bool,
}

/// Monthly recurring value of live, active contracts in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyTotal {
    pub currency: String,
    pub monthly: Decimal,
    pub count: i64,
}

pub type ContractList = Page<ContractRow>;

/// The renewal windows the queue offers, in days.
pub const RENEWAL_WINDOWS: [(u32, T); 3] = [(30, T::NextDays30), (60, T::NextDays60), (90, T::NextDays90)];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContractForm {
    pub title: String,
    pub contract_number: String,
    pub account_id: String,
    pub deal_id: String,
    /// "draft" or "signed" (termination has its own form).
    pub state: String,
    pub start_date: String,
    pub end_date: String,
    pub amount: String,
    pub currency: String,
    pub billing_period: String,
    /// A checkbox: "on" when ticked, absent otherwise.
    pub auto_renew: String,
    pub notice_days: String,
    pub owner_id: String,
    pub notes: String,
}

impl ContractForm {
    pub fn from_contract(c: &Contract) -> Self {
        ContractForm {
            title: c.title.clone(),
            contract_number: c.contract_number.clone().unwrap_or_default(),
            account_id: c.account_id.to_string(),
            deal_id: c.deal_id.map(|d| d.to_string()).unwrap_or_default(),
            state: c.state.code().to_string(),
            start_date: c.start_date.to_string(),
            end_date: c.end_date.to_string(),
            amount: c.amount.normalize().to_string(),
            currency: c.currency.clone(),
            billing_period: c.billing_period.code().to_string(),
            auto_renew: if c.auto_renew { "on".into() } else { String::new() },
            notice_days: c.notice_days.to_string(),
            owner_id: c.owner.id.to_string(),
            notes: c.notes.clone().unwrap_or_default(),
        }
    }
}

/// What a new contract's form starts from when it comes from a won deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractStart {
    pub account_id: Uuid,
    pub account_name: String,
    pub deal_id: Option<Uuid>,
    pub form: ContractForm,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TerminateForm {
    pub terminated_on: String,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn terms_count_whole_months_and_a_begun_one() {
        assert_eq!(term_months(day(2026, 1, 1), day(2026, 12, 31)), 12);
        assert_eq!(term_months(day(2026, 1, 15), day(2027, 1, 14)), 12);
        assert_eq!(term_months(day(2026, 1, 1), day(2026, 1, 1)), 1, "one day is a month begun");
        assert_eq!(term_months(day(2026, 1, 1), day(2026, 12, 30)), 12, "a part month counts");
        // Month ends: 31 January to the end of February, in a leap year and not.
        assert_eq!(term_months(day(2024, 1, 31), day(2024, 2, 29)), 1);
        assert_eq!(term_months(day(2025, 1, 31), day(2025, 2, 28)), 1);
        assert_eq!(term_months(day(2024, 2, 29), day(2025, 2, 28)), 12, "from a leap day");
        assert_eq!(term_months(day(2024, 3, 1), day(2027, 2, 28)), 36);
    }

    #[test]
    fn figures_are_exact_per_currency() {
        let d = |s: &str| s.parse::<Decimal>().expect("decimal");
        let monthly = figures(d("1500000"), Currency::Krw, BillingPeriod::Monthly, 12);
        assert_eq!((monthly.monthly, monthly.total), (d("1500000"), d("18000000")));
        let annual = figures(d("1000000"), Currency::Krw, BillingPeriod::Annual, 12);
        assert_eq!((annual.monthly, annual.total), (d("83333"), d("1000000")), "KRW has no minor unit");
        let annual_usd = figures(d("1000"), Currency::Usd, BillingPeriod::Annual, 18);
        assert_eq!((annual_usd.monthly, annual_usd.total), (d("83.33"), d("1500")));
        let once = figures(d("5000000"), Currency::Krw, BillingPeriod::OneTime, 3);
        assert_eq!((once.monthly, once.total), (Decimal::ZERO, d("5000000")));
    }

    #[test]
    fn status_follows_the_dates_and_the_notice_deadline_the_end() {
        let end = day(2026, 12, 31);
        assert_eq!(ContractStatus::of(ContractState::Signed, end, day(2026, 12, 31)), ContractStatus::Active);
        assert_eq!(ContractStatus::of(ContractState::Signed, end, day(2027, 1, 1)), ContractStatus::Expired);
        assert_eq!(ContractStatus::of(ContractState::Draft, end, day(2027, 1, 1)), ContractStatus::Draft);
        assert_eq!(ContractStatus::of(ContractState::Terminated, end, day(2026, 1, 1)), ContractStatus::Terminated);
        assert_eq!(notice_deadline(end, 30), day(2026, 12, 1));
        assert_eq!(notice_deadline(day(2024, 3, 31), 31), day(2024, 2, 29));
    }
}
