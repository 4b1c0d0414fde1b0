//! Deal SQL. Visibility is in every query: reps see only their own deals;
//! managers, admins and viewers see all. Stage rules go through `check_stage`
//! on every path that changes a stage.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::*;
use crate::auth::CurrentUser;
use crate::domain::{self, Currency};
use crate::error::AppError;
use crate::i18n::{Lang, T};
use crate::record::export::{Cell, Column};
use crate::record::server::{audit, check_version, live_account, lock, owner_for};
use crate::record::{AuditAction, Echo, Entity, FieldErrors, Page, Permissions, PAGE_SIZE};
use crate::server::{contains_pattern, finish_page, search_turn, Cursor, SEARCH_FEW, SEARCH_WALK};

pub async fn stages(conn: impl sqlx::PgExecutor<'_>) -> Result<Vec<StageInfo>, AppError> {
    let rows = sqlx::query_as!(
        StageInfo,
        "select id, position, name_ko, name_en, default_probability, is_won, is_lost from stages order by position",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

pub struct ValidDeal {
    pub name: String,
    pub account_id: Uuid,
    pub stage: StageInfo,
    pub amount: Option<Decimal>,
    pub currency: Currency,
    pub probability: i32,
    pub expected_close_date: Option<NaiveDate>,
    pub owner_id: Option<Uuid>,
    pub source: Option<String>,
    pub lost_reason: Option<String>,
}

/// Close dates further out than this are typos, not plans.
fn date_in_range(d: NaiveDate) -> bool {
    let today = crate::i18n::seoul_today();
    let earliest = today.checked_sub_months(Months::new(12 * 5)).unwrap_or(today);
    let latest = today.checked_add_months(Months::new(12 * 10)).unwrap_or(today);
    (earliest..=latest).contains(&d)
}

impl DealForm {
    pub fn validate(&self, stages: &[StageInfo]) -> Result<ValidDeal, AppError> {
        let mut errors = FieldErrors::new();
        let name = errors.optional("name", domain::clean_text(&self.name, 200, true));
        let stage = errors
            .check("stage_id", stages.iter().find(|s| s.id == self.stage_id.trim()).cloned().ok_or(T::InvalidStage));
        let currency = errors.check("currency", Currency::parse(&self.currency));
        let amount = currency.and_then(|c| errors.optional("amount", domain::parse_amount(&self.amount, c)));
        let probability = errors.optional("probability", domain::parse_probability(&self.probability));
        let expected_close_date = errors.optional(
            "expected_close_date",
            domain::parse_date(&self.expected_close_date).and_then(|d| {
                if d.is_some_and(|d| !date_in_range(d)) {
                    Err(T::DateOutOfRange)
                } else {
                    Ok(d)
                }
            }),
        );
        let account_id =
            errors.check("account_id", Uuid::parse_str(self.account_id.trim()).map_err(|_| T::AccountNotFound));
        let owner_id = errors.optional("owner_id", domain::parse_optional_id(&self.owner_id));
        let source = errors.optional("source", domain::clean_text(&self.source, 100, false));
        let lost_reason = errors.optional("lost_reason", domain::clean_text(&self.lost_reason, 500, false));
        let valid = match (name, stage, currency, account_id) {
            (Some(name), Some(stage), Some(currency), Some(account_id)) => Some(ValidDeal {
                name,
                account_id,
                probability: probability.unwrap_or(stage.default_probability),
                stage,
                amount,
                currency,
                expected_close_date,
                owner_id,
                source,
                lost_reason,
            }),
            _ => None,
        };
        errors.finish(valid, self.to_pairs())
    }
}

/// The field a broken stage rule points at.
fn rule_field(message: T) -> &'static str {
    match message {
        T::WonNeedsAmountAndDate => "amount",
        T::LostNeedsReason => "lost_reason",
        _ => "stage_id",
    }
}

/// A deal row as `get` selects it; the shared type nests the owner and
/// normalizes the amount.
struct DealRecord {
    id: Uuid,
    name: String,
    account_id: Uuid,
    account_name: String,
    stage_id: String,
    amount: Option<Decimal>,
    currency: String,
    probability: i32,
    expected_close_date: Option<NaiveDate>,
    owner_id: Uuid,
    owner_name: String,
    source: Option<String>,
    lost_reason: Option<String>,
    last_activity_at: Option<DateTime<Utc>>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_by: String,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl From<DealRecord> for Deal {
    fn from(r: DealRecord) -> Self {
        Deal {
            id: r.id,
            name: r.name,
            account_id: r.account_id,
            account_name: r.account_name,
            stage_id: r.stage_id,
            amount: r.amount.map(|a| a.normalize()),
            currency: r.currency,
            probability: r.probability,
            expected_close_date: r.expected_close_date,
            owner: crate::auth::UserRef { id: r.owner_id, display_name: r.owner_name },
            source: r.source,
            lost_reason: r.lost_reason,
            last_activity_at: r.last_activity_at,
            version: r.version,
            created_at: r.created_at,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        }
    }
}

pub async fn get(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<Deal, AppError> {
    let record = sqlx::query_as!(
        DealRecord,
        "select d.id, d.name, d.account_id, a.name as account_name, d.stage_id, d.amount, d.currency, d.probability,
                d.expected_close_date, d.owner_id, o.display_name as owner_name, d.source, d.lost_reason,
                d.last_activity_at, d.version, d.created_at, ub.display_name as updated_by, d.updated_at, d.deleted_at
         from deals d join accounts a on a.id = d.account_id join users o on o.id = d.owner_id
         join users ub on ub.id = d.updated_by
         where d.id = $1 and (d.owner_id = $2 or $3) and (d.deleted_at is null or $4)",
        id,
        user.id,
        user.sees_all_owned(),
        user.is_manager(),
    )
    .fetch_optional(pool)
    .await?;
    record.map(Deal::from).ok_or(AppError::NotFound)
}

pub async fn detail(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<DealDetail, AppError> {
    let deal = get(pool, user, id).await?;
    let stages = stages(pool).await?;
    let spans: Vec<(Option<String>, String, String, DateTime<Utc>)> = sqlx::query!(
        "select h.from_stage, h.to_stage, u.display_name, h.changed_at
         from deal_stage_history h join users u on u.id = h.changed_by where h.deal_id = $1 order by h.id",
        id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.from_stage, r.to_stage, r.display_name, r.changed_at))
    .collect();
    let now = Utc::now();
    let stage_history = spans
        .iter()
        .enumerate()
        .map(|(i, (from, to, by, at))| {
            let until = spans.get(i + 1).map(|s| s.3).unwrap_or(now);
            StageSpan {
                from_stage: from.clone(),
                to_stage: to.clone(),
                changed_by: by.clone(),
                changed_at: *at,
                days: (until - *at).num_days(),
            }
        })
        .collect();
    let history = crate::record::server::history(pool, Entity::Deal, id).await?;
    Ok(DealDetail {
        can: Permissions::of(user, deal.owner.id, deal.deleted_at.is_some()),
        deal,
        stages,
        stage_history,
        history,
    })
}

/// Whether the bigram index holds at most `SEARCH_FEW` deals for a two-character
/// word (before visibility and filters: this only chooses how to search).
async fn rare_in_names(pool: &PgPool, text: &str) -> Result<bool, AppError> {
    let candidates = sqlx::query_scalar!(
        r#"select count(*) as "n!" from (select 1 from deals where name_bigrams(name) @> name_bigrams($1) limit $2) x"#,
        text,
        SEARCH_FEW + 1,
    )
    .persistent(false)
    .fetch_one(pool)
    .await?;
    Ok(candidates <= SEARCH_FEW)
}

/// How a list query matches its search text.
enum Matching {
    None,
    /// The first `SEARCH_WALK` rows in list order, filtered by the text.
    Walk(String),
    /// Two characters, through the bigram index.
    Bigrams(String),
    /// Three or more, through the trigram index.
    Trigrams(String),
}

pub async fn list(pool: &PgPool, user: &CurrentUser, query: &DealQuery) -> Result<DealList, AppError> {
    list_sized(pool, user, query, PAGE_SIZE).await
}

/// `list` with `size` rows a page: exports read the same list in larger pages.
pub async fn list_sized(pool: &PgPool, user: &CurrentUser, query: &DealQuery, size: i64) -> Result<DealList, AppError> {
    let cursor = Cursor::from_query(&query.after, &query.before);
    let backwards = cursor.as_ref().is_some_and(|c| c.backwards);
    let dir = if backwards { "desc" } else { "asc" };
    let search = domain::parse_search(&query.q).map_err(|m| AppError::field("", m))?;
    let _turn = search_turn(user.id, search.is_some()).await?;
    // Every filter but the search text, after `where`.
    let push_filters = |qb: &mut QueryBuilder<'_, Postgres>| {
        qb.push(if query.deleted && user.is_manager() { "d.deleted_at is not null " } else { "d.deleted_at is null " });
        // Visibility, in the query itself.
        qb.push("and (d.owner_id = ").push_bind(user.id).push(" or ").push_bind(user.sees_all_owned()).push(") ");
        if let Ok(owner) = Uuid::parse_str(query.owner.trim()) {
            qb.push("and d.owner_id = ").push_bind(owner).push(" ");
        }
        if let Ok(account) = Uuid::parse_str(query.account.trim()) {
            qb.push("and d.account_id = ").push_bind(account).push(" ");
        }
        if !query.stage.trim().is_empty() {
            qb.push("and d.stage_id = ").push_bind(query.stage.trim().to_string()).push(" ");
        }
        if let Ok(c) = Currency::parse(&query.currency) {
            qb.push("and d.currency = ").push_bind(c.code()).push(" ");
        }
        if let Some(c) = &cursor {
            qb.push(if backwards { "and (d.name, d.id) < (" } else { "and (d.name, d.id) > (" });
            qb.push_bind(c.value.clone()).push(", ").push_bind(c.id).push(") ");
        }
    };
    let build = |matching: &Matching| {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "select d.id, d.name, a.name as account_name, d.stage_id, d.amount, d.currency, d.probability,
                    d.expected_close_date, o.display_name as owner_name, d.updated_at from ",
        );
        if let Matching::Walk(_) = matching {
            qb.push("(select * from deals d where ");
            push_filters(&mut qb);
            qb.push(format!("order by d.name {dir}, d.id {dir} limit {SEARCH_WALK}) d "));
        } else {
            qb.push("deals d ");
        }
        qb.push("join accounts a on a.id = d.account_id join users o on o.id = d.owner_id where ");
        match matching {
            Matching::Walk(text) => {
                qb.push("d.name ilike ").push_bind(contains_pattern(text)).push(" ");
            }
            Matching::Bigrams(text) => {
                push_filters(&mut qb);
                // `|| ''` keeps the trigram index (which matches every row
                // for two characters) out of the plan; ILIKE rechecks.
                qb.push("and (d.name || '') ilike ").push_bind(contains_pattern(text));
                qb.push(" and name_bigrams(d.name) @> name_bigrams(").push_bind(text.clone()).push(") ");
            }
            Matching::Trigrams(text) => {
                push_filters(&mut qb);
                qb.push("and d.name ilike ").push_bind(contains_pattern(text)).push(" ");
            }
            Matching::None => push_filters(&mut qb),
        }
        qb.push(format!("order by d.name {dir}, d.id {dir} limit ")).push_bind(size + 1);
        qb
    };
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        name: String,
        account_name: String,
        stage_id: String,
        amount: Option<Decimal>,
        currency: String,
        probability: i32,
        expected_close_date: Option<NaiveDate>,
        owner_name: String,
        updated_at: DateTime<Utc>,
    }
    // Two characters: a common word (a few percent of names) fills a page
    // within the first rows of list order, while the bigram index would
    // fetch and sort all its matches (33,000 at a million deals); a rare
    // word is the other way round. So a word the index holds few rows for
    // goes to the index; any other is looked for in the first `SEARCH_WALK`
    // rows in order, and only when they hold less than a page is the index
    // asked after all.
    let rows: Vec<Row> = match search {
        Some(text) if text.chars().count() == 2 => {
            let walked: Vec<Row> = if rare_in_names(pool, &text).await? {
                Vec::new()
            } else {
                build(&Matching::Walk(text.clone())).build_query_as().persistent(false).fetch_all(pool).await?
            };
            if walked.len() as i64 > size {
                walked
            } else {
                build(&Matching::Bigrams(text)).build_query_as().persistent(false).fetch_all(pool).await?
            }
        }
        Some(text) => build(&Matching::Trigrams(text)).build_query_as().persistent(false).fetch_all(pool).await?,
        None => build(&Matching::None).build_query_as().fetch_all(pool).await?,
    };
    let (rows, more_after, more_before) = finish_page(rows, size, cursor.as_ref());
    let cursor_of = |r: &Row| Cursor::encode(&r.name, r.id);
    let next = rows.last().filter(|_| more_after).map(cursor_of);
    let prev = rows.first().filter(|_| more_before).map(cursor_of);
    Ok(DealList {
        page: Page {
            rows: rows
                .into_iter()
                .map(|r| DealRow {
                    id: r.id,
                    name: r.name,
                    account_name: r.account_name,
                    stage_id: r.stage_id,
                    amount: r.amount.map(|a| a.normalize()),
                    currency: r.currency,
                    probability: r.probability,
                    expected_close_date: r.expected_close_date,
                    owner_name: r.owner_name,
                    updated_at: r.updated_at,
                })
                .collect(),
            next,
            prev,
        },
        stages: stages(pool).await?,
    })
}

async fn record_stage(
    conn: &mut PgConnection,
    deal_id: Uuid,
    from: Option<&str>,
    to: &str,
    actor: Uuid,
) -> Result<(), AppError> {
    sqlx::query!(
        "insert into deal_stage_history (deal_id, from_stage, to_stage, changed_by) values ($1, $2, $3, $4)",
        deal_id,
        from,
        to,
        actor,
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create(pool: &PgPool, user: &CurrentUser, form: &DealForm) -> Result<Uuid, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let all_stages = stages(&mut *tx).await?;
    let v = form.validate(&all_stages)?;
    let id = async {
        let facts = StageFacts { amount: v.amount, close_date: v.expected_close_date, lost_reason: v.lost_reason.clone() };
        check_stage(None, &v.stage, &facts, user.is_manager()).map_err(|m| AppError::field(rule_field(m), m))?;
        live_account(&mut tx, v.account_id).await?;
        let owner = owner_for(&mut tx, user, v.owner_id, None).await?;
        // `to_jsonb` of the inserted row is never null (the macro cannot know).
        let row = sqlx::query!(
            r#"insert into deals (name, account_id, stage_id, amount, currency, probability, expected_close_date, owner_id,
                                  source, lost_reason, created_by, updated_by)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) returning id, to_jsonb(deals.*) as "after!""#,
            v.name,
            v.account_id,
            v.stage.id,
            v.amount,
            v.currency.code(),
            v.probability,
            v.expected_close_date,
            owner,
            v.source,
            v.lost_reason,
            user.id,
        )
        .fetch_one(&mut *tx)
        .await?;
        let id = row.id;
        record_stage(&mut tx, id, None, &v.stage.id, user.id).await?;
        audit(&mut tx, Entity::Deal, id, AuditAction::Create, user.id, None, Some(row.after)).await?;
        Ok::<_, AppError>(id)
    }
    .await
    .map_err(|e| e.with_submitted(form.to_pairs()))?;
    tx.commit().await?;
    Ok(id)
}

/// A deal locked for change (through the record kit) with the facts the stage rules read.
struct LockedDeal {
    locked: crate::record::server::Locked,
    stage_id: String,
    facts: StageFacts,
}

async fn lock_deal(conn: &mut PgConnection, user: &CurrentUser, id: Uuid) -> Result<LockedDeal, AppError> {
    let locked = lock(conn, user, Entity::Deal, id, false).await?;
    let row = sqlx::query!("select stage_id, amount, expected_close_date, lost_reason from deals where id = $1", id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(LockedDeal {
        locked,
        stage_id: row.stage_id,
        facts: StageFacts { amount: row.amount, close_date: row.expected_close_date, lost_reason: row.lost_reason },
    })
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, record_id = %id))]
pub async fn update(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    version: i32,
    form: &DealForm,
) -> Result<(), AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let all_stages = stages(&mut *tx).await?;
    let v = form.validate(&all_stages)?;
    async {
        let current = lock_deal(&mut tx, user, id).await?;
        check_version(&mut tx, Entity::Deal, id, current.locked.version, version).await?;
        let from = all_stages.iter().find(|s| s.id == current.stage_id);
        let facts =
            StageFacts { amount: v.amount, close_date: v.expected_close_date, lost_reason: v.lost_reason.clone() };
        check_stage(from, &v.stage, &facts, user.is_manager()).map_err(|m| AppError::field(rule_field(m), m))?;
        let owner = owner_for(&mut tx, user, v.owner_id, Some(current.locked.owner)).await?;
        let stage_changed = current.stage_id != v.stage.id;
        // `to_jsonb` of the updated row is never null (the macro cannot know).
        let after = sqlx::query_scalar!(
            r#"update deals set name = $2, stage_id = $3, amount = $4, currency = $5, probability = $6,
                      expected_close_date = $7, owner_id = $8, source = $9, lost_reason = $10,
                      stage_changed_at = case when $11 then now() else stage_changed_at end,
                      version = version + 1, updated_by = $12, updated_at = now()
               where id = $1 returning to_jsonb(deals.*) as "after!""#,
            id,
            v.name,
            v.stage.id,
            v.amount,
            v.currency.code(),
            v.probability,
            v.expected_close_date,
            owner,
            v.source,
            v.lost_reason,
            stage_changed,
            user.id,
        )
        .fetch_one(&mut *tx)
        .await?;
        if stage_changed {
            record_stage(&mut tx, id, Some(&current.stage_id), &v.stage.id, user.id).await?;
        }
        audit(&mut tx, Entity::Deal, id, AuditAction::Update, user.id, Some(current.locked.before), Some(after)).await
    }
    .await
    .map_err(|e| e.with_submitted(form.to_pairs()))?;
    tx.commit().await?;
    Ok(())
}

/// The board's move: same rules, one history row, the new stage's default probability.
#[tracing::instrument(skip_all, fields(user_id = %user.id, record_id = %id))]
pub async fn move_stage(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    version: i32,
    stage_id: &str,
) -> Result<(), AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let all_stages = stages(&mut *tx).await?;
    let to =
        all_stages.iter().find(|s| s.id == stage_id).ok_or_else(|| AppError::field("stage_id", T::InvalidStage))?;
    let current = lock_deal(&mut tx, user, id).await?;
    check_version(&mut tx, Entity::Deal, id, current.locked.version, version).await?;
    if current.stage_id == to.id {
        return Ok(());
    }
    let from = all_stages.iter().find(|s| s.id == current.stage_id);
    check_stage(from, to, &current.facts, user.is_manager()).map_err(|m| AppError::field("", m))?;
    // `to_jsonb` of the updated row is never null (the macro cannot know).
    let after = sqlx::query_scalar!(
        r#"update deals set stage_id = $2, probability = $3, stage_changed_at = now(),
                  version = version + 1, updated_by = $4, updated_at = now()
           where id = $1 returning to_jsonb(deals.*) as "after!""#,
        id,
        to.id,
        to.default_probability,
        user.id,
    )
    .fetch_one(&mut *tx)
    .await?;
    record_stage(&mut tx, id, Some(&current.stage_id), &to.id, user.id).await?;
    audit(&mut tx, Entity::Deal, id, AuditAction::StageChange, user.id, Some(current.locked.before), Some(after))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// First and last month (inclusive) of a board period, as month starts.
fn period_months(period: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let month_start = today.with_day(1)?;
    let quarter_start = NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1)?;
    match period {
        "month" => Some((month_start, month_start)),
        "quarter" => Some((quarter_start, quarter_start.checked_add_months(Months::new(2))?)),
        "next-quarter" => {
            let start = quarter_start.checked_add_months(Months::new(3))?;
            Some((start, start.checked_add_months(Months::new(2))?))
        }
        "year" => Some((NaiveDate::from_ymd_opt(today.year(), 1, 1)?, NaiveDate::from_ymd_opt(today.year(), 12, 1)?)),
        _ => None,
    }
}

/// The pipeline board: per stage, the totals (from `pipeline_totals`, kept by a
/// trigger, so their cost does not grow with the number of deals) and the first
/// cards by expected close date.
pub async fn board(pool: &PgPool, user: &CurrentUser, query: &BoardQuery) -> Result<Board, AppError> {
    let all_stages = stages(pool).await?;
    let owner = if user.sees_all_owned() { Uuid::parse_str(query.owner.trim()).ok() } else { Some(user.id) };
    let currency = Currency::parse(&query.currency).ok().map(|c| c.code());
    let months = period_months(query.period.trim(), crate::i18n::seoul_today());

    let mut totals_q: QueryBuilder<Postgres> = QueryBuilder::new(
        "select stage_id, currency, sum(deal_count)::bigint, sum(amount_sum), sum(weighted_sum)
         from pipeline_totals where true ",
    );
    if let Some(o) = owner {
        totals_q.push("and owner_id = ").push_bind(o).push(" ");
    }
    if let Some(c) = currency {
        totals_q.push("and currency = ").push_bind(c).push(" ");
    }
    if let Some((from, to)) = months {
        totals_q.push("and close_month between ").push_bind(from).push(" and ").push_bind(to).push(" ");
    }
    totals_q.push("group by stage_id, currency having sum(deal_count) > 0 order by currency");
    let totals: Vec<(String, String, i64, Decimal, Decimal)> = totals_q.build_query_as().fetch_all(pool).await?;

    let mut columns = Vec::with_capacity(all_stages.len());
    for stage in all_stages {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "select d.id, d.name, a.name as account_name, d.amount, d.currency, d.probability, d.expected_close_date,
                    o.display_name as owner_name, d.version
             from deals d join accounts a on a.id = d.account_id join users o on o.id = d.owner_id
             where d.deleted_at is null and d.stage_id = ",
        );
        q.push_bind(stage.id.clone()).push(" ");
        if let Some(o) = owner {
            q.push("and d.owner_id = ").push_bind(o).push(" ");
        }
        if let Some(c) = currency {
            q.push("and d.currency = ").push_bind(c).push(" ");
        }
        if let Some((from, to)) = months {
            let end = to.checked_add_months(Months::new(1)).unwrap_or(to);
            q.push("and d.expected_close_date >= ")
                .push_bind(from)
                .push(" and d.expected_close_date < ")
                .push_bind(end)
                .push(" ");
        }
        q.push("order by d.expected_close_date nulls last, d.id limit ").push_bind(CARDS_PER_COLUMN);
        #[derive(sqlx::FromRow)]
        struct Card {
            id: Uuid,
            name: String,
            account_name: String,
            amount: Option<Decimal>,
            currency: String,
            probability: i32,
            expected_close_date: Option<NaiveDate>,
            owner_name: String,
            version: i32,
        }
        let cards: Vec<Card> = q.build_query_as().fetch_all(pool).await?;
        let stage_totals: Vec<CurrencyTotal> = totals
            .iter()
            .filter(|t| t.0 == stage.id)
            .map(|t| CurrencyTotal {
                currency: t.1.clone(),
                count: t.2,
                sum: t.3.normalize(),
                weighted: t.4.round_dp(2).normalize(),
            })
            .collect();
        columns.push(BoardColumn {
            count: stage_totals.iter().map(|t| t.count).sum(),
            totals: stage_totals,
            cards: cards
                .into_iter()
                .map(|c| DealCard {
                    id: c.id,
                    name: c.name,
                    account_name: c.account_name,
                    amount: c.amount.map(|a| a.normalize()),
                    currency: c.currency,
                    probability: c.probability,
                    expected_close_date: c.expected_close_date,
                    owner_name: c.owner_name,
                    version: c.version,
                })
                .collect(),
            stage,
        });
    }
    Ok(Board { columns, can_move: user.can_write() })
}

/// The deal list as exported: the columns on screen, with the currency
/// beside the amount (an xlsx amount is a plain number).
pub const EXPORT_COLUMNS: [Column; 9] = [
    Column { header: T::DealName, width: 32.0 },
    Column { header: T::Account, width: 28.0 },
    Column { header: T::Stage, width: 12.0 },
    Column { header: T::Amount, width: 16.0 },
    Column { header: T::Currency, width: 8.0 },
    Column { header: T::Probability, width: 10.0 },
    Column { header: T::ExpectedCloseDate, width: 13.0 },
    Column { header: T::Owner, width: 12.0 },
    Column { header: T::UpdatedAt, width: 17.0 },
];

pub fn export_cells(r: &DealRow, stages: &[StageInfo], lang: Lang) -> Vec<Cell> {
    let stage = stages.iter().find(|s| s.id == r.stage_id).map_or(r.stage_id.as_str(), |s| s.name(lang));
    vec![
        Cell::text(&r.name),
        Cell::text(&r.account_name),
        Cell::text(stage),
        r.amount.map_or(Cell::Empty, |a| Cell::Money(a, r.currency.clone())),
        Cell::text(&r.currency),
        Cell::Int(r.probability.into()),
        r.expected_close_date.map_or(Cell::Empty, Cell::Date),
        Cell::text(&r.owner_name),
        Cell::Time(r.updated_at),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_whole_months() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 24).expect("date");
        let m = |y, mo| NaiveDate::from_ymd_opt(y, mo, 1).expect("date");
        assert_eq!(period_months("month", d), Some((m(2026, 11), m(2026, 11))));
        assert_eq!(period_months("quarter", d), Some((m(2026, 10), m(2026, 12))));
        assert_eq!(period_months("next-quarter", d), Some((m(2027, 1), m(2027, 3))));
        assert_eq!(period_months("year", d), Some((m(2026, 1), m(2026, 12))));
        assert_eq!(period_months("", d), None);
    }
}
