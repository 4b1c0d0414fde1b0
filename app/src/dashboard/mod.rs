//! The pipeline dashboard (대시보드): the figures the team's Monday meeting
//! reads, per currency (KRW and USD are never added), drawn on the server as
//! SVG with a data table beside each chart. No island: the page works, and
//! every chart shows, without JavaScript.
//!
//! Deal figures come from `pipeline_totals` (kept exact by statement-level
//! triggers on `deals`), so their cost does not grow with the number of
//! deals; the renewal panel reads `contracts` through its renewal indexes.

pub mod api;
#[cfg(feature = "ssr")]
pub mod server;
pub mod views;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::StageInfo;
use crate::i18n::T;

/// The filters, as the page's GET form sends them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DashboardQuery {
    /// An owner's id (managers, viewers and admins); a rep always sees their own.
    pub owner: String,
    /// "KRW", "USD" or empty for both (shown side by side, never added).
    pub currency: String,
    /// "month", "quarter" (the default) or "year": the period of the win rate
    /// and of "won this period".
    pub period: String,
    /// Days without activity after which an open deal is stale (7 to 365; 30 by default).
    pub stale: String,
}

/// Days without activity that make an open deal stale, unless the filter says otherwise.
pub const STALE_DAYS: i64 = 30;

/// How many stale deals the panel lists (oldest first).
pub const STALE_SHOWN: i64 = 10;

/// An open deal without activity for the chosen number of days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleDeal {
    pub id: uuid::Uuid,
    pub name: String,
    pub owner_name: String,
    pub stage_id: String,
    /// Days since its last activity (or since it was created, before any).
    pub idle_days: i64,
}

pub const PERIODS: [(&str, T); 3] =
    [("month", T::CloseThisMonth), ("quarter", T::CloseThisQuarter), ("year", T::CloseThisYear)];

/// Open pipeline in one stage and currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageFigure {
    pub stage_id: String,
    pub currency: String,
    pub count: i64,
    pub amount: Decimal,
    pub weighted: Decimal,
}

/// One month of the forecast: weighted open pipeline expected to close in
/// it (months ahead), and what was won with a close date in it (months past).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthFigure {
    #[serde(with = "crate::domain::iso_date")]
    pub month: NaiveDate,
    pub currency: String,
    pub weighted: Decimal,
    pub won: Decimal,
}

/// Won and lost deals closing in the period, one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WinRate {
    pub currency: String,
    pub won_count: i64,
    pub lost_count: i64,
    pub won_amount: Decimal,
    pub lost_amount: Decimal,
}

impl WinRate {
    /// won / (won + lost), by count, in percent; `None` with nothing closed.
    pub fn by_count(&self) -> Option<Decimal> {
        percent(Decimal::from(self.won_count), Decimal::from(self.won_count + self.lost_count))
    }

    pub fn by_value(&self) -> Option<Decimal> {
        percent(self.won_amount, self.won_amount + self.lost_amount)
    }
}

fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    (!whole.is_zero()).then(|| (part * Decimal::from(100) / whole).round_dp(1))
}

/// One owner's figures in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerFigure {
    pub owner_name: String,
    pub currency: String,
    pub open_amount: Decimal,
    pub weighted: Decimal,
    pub won_amount: Decimal,
    pub rate: WinRate,
    /// Average days from creation to won, over the deals won in the period;
    /// `None` when none were.
    pub days_to_close: Option<Decimal>,
}

/// How long deals stayed in one stage before they left it, in days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    pub stage_id: String,
    /// Finished stays counted.
    pub stays: i64,
    pub average: Decimal,
    pub median: Decimal,
}

/// One decimal, halves away from zero (as people round, and as SQL's `round`
/// does), not the banker's rounding `round_dp` defaults to.
pub fn round_half_up(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// Average and median of one stage's stays, from its histogram of
/// (length in days, number of stays) in ascending length. Exact: the median
/// of an even count is the mean of the two middle stays.
pub fn stage_time(stage_id: String, histogram: &[(i32, i64)]) -> Option<StageTime> {
    let stays: i64 = histogram.iter().map(|(_, n)| n).sum();
    if stays <= 0 {
        return None;
    }
    let total: Decimal = histogram.iter().map(|(days, n)| Decimal::from(*days) * Decimal::from(*n)).sum();
    // The k-th stay (1-based) in ascending order.
    let nth = |k: i64| {
        let mut seen = 0;
        for (days, n) in histogram {
            seen += n;
            if seen >= k {
                return Decimal::from(*days);
            }
        }
        Decimal::ZERO
    };
    let median = if stays % 2 == 1 { nth(stays / 2 + 1) } else { (nth(stays / 2) + nth(stays / 2 + 1)) / Decimal::TWO };
    Some(StageTime {
        stage_id,
        stays,
        average: round_half_up(total / Decimal::from(stays)),
        median: median.round_dp(1).normalize(),
    })
}

/// Contracts coming up for renewal, and monthly recurring value per currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Renewals {
    /// (window in days, contracts whose end date or notice deadline falls in it).
    pub due: Vec<(u32, i64)>,
    /// (currency, monthly recurring value of active contracts).
    pub monthly: Vec<(String, Decimal)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub stages: Vec<StageInfo>,
    pub by_stage: Vec<StageFigure>,
    pub forecast: Vec<MonthFigure>,
    pub win_rate: Vec<WinRate>,
    pub leaderboard: Vec<OwnerFigure>,
    /// Per stage in board order, stages without a finished stay left out.
    pub stage_time: Vec<StageTime>,
    /// `None` while there are no contracts: the panel appears with them.
    pub renewals: Option<Renewals>,
    pub stale: Vec<StaleDeal>,
    pub stale_days: i64,
    /// Whether the owner filter applies (a rep always sees their own figures).
    pub can_filter_owner: bool,
    #[serde(with = "crate::domain::iso_date")]
    pub period_from: NaiveDate,
    #[serde(with = "crate::domain::iso_date")]
    pub period_to: NaiveDate,
}

/// An amount as a chart label: short, per language (1.2억 / ₩120M).
pub fn compact_amount(amount: Decimal, currency: &str, lang: crate::i18n::Lang) -> String {
    use crate::i18n::Lang;
    // Decimal throughout (never a float): a label is the amount in a unit,
    // one decimal below 100 units, none above.
    let short = |unit: i64, suffix: &str| {
        let value = amount / Decimal::from(unit);
        let places = if value.abs() >= Decimal::from(100) { 0 } else { 1 };
        let value = value.round_dp(places).normalize();
        format!("{value}{suffix}")
    };
    let abs = amount.abs();
    let at_least = |n: i64| abs >= Decimal::from(n);
    match (currency, lang) {
        ("KRW", Lang::Ko) if at_least(100_000_000) => short(100_000_000, "억"),
        ("KRW", Lang::Ko) if at_least(10_000) => short(10_000, "만"),
        ("KRW", Lang::Ko) => format!("{}원", amount.round_dp(0)),
        ("KRW", Lang::En) if at_least(1_000_000_000) => format!("₩{}", short(1_000_000_000, "B")),
        ("KRW", Lang::En) if at_least(1_000_000) => format!("₩{}", short(1_000_000, "M")),
        ("KRW", Lang::En) if at_least(1_000) => format!("₩{}", short(1_000, "K")),
        ("KRW", Lang::En) => format!("₩{}", amount.round_dp(0)),
        (_, _) if at_least(1_000_000) => format!("${}", short(1_000_000, "M")),
        (_, _) if at_least(1_000) => format!("${}", short(1_000, "K")),
        (_, _) => format!("${}", amount.round_dp(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn chart_labels_are_short_in_each_language() {
        assert_eq!(compact_amount(d("120000000"), "KRW", Lang::Ko), "1.2억");
        assert_eq!(compact_amount(d("120000000"), "KRW", Lang::En), "₩120M");
        assert_eq!(compact_amount(d("35000000"), "KRW", Lang::Ko), "3500만");
        assert_eq!(compact_amount(d("1234567"), "USD", Lang::En), "$1.2M");
        assert_eq!(compact_amount(d("500"), "USD", Lang::Ko), "$500");
    }

    #[test]
    fn win_rates_by_count_and_value() {
        let rate = WinRate {
            currency: "KRW".into(),
            won_count: 1,
            lost_count: 2,
            won_amount: d("300"),
            lost_amount: d("100"),
        };
        assert_eq!((rate.by_count(), rate.by_value()), (Some(d("33.3")), Some(d("75.0"))));
        let none = WinRate { won_count: 0, lost_count: 0, won_amount: d("0"), lost_amount: d("0"), ..rate };
        assert_eq!(none.by_count(), None);
    }

    #[test]
    fn time_in_stage_averages_and_medians_a_histogram() {
        // Stays of 1, 1, 2, 10 days: average 3.5, median (1 + 2) / 2.
        let even = stage_time("lead".into(), &[(1, 2), (2, 1), (10, 1)]).expect("stays");
        assert_eq!((even.stays, even.average, even.median), (4, d("3.5"), d("1.5")));
        // Stays of 0, 3, 3: the middle one.
        let odd = stage_time("lead".into(), &[(0, 1), (3, 2)]).expect("stays");
        assert_eq!((odd.average, odd.median), (d("2.0"), d("3")));
        assert_eq!(stage_time("lead".into(), &[]), None);
        // 2.25 days is 2.3, not the banker's 2.2.
        assert_eq!(stage_time("lead".into(), &[(2, 3), (3, 1)]).expect("stays").average, d("2.3"));
    }
}
