//! Contract SQL. Visibility as for deals, in every query: reps see and edit
//! the contracts they own; managers, admins and viewers see all. The derived
//! figures and the status are computed here from the stored row, today.

use chrono::{DateTime, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::*;
use crate::auth::CurrentUser;
use crate::domain::{self, Currency};
use crate::error::AppError;
use crate::i18n::{seoul_today, Lang, T};
use crate::record::export::{Cell, Column};
use crate::record::server::{audit, check_version, live_account, lock, owner_for};
use crate::record::{AuditAction, Echo, Entity, FieldErrors, Page, Permissions, PAGE_SIZE};
use crate::server::{contains_pattern, finish_page, search_turn, Cursor};

pub struct ValidContract {
    pub title: String,
    pub contract_number: Option<String>,
    pub account_id: Uuid,
    pub deal_id: Option<Uuid>,
    pub state: ContractState,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub amount: Decimal,
    pub currency: Currency,
    pub billing_period: BillingPeriod,
    pub auto_renew: bool,
    pub notice_days: i32,
    pub owner_id: Option<Uuid>,
    pub notes: Option<String>,
}

fn required<V>(value: Result<Option<V>, T>) -> Result<V, T> {
    value.and_then(|v| v.ok_or(T::Required))
}

impl ContractForm {
    pub fn validate(&self) -> Result<ValidContract, AppError> {
        let mut errors = FieldErrors::new();
        let title = errors.optional("title", domain::clean_text(&self.title, 200, true));
        let contract_number = errors.optional("contract_number", domain::clean_text(&self.contract_number, 50, false));
        let account_id =
            errors.check("account_id", Uuid::parse_str(self.account_id.trim()).map_err(|_| T::AccountNotFound));
        let deal_id = errors.optional("deal_id", domain::parse_optional_id(&self.deal_id));
        let state = errors.check(
            "state",
            match self.state.trim() {
                "" | "draft" => Ok(ContractState::Draft),
                "signed" => Ok(ContractState::Signed),
                _ => Err(T::InvalidChoice),
            },
        );
        let start_date = errors.check("start_date", required(domain::parse_date(&self.start_date)));
        let end_date = errors.check("end_date", required(domain::parse_date(&self.end_date)));
        let currency = errors.check("currency", Currency::parse(&self.currency));
        let amount = currency.and_then(|c| errors.check("amount", required(domain::parse_amount(&self.amount, c))));
        let billing_period = errors
            .check("billing_period", BillingPeriod::from_code(&self.billing_period).ok_or(T::InvalidBillingPeriod));
        let notice_days = errors.check("notice_days", domain::parse_notice_days(&self.notice_days));
        let (start_date, end_date) = match (start_date, end_date, notice_days) {
            (Some(start), Some(end), Some(days)) => match domain::check_contract_terms(start, end, days) {
                Ok(()) => (Some(start), Some(end)),
                Err((field, message)) => {
                    errors.push(field, message);
                    (None, None)
                }
            },
            dates => (dates.0, dates.1),
        };
        let owner_id = errors.optional("owner_id", domain::parse_optional_id(&self.owner_id));
        let notes = errors.optional("notes", domain::clean_text(&self.notes, 4000, false));
        let auto_renew = matches!(self.auto_renew.trim(), "on" | "true" | "1" | "yes");
        let valid =
            match (title, account_id, state, start_date, end_date, currency, amount, billing_period, notice_days) {
                (
                    Some(title),
                    Some(account_id),
                    Some(state),
                    Some(start_date),
                    Some(end_date),
                    Some(currency),
                    Some(amount),
                    Some(billing_period),
                    Some(notice_days),
                ) => Some(ValidContract {
                    title,
                    contract_number,
                    account_id,
                    deal_id,
                    state,
                    start_date,
                    end_date,
                    amount,
                    currency,
                    billing_period,
                    auto_renew,
                    notice_days,
                    owner_id,
                    notes,
                }),
                _ => None,
            };
        errors.finish(valid, self.to_pairs())
    }
}

/// A unique violation on the contract number, as its field's message.
fn number_taken(err: sqlx::Error) -> AppError {
    if let sqlx::Error::Database(db) = &err {
        if db.constraint() == Some("contracts_number") {
            return AppError::field("contract_number", T::ContractNumberTaken);
        }
    }
    err.into()
}

/// The figures a stored row implies, today.
struct Derived {
    status: ContractStatus,
    figures: ContractFigures,
    notice_deadline: NaiveDate,
    days_to_renewal: i64,
}

/// The stored facts the derived figures come from.
struct Terms<'a> {
    state: &'a str,
    start: NaiveDate,
    end: NaiveDate,
    amount: Decimal,
    currency: &'a str,
    period: &'a str,
    notice_days: i32,
}

impl Terms<'_> {
    fn derive(&self, today: NaiveDate) -> Derived {
        let state = ContractState::from_code(self.state).unwrap_or(ContractState::Draft);
        let period = BillingPeriod::from_code(self.period).unwrap_or(BillingPeriod::OneTime);
        let currency = Currency::parse(self.currency).unwrap_or(Currency::Krw);
        Derived {
            status: ContractStatus::of(state, self.end, today),
            figures: figures(self.amount, currency, period, term_months(self.start, self.end)),
            notice_deadline: notice_deadline(self.end, self.notice_days),
            days_to_renewal: (self.end - today).num_days(),
        }
    }
}

struct ContractRecord {
    id: Uuid,
    title: String,
    contract_number: Option<String>,
    account_id: Uuid,
    account_name: String,
    deal_id: Option<Uuid>,
    deal_name: Option<String>,
    state: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    amount: Decimal,
    currency: String,
    billing_period: String,
    auto_renew: bool,
    notice_days: i32,
    owner_id: Uuid,
    owner_name: String,
    notes: Option<String>,
    terminated_on: Option<NaiveDate>,
    termination_reason: Option<String>,
    version: i32,
    updated_by: String,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl ContractRecord {
    fn into_contract(self, today: NaiveDate) -> Contract {
        let d = Terms {
            state: &self.state,
            start: self.start_date,
            end: self.end_date,
            amount: self.amount,
            currency: &self.currency,
            period: &self.billing_period,
            notice_days: self.notice_days,
        }
        .derive(today);
        Contract {
            id: self.id,
            title: self.title,
            contract_number: self.contract_number,
            account_id: self.account_id,
            account_name: self.account_name,
            deal_id: self.deal_id,
            deal_name: self.deal_name,
            state: ContractState::from_code(&self.state).unwrap_or(ContractState::Draft),
            status: d.status,
            start_date: self.start_date,
            end_date: self.end_date,
            amount: self.amount.normalize(),
            currency: self.currency,
            billing_period: BillingPeriod::from_code(&self.billing_period).unwrap_or(BillingPeriod::OneTime),
            auto_renew: self.auto_renew,
            notice_days: self.notice_days,
            owner: crate::auth::UserRef { id: self.owner_id, display_name: self.owner_name },
            notes: self.notes,
            terminated_on: self.terminated_on,
            termination_reason: self.termination_reason,
            figures: ContractFigures { monthly: d.figures.monthly.normalize(), total: d.figures.total.normalize() },
            days_to_renewal: d.days_to_renewal,
            notice_deadline: d.notice_deadline,
            version: self.version,
            updated_by: self.updated_by,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
        }
    }
}

pub async fn get(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<Contract, AppError> {
    let record = sqlx::query_as!(
        ContractRecord,
        r#"select c.id, c.title, c.contract_number, c.account_id, a.name as account_name, c.deal_id,
                  d.name as "deal_name?", c.state, c.start_date, c.end_date, c.amount, c.currency, c.billing_period,
                  c.auto_renew, c.notice_days, c.owner_id, o.display_name as owner_name, c.notes, c.terminated_on,
                  c.termination_reason, c.version, ub.display_name as updated_by, c.updated_at, c.deleted_at
           from contracts c join accounts a on a.id = c.account_id join users o on o.id = c.owner_id
           join users ub on ub.id = c.updated_by left join deals d on d.id = c.deal_id
           where c.id = $1 and (c.owner_id = $2 or $3) and (c.deleted_at is null or $4)"#,
        id,
        user.id,
        user.sees_all_owned(),
        user.is_manager(),
    )
    .fetch_optional(pool)
    .await?;
    record.map(|r| r.into_contract(seoul_today())).ok_or(AppError::NotFound)
}

pub async fn detail(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<ContractDetail, AppError> {
    let contract = get(pool, user, id).await?;
    let history = crate::record::server::history(pool, Entity::Contract, id).await?;
    Ok(ContractDetail {
        can: Permissions::of(user, contract.owner.id, contract.deleted_at.is_some()),
        contract,
        history,
    })
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    title: String,
    contract_number: Option<String>,
    account_name: String,
    state: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    amount: Decimal,
    currency: String,
    billing_period: String,
    auto_renew: bool,
    notice_days: i32,
    owner_name: String,
    /// The keyset's value: the title, or in the renewal queue the date that comes first.
    sort_key: String,
}

impl Row {
    fn into_row(self, today: NaiveDate) -> ContractRow {
        let d = Terms {
            state: &self.state,
            start: self.start_date,
            end: self.end_date,
            amount: self.amount,
            currency: &self.currency,
            period: &self.billing_period,
            notice_days: self.notice_days,
        }
        .derive(today);
        ContractRow {
            id: self.id,
            title: self.title,
            contract_number: self.contract_number,
            account_name: self.account_name,
            status: d.status,
            end_date: self.end_date,
            notice_deadline: d.notice_deadline,
            days_to_renewal: d.days_to_renewal,
            amount: self.amount.normalize(),
            currency: self.currency,
            billing_period: BillingPeriod::from_code(&self.billing_period).unwrap_or(BillingPeriod::OneTime),
            monthly: d.figures.monthly.normalize(),
            auto_renew: self.auto_renew,
            owner_name: self.owner_name,
        }
    }
}

const SELECT_ROW: &str =
    "select c.id, c.title, c.contract_number, a.name as account_name, c.state, c.start_date, c.end_date, c.amount,
            c.currency, c.billing_period, c.auto_renew, c.notice_days, o.display_name as owner_name, ";
const FROM: &str = " from contracts c join accounts a on a.id = c.account_id join users o on o.id = c.owner_id where ";

/// The filters every list shares: deleted or live, visibility (in the query
/// itself), search, owner, account, deal, currency, status.
fn push_filters(
    qb: &mut QueryBuilder<'_, Postgres>,
    user: &CurrentUser,
    query: &ContractQuery,
    search: &Option<String>,
    today: NaiveDate,
) {
    qb.push(if query.deleted && user.is_manager() { "c.deleted_at is not null " } else { "c.deleted_at is null " });
    qb.push("and (c.owner_id = ").push_bind(user.id).push(" or ").push_bind(user.sees_all_owned()).push(") ");
    if let Some(search) = search {
        let pattern = contains_pattern(search);
        qb.push("and (c.title ilike ").push_bind(pattern.clone());
        qb.push(" or c.contract_number ilike ").push_bind(pattern).push(") ");
    }
    if let Ok(owner) = Uuid::parse_str(query.owner.trim()) {
        qb.push("and c.owner_id = ").push_bind(owner).push(" ");
    }
    if let Ok(account) = Uuid::parse_str(query.account.trim()) {
        qb.push("and c.account_id = ").push_bind(account).push(" ");
    }
    if let Ok(deal) = Uuid::parse_str(query.deal.trim()) {
        qb.push("and c.deal_id = ").push_bind(deal).push(" ");
    }
    if let Ok(c) = Currency::parse(&query.currency) {
        qb.push("and c.currency = ").push_bind(c.code()).push(" ");
    }
    match ContractStatus::from_code(&query.status) {
        Some(ContractStatus::Draft) => qb.push("and c.state = 'draft' "),
        Some(ContractStatus::Terminated) => qb.push("and c.state = 'terminated' "),
        Some(ContractStatus::Active) => qb.push("and c.state = 'signed' and c.end_date >= ").push_bind(today).push(" "),
        Some(ContractStatus::Expired) => qb.push("and c.state = 'signed' and c.end_date < ").push_bind(today).push(" "),
        None => qb,
    };
}

/// The list, filtered as the query says. With a renewal window (`within`)
/// it is the renewal queue: signed contracts whose end date or notice
/// deadline falls in the next N days, soonest first.
pub async fn list(pool: &PgPool, user: &CurrentUser, query: &ContractQuery) -> Result<ContractList, AppError> {
    list_sized(pool, user, query, PAGE_SIZE).await
}

/// `list` with `size` rows a page: exports read the same list in larger pages.
pub async fn list_sized(
    pool: &PgPool,
    user: &CurrentUser,
    query: &ContractQuery,
    size: i64,
) -> Result<ContractList, AppError> {
    let today = seoul_today();
    let within = query.within.trim().parse::<u32>().ok().filter(|d| RENEWAL_WINDOWS.iter().any(|(w, _)| w == d));
    let cursor = Cursor::from_query(&query.after, &query.before);
    let backwards = cursor.as_ref().is_some_and(|c| c.backwards);
    let search = domain::parse_search(&query.q).map_err(|m| AppError::field("", m))?;
    let _turn = search_turn(user.id, search.is_some()).await?;
    let (cmp, direction) = if backwards { ("<", "desc") } else { (">", "asc") };
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("");
    match within {
        None if query.sort.trim() == "end" => {
            qb.push(SELECT_ROW).push("c.end_date::text as sort_key").push(FROM);
            push_filters(&mut qb, user, query, &search, today);
            if let Some(c) = &cursor {
                let date = NaiveDate::parse_from_str(&c.value, "%Y-%m-%d").map_err(|_| AppError::BadRequest)?;
                qb.push(format!("and (c.end_date, c.id) {cmp} ("));
                qb.push_bind(date).push(", ").push_bind(c.id).push(") ");
            }
            qb.push(format!(" order by c.end_date {direction}, c.id {direction} limit ")).push_bind(size + 1);
        }
        None => {
            qb.push(SELECT_ROW).push("c.title as sort_key").push(FROM);
            push_filters(&mut qb, user, query, &search, today);
            if let Some(c) = &cursor {
                qb.push(format!("and (c.title, c.id) {cmp} ("));
                qb.push_bind(c.value.clone()).push(", ").push_bind(c.id).push(") ");
            }
            qb.push(format!(" order by c.title {direction}, c.id {direction} limit ")).push_bind(size + 1);
        }
        Some(days) => {
            let last = today.checked_add_days(chrono::Days::new(u64::from(days))).unwrap_or(today);
            let after = match &cursor {
                Some(c) => {
                    Some((NaiveDate::parse_from_str(&c.value, "%Y-%m-%d").map_err(|_| AppError::BadRequest)?, c.id))
                }
                None => None,
            };
            // The queue's order is the date that comes first: the notice
            // deadline while it is still ahead, else the end date. The two
            // cases are disjoint, each read in its own index's order (a
            // deadline is never after its end date, so a contract ending in
            // the window whose deadline is still ahead has its deadline in
            // the window too), and merged: no sort of the whole window.
            let branches = [("(c.end_date - c.notice_days)", true), ("c.end_date", false)];
            qb.push("select * from (");
            for (i, (key, by_deadline)) in branches.into_iter().enumerate() {
                if i > 0 {
                    qb.push(" union all ");
                }
                qb.push("(").push(SELECT_ROW).push(format!("{key}::text as sort_key, {key} as sort_date")).push(FROM);
                push_filters(&mut qb, user, query, &search, today);
                qb.push(format!("and c.state = 'signed' and {key} between "));
                qb.push_bind(today).push(" and ").push_bind(last);
                if !by_deadline {
                    qb.push(" and c.end_date - c.notice_days < ").push_bind(today);
                }
                if let Some((date, id)) = after {
                    qb.push(format!(" and ({key}, c.id) {cmp} (")).push_bind(date).push(", ").push_bind(id).push(")");
                }
                qb.push(format!(" order by {key} {direction}, c.id {direction} limit ")).push_bind(size + 1);
                qb.push(")");
            }
            qb.push(format!(") r order by sort_date {direction}, id {direction} limit ")).push_bind(size + 1);
        }
    }
    // A search is planned for its own text (see the note above `crate::server::SEARCH_WALK`).
    let rows: Vec<Row> = qb.build_query_as().persistent(search.is_none()).fetch_all(pool).await?;
    let (rows, more_after, more_before) = finish_page(rows, size, cursor.as_ref());
    let cursor_of = |r: &Row| Cursor::encode(&r.sort_key, r.id);
    let next = rows.last().filter(|_| more_after).map(cursor_of);
    let prev = rows.first().filter(|_| more_before).map(cursor_of);
    Ok(Page { rows: rows.into_iter().map(|r| r.into_row(today)).collect(), next, prev })
}

/// Monthly recurring value of an account's active contracts, per currency
/// (never added across currencies). Visibility as everywhere.
pub async fn monthly_totals(
    pool: &PgPool,
    user: &CurrentUser,
    account_id: Uuid,
) -> Result<Vec<MonthlyTotal>, AppError> {
    let today = seoul_today();
    let rows = sqlx::query!(
        "select amount, currency, billing_period from contracts
         where account_id = $1 and deleted_at is null and state = 'signed' and end_date >= $2
           and (owner_id = $3 or $4)",
        account_id,
        today,
        user.id,
        user.sees_all_owned(),
    )
    .fetch_all(pool)
    .await?;
    let mut totals: Vec<MonthlyTotal> = Vec::new();
    for r in rows {
        let (Ok(currency), Some(period)) = (Currency::parse(&r.currency), BillingPeriod::from_code(&r.billing_period))
        else {
            continue;
        };
        let monthly = figures(r.amount, currency, period, 1).monthly;
        match totals.iter_mut().find(|t| t.currency == r.currency) {
            Some(t) => {
                t.monthly += monthly;
                t.count += 1;
            }
            None => totals.push(MonthlyTotal { currency: r.currency, monthly, count: 1 }),
        }
    }
    totals.sort_by(|a, b| a.currency.cmp(&b.currency));
    for t in &mut totals {
        t.monthly = t.monthly.normalize();
    }
    Ok(totals)
}

/// Where a new contract's form starts: from a won deal the user may see
/// (prefilled from it), or from an account.
pub async fn start(
    pool: &PgPool,
    user: &CurrentUser,
    deal: Option<Uuid>,
    account: Option<Uuid>,
) -> Result<ContractStart, AppError> {
    if let Some(deal_id) = deal {
        let mut conn = pool.acquire().await?;
        let d = won_deal(&mut conn, user, deal_id).await?;
        let today = seoul_today();
        let form = ContractForm {
            title: d.name,
            account_id: d.account_id.to_string(),
            deal_id: deal_id.to_string(),
            state: "draft".into(),
            start_date: today.to_string(),
            end_date: today
                .checked_add_months(Months::new(12))
                .and_then(|d| d.pred_opt())
                .map(|d| d.to_string())
                .unwrap_or_default(),
            amount: d.amount.map(|a| a.normalize().to_string()).unwrap_or_default(),
            currency: d.currency,
            billing_period: BillingPeriod::Monthly.code().into(),
            owner_id: d.owner_id.to_string(),
            ..ContractForm::default()
        };
        return Ok(ContractStart {
            account_id: d.account_id,
            account_name: d.account_name,
            deal_id: Some(deal_id),
            form,
        });
    }
    let account_id = account.ok_or(AppError::NotFound)?;
    let account = crate::record::server::account_ref(pool, account_id).await?;
    Ok(ContractStart {
        account_id,
        account_name: account.name,
        deal_id: None,
        form: ContractForm {
            account_id: account_id.to_string(),
            state: "draft".into(),
            currency: "KRW".into(),
            billing_period: BillingPeriod::Monthly.code().into(),
            owner_id: user.id.to_string(),
            ..ContractForm::default()
        },
    })
}

struct WonDeal {
    name: String,
    account_id: Uuid,
    account_name: String,
    amount: Option<Decimal>,
    currency: String,
    owner_id: Uuid,
}

/// A live deal the user may see, refused unless it is won.
async fn won_deal(conn: &mut PgConnection, user: &CurrentUser, id: Uuid) -> Result<WonDeal, AppError> {
    let row = sqlx::query!(
        "select d.name, d.account_id, a.name as account_name, d.amount, d.currency, d.owner_id, s.is_won
         from deals d join stages s on s.id = d.stage_id join accounts a on a.id = d.account_id
         where d.id = $1 and d.deleted_at is null and a.deleted_at is null and (d.owner_id = $2 or $3)
         for share of d",
        id,
        user.id,
        user.sees_all_owned(),
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::field("deal_id", T::DealNotFound))?;
    if !row.is_won {
        return Err(AppError::field("deal_id", T::ContractDealNotWon));
    }
    Ok(WonDeal {
        name: row.name,
        account_id: row.account_id,
        account_name: row.account_name,
        amount: row.amount,
        currency: row.currency,
        owner_id: row.owner_id,
    })
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create(pool: &PgPool, user: &CurrentUser, form: &ContractForm) -> Result<Uuid, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let v = form.validate()?;
    let mut tx = pool.begin().await?;
    let id = async {
        // From a deal: it must be won and the user's to see; the contract
        // belongs to the deal's account, whatever the form said.
        let account_id = match v.deal_id {
            Some(deal) => won_deal(&mut tx, user, deal).await?.account_id,
            None => v.account_id,
        };
        live_account(&mut tx, account_id).await?;
        let owner = owner_for(&mut tx, user, v.owner_id, None).await?;
        // `to_jsonb` of the inserted row is never null (the macro cannot know).
        let row = sqlx::query!(
            r#"insert into contracts (account_id, deal_id, title, contract_number, state, start_date, end_date, amount,
                                      currency, billing_period, auto_renew, notice_days, owner_id, notes,
                                      created_by, updated_by)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
               returning id, to_jsonb(contracts.*) as "after!""#,
            account_id,
            v.deal_id,
            v.title,
            v.contract_number,
            v.state.code(),
            v.start_date,
            v.end_date,
            v.amount,
            v.currency.code(),
            v.billing_period.code(),
            v.auto_renew,
            v.notice_days,
            owner,
            v.notes,
            user.id,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(number_taken)?;
        audit(&mut tx, Entity::Contract, row.id, AuditAction::Create, user.id, None, Some(row.after)).await?;
        Ok::<_, AppError>(row.id)
    }
    .await
    .map_err(|e| e.with_submitted(form.to_pairs()))?;
    tx.commit().await?;
    Ok(id)
}

/// Saves the form. The account and the originating deal stay as they were;
/// a terminated contract stays terminated.
#[tracing::instrument(skip_all, fields(user_id = %user.id, record_id = %id))]
pub async fn update(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    version: i32,
    form: &ContractForm,
) -> Result<(), AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let v = form.validate()?;
    let mut tx = pool.begin().await?;
    async {
        let current = lock(&mut tx, user, Entity::Contract, id, false).await?;
        check_version(&mut tx, Entity::Contract, id, current.version, version).await?;
        let owner = owner_for(&mut tx, user, v.owner_id, Some(current.owner)).await?;
        // `to_jsonb` of the updated row is never null (the macro cannot know).
        let after = sqlx::query_scalar!(
            r#"update contracts set title = $2, contract_number = $3,
                      state = case when state = 'terminated' then state else $4 end,
                      start_date = $5, end_date = $6, amount = $7, currency = $8, billing_period = $9,
                      auto_renew = $10, notice_days = $11, owner_id = $12, notes = $13,
                      version = version + 1, updated_by = $14, updated_at = now()
               where id = $1 returning to_jsonb(contracts.*) as "after!""#,
            id,
            v.title,
            v.contract_number,
            v.state.code(),
            v.start_date,
            v.end_date,
            v.amount,
            v.currency.code(),
            v.billing_period.code(),
            v.auto_renew,
            v.notice_days,
            owner,
            v.notes,
            user.id,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(number_taken)?;
        audit(&mut tx, Entity::Contract, id, AuditAction::Update, user.id, Some(current.before), Some(after)).await
    }
    .await
    .map_err(|e| e.with_submitted(form.to_pairs()))?;
    tx.commit().await?;
    Ok(())
}

/// Ends a contract early, on a day within its term, with the reason.
#[tracing::instrument(skip_all, fields(user_id = %user.id, record_id = %id))]
pub async fn terminate(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    version: i32,
    form: &TerminateForm,
) -> Result<(), AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let mut errors = FieldErrors::new();
    let on = errors.check("terminated_on", required(domain::parse_date(&form.terminated_on)));
    let reason = errors.optional("reason", domain::clean_text(&form.reason, 500, true));
    let (on, reason) = errors.finish(on.zip(reason), form.to_pairs())?;
    let mut tx = pool.begin().await?;
    async {
        let current = lock(&mut tx, user, Entity::Contract, id, false).await?;
        check_version(&mut tx, Entity::Contract, id, current.version, version).await?;
        let row = sqlx::query!("select state, start_date, end_date from contracts where id = $1", id)
            .fetch_one(&mut *tx)
            .await?;
        if row.state == "terminated" {
            return Err(AppError::field("", T::ContractAlreadyTerminated));
        }
        if on < row.start_date || on > row.end_date {
            return Err(AppError::field("terminated_on", T::DateOutOfRange));
        }
        // `to_jsonb` of the updated row is never null (the macro cannot know).
        let after = sqlx::query_scalar!(
            r#"update contracts set state = 'terminated', terminated_on = $2, termination_reason = $3,
                      version = version + 1, updated_by = $4, updated_at = now()
               where id = $1 returning to_jsonb(contracts.*) as "after!""#,
            id,
            on,
            reason,
            user.id,
        )
        .fetch_one(&mut *tx)
        .await?;
        audit(&mut tx, Entity::Contract, id, AuditAction::Update, user.id, Some(current.before), Some(after)).await
    }
    .await
    .map_err(|e| e.with_submitted(form.to_pairs()))?;
    tx.commit().await?;
    Ok(())
}

/// The contract list as exported: the columns on screen, with the contract
/// number (what the importer matches a contract by) and the billing period
/// beside the value, which is a plain number in its currency.
pub const EXPORT_COLUMNS: [Column; 12] = [
    Column { header: T::ContractTitle, width: 30.0 },
    Column { header: T::ContractNumber, width: 16.0 },
    Column { header: T::Account, width: 28.0 },
    Column { header: T::ContractStatus, width: 10.0 },
    Column { header: T::EndDate, width: 12.0 },
    Column { header: T::NoticeDeadline, width: 12.0 },
    Column { header: T::ContractValue, width: 16.0 },
    Column { header: T::Currency, width: 8.0 },
    Column { header: T::BillingPeriod, width: 10.0 },
    Column { header: T::MonthlyValue, width: 16.0 },
    Column { header: T::AutoRenew, width: 10.0 },
    Column { header: T::Owner, width: 12.0 },
];

pub fn export_cells(r: &ContractRow, lang: Lang) -> Vec<Cell> {
    vec![
        Cell::text(&r.title),
        Cell::opt_text(r.contract_number.as_deref()),
        Cell::text(&r.account_name),
        Cell::text(r.status.label().text(lang)),
        Cell::Date(r.end_date),
        Cell::Date(r.notice_deadline),
        Cell::Money(r.amount, r.currency.clone()),
        Cell::text(&r.currency),
        Cell::text(r.billing_period.label().text(lang)),
        Cell::Money(r.monthly, r.currency.clone()),
        Cell::text(if r.auto_renew { T::Yes.text(lang) } else { T::No.text(lang) }),
        Cell::text(&r.owner_name),
    ]
}
