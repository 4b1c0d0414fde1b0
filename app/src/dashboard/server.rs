//! Dashboard SQL. Deal figures come from `pipeline_totals`; visibility is in
//! the queries: a rep's figures are their own, whatever the filter says.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use super::*;
use crate::auth::CurrentUser;
use crate::domain::Currency;
use crate::error::AppError;
use crate::i18n::seoul_today;

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The period's first and last close month.
pub fn period(code: &str, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let this_month = month_start(today);
    match code {
        "month" => (this_month, this_month),
        "year" => {
            let first = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(this_month);
            (first, first.checked_add_months(Months::new(11)).unwrap_or(first))
        }
        _ => {
            let first_month = (today.month0() / 3) * 3 + 1;
            let first = NaiveDate::from_ymd_opt(today.year(), first_month, 1).unwrap_or(this_month);
            (first, first.checked_add_months(Months::new(2)).unwrap_or(first))
        }
    }
}

pub async fn dashboard(pool: &PgPool, user: &CurrentUser, query: &DashboardQuery) -> Result<Dashboard, AppError> {
    let today = seoul_today();
    let owner: Option<Uuid> =
        if user.sees_all_owned() { Uuid::parse_str(query.owner.trim()).ok() } else { Some(user.id) };
    let currency: Option<&str> = Currency::parse(&query.currency).ok().map(|c| c.code());
    let (period_from, period_to) = period(query.period.trim(), today);
    let this_month = month_start(today);
    let ahead = this_month.checked_add_months(Months::new(11)).unwrap_or(this_month);
    let back = this_month.checked_sub_months(Months::new(11)).unwrap_or(this_month);

    let stages = sqlx::query_as!(
        StageInfo,
        "select id, position, name_ko, name_en, default_probability, is_won, is_lost from stages order by position",
    )
    .fetch_all(pool)
    .await?;

    let by_stage = sqlx::query_as!(
        StageFigure,
        r#"select t.stage_id, t.currency, sum(t.deal_count)::bigint as "count!", sum(t.amount_sum) as "amount!",
                  sum(t.weighted_sum) as "weighted!"
           from pipeline_totals t join stages s on s.id = t.stage_id
           where not s.is_won and not s.is_lost
             and ($1::uuid is null or t.owner_id = $1) and ($2::text is null or t.currency = $2)
           group by t.stage_id, s.position, t.currency having sum(t.deal_count) > 0
           order by t.currency, s.position"#,
        owner,
        currency,
    )
    .fetch_all(pool)
    .await?;

    // Twelve months ahead (weighted open pipeline) and twelve back (won).
    let forecast = sqlx::query_as!(
        MonthFigure,
        r#"select t.close_month as month, t.currency,
                  coalesce(sum(t.weighted_sum) filter (where not s.is_won and not s.is_lost), 0) as "weighted!",
                  coalesce(sum(t.amount_sum) filter (where s.is_won), 0) as "won!"
           from pipeline_totals t join stages s on s.id = t.stage_id
           where t.close_month between $3 and $4 and not s.is_lost
             and ($1::uuid is null or t.owner_id = $1) and ($2::text is null or t.currency = $2)
           group by t.close_month, t.currency
           having sum(t.deal_count) > 0
           order by t.currency, t.close_month"#,
        owner,
        currency,
        back,
        ahead,
    )
    .fetch_all(pool)
    .await?;
    // Past months show what was won, months ahead what is expected.
    let forecast = forecast
        .into_iter()
        .map(|m| MonthFigure {
            weighted: if m.month >= this_month { m.weighted } else { Decimal::ZERO },
            won: if m.month <= this_month { m.won } else { Decimal::ZERO },
            ..m
        })
        .collect();

    let win_rate = sqlx::query_as!(
        WinRate,
        r#"select t.currency,
                  coalesce(sum(t.deal_count) filter (where s.is_won), 0)::bigint as "won_count!",
                  coalesce(sum(t.deal_count) filter (where s.is_lost), 0)::bigint as "lost_count!",
                  coalesce(sum(t.amount_sum) filter (where s.is_won), 0) as "won_amount!",
                  coalesce(sum(t.amount_sum) filter (where s.is_lost), 0) as "lost_amount!"
           from pipeline_totals t join stages s on s.id = t.stage_id
           where (s.is_won or s.is_lost) and t.close_month between $3 and $4
             and ($1::uuid is null or t.owner_id = $1) and ($2::text is null or t.currency = $2)
           group by t.currency having sum(t.deal_count) > 0 order by t.currency"#,
        owner,
        currency,
        period_from,
        period_to,
    )
    .fetch_all(pool)
    .await?;

    let leaderboard = sqlx::query!(
        r#"select u.display_name, t.currency,
                  coalesce(sum(t.amount_sum) filter (where not s.is_won and not s.is_lost), 0) as "open!",
                  coalesce(sum(t.weighted_sum) filter (where not s.is_won and not s.is_lost), 0) as "weighted!",
                  coalesce(sum(t.deal_count) filter (where s.is_won and t.close_month between $3 and $4), 0)::bigint
                      as "won_count!",
                  coalesce(sum(t.deal_count) filter (where s.is_lost and t.close_month between $3 and $4), 0)::bigint
                      as "lost_count!",
                  coalesce(sum(t.amount_sum) filter (where s.is_won and t.close_month between $3 and $4), 0)
                      as "won_amount!",
                  coalesce(sum(t.amount_sum) filter (where s.is_lost and t.close_month between $3 and $4), 0)
                      as "lost_amount!",
                  coalesce(sum(t.close_days_sum) filter (where s.is_won and t.close_month between $3 and $4), 0)::bigint
                      as "won_days!"
           from pipeline_totals t join stages s on s.id = t.stage_id join users u on u.id = t.owner_id
           where ($1::uuid is null or t.owner_id = $1) and ($2::text is null or t.currency = $2)
           group by u.display_name, t.currency having sum(t.deal_count) > 0
           order by t.currency, 3 desc, u.display_name"#,
        owner,
        currency,
        period_from,
        period_to,
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| OwnerFigure {
        owner_name: r.display_name,
        currency: r.currency.clone(),
        open_amount: r.open,
        weighted: r.weighted,
        won_amount: r.won_amount,
        days_to_close: (r.won_count > 0).then(|| round_half_up(Decimal::from(r.won_days) / Decimal::from(r.won_count))),
        rate: WinRate {
            currency: r.currency,
            won_count: r.won_count,
            lost_count: r.lost_count,
            won_amount: r.won_amount,
            lost_amount: r.lost_amount,
        },
    })
    .collect();

    // Time in stage from its histogram (see migration 014): a few rows per
    // stage whatever the number of deals.
    let histogram = sqlx::query!(
        r#"select t.stage_id, t.days, sum(t.stay_count)::bigint as "stays!"
           from stage_time_totals t join stages s on s.id = t.stage_id
           where ($1::uuid is null or t.owner_id = $1) and ($2::text is null or t.currency = $2)
           group by s.position, t.stage_id, t.days having sum(t.stay_count) > 0
           order by s.position, t.days"#,
        owner,
        currency,
    )
    .fetch_all(pool)
    .await?;
    let stage_time = histogram
        .chunk_by(|a, b| a.stage_id == b.stage_id)
        .filter_map(|rows| {
            let counts: Vec<(i32, i64)> = rows.iter().map(|r| (r.days, r.stays)).collect();
            stage_time(rows.first()?.stage_id.clone(), &counts)
        })
        .collect();

    let stale_days = query.stale.trim().parse::<i64>().ok().filter(|d| (7..=365).contains(d)).unwrap_or(STALE_DAYS);
    // Read in the stale index's order, skipping closed deals, until a page is full.
    let stale = sqlx::query!(
        r#"select d.id, d.name, u.display_name, d.stage_id,
                  extract(day from now() - coalesce(d.last_activity_at, d.created_at))::bigint as "idle_days!"
           from deals d join stages s on s.id = d.stage_id join users u on u.id = d.owner_id
           where d.deleted_at is null and not s.is_won and not s.is_lost
             and coalesce(d.last_activity_at, d.created_at) < now() - make_interval(days => $1::int)
             and ($2::uuid is null or d.owner_id = $2) and ($3::text is null or d.currency = $3)
           order by coalesce(d.last_activity_at, d.created_at), d.id
           limit $4"#,
        stale_days as i32,
        owner,
        currency,
        STALE_SHOWN,
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| StaleDeal {
        id: r.id,
        name: r.name,
        owner_name: r.display_name,
        stage_id: r.stage_id,
        idle_days: r.idle_days,
    })
    .collect();

    Ok(Dashboard {
        stale,
        stale_days,
        stages,
        by_stage,
        forecast,
        win_rate,
        leaderboard,
        stage_time,
        renewals: renewals(pool, owner, currency, today).await?,
        can_filter_owner: user.sees_all_owned(),
        period_from,
        period_to,
    })
}

/// The renewal panel: signed contracts whose end date or notice deadline
/// falls in the next 30/60/90 days, and the monthly recurring value of
/// active ones (per contract rounded to the currency's unit, as on its page).
async fn renewals(
    pool: &PgPool,
    owner: Option<Uuid>,
    currency: Option<&str>,
    today: NaiveDate,
) -> Result<Option<Renewals>, AppError> {
    let any = sqlx::query_scalar!(r#"select exists (select 1 from contracts where deleted_at is null) as "any!""#)
        .fetch_one(pool)
        .await?;
    if !any {
        return Ok(None);
    }
    let mut due = Vec::new();
    for days in [30u32, 60, 90] {
        let last = today.checked_add_days(chrono::Days::new(u64::from(days))).unwrap_or(today);
        let count = sqlx::query_scalar!(
            r#"select count(*) as "count!" from contracts c
               where c.deleted_at is null and c.state = 'signed'
                 and (c.end_date between $1 and $2 or c.end_date - c.notice_days between $1 and $2)
                 and ($3::uuid is null or c.owner_id = $3) and ($4::text is null or c.currency = $4)"#,
            today,
            last,
            owner,
            currency,
        )
        .fetch_one(pool)
        .await?;
        due.push((days, count));
    }
    let monthly = sqlx::query!(
        r#"select currency,
                  sum(case billing_period
                          when 'monthly' then amount
                          when 'annual' then round(amount / 12, case currency when 'KRW' then 0 else 2 end)
                          else 0 end) as "monthly!"
           from contracts
           where deleted_at is null and state = 'signed' and end_date >= $1
             and ($2::uuid is null or owner_id = $2) and ($3::text is null or currency = $3)
           group by currency order by currency"#,
        today,
        owner,
        currency,
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.currency, r.monthly.normalize()))
    .collect();
    Ok(Some(Renewals { due, monthly }))
}
