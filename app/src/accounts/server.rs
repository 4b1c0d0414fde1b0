//! Account SQL. Every query takes the acting user and enforces the role rules
//! itself; callers cannot skip them.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::*;
use crate::auth::CurrentUser;
use crate::domain::{self, BusinessNumber};
use crate::error::AppError;
use crate::i18n::{Lang, T};
use crate::record::export::{Cell, Column};
use crate::record::server::{audit, check_version, lock, owner_for};
use crate::record::{label_of, AuditAction, Echo, Entity, FieldErrors, Page, Permissions, PAGE_SIZE};
use crate::server::{contains_pattern, finish_page, search_turn, Cursor};

/// An account form that passed validation.
#[derive(Debug, Clone)]
pub struct ValidAccount {
    pub name: String,
    pub business_number: Option<BusinessNumber>,
    pub industry: Option<String>,
    pub company_size: Option<String>,
    pub address: Option<String>,
    pub main_phone: Option<String>,
    pub website: Option<String>,
    pub notes: Option<String>,
    pub owner_id: Option<Uuid>,
}

impl AccountForm {
    /// Checks every field and reports all problems at once.
    pub fn validate(&self) -> Result<ValidAccount, AppError> {
        let mut errors = FieldErrors::new();
        let name = errors.optional("name", domain::clean_text(&self.name, 200, true));
        let industry = errors.optional("industry", choice(&self.industry, INDUSTRIES));
        let company_size = errors.optional("company_size", choice(&self.company_size, COMPANY_SIZES));
        let address = errors.optional("address", domain::clean_text(&self.address, 300, false));
        let main_phone = errors.optional("main_phone", domain::parse_phone(&self.main_phone));
        let website = errors.optional("website", domain::parse_website(&self.website));
        let notes = errors.optional("notes", domain::clean_text(&self.notes, 4000, false));
        let owner_id = errors.optional("owner_id", domain::parse_optional_id(&self.owner_id));
        let business_number = errors.optional("business_number", BusinessNumber::parse_optional(&self.business_number));
        let valid = name.map(|name| ValidAccount {
            name,
            business_number,
            industry,
            company_size,
            address,
            main_phone,
            website,
            notes,
            owner_id,
        });
        errors.finish(valid, self.to_pairs())
    }
}

fn choice(raw: &str, list: &[(&str, crate::i18n::T)]) -> Result<Option<String>, crate::i18n::T> {
    let v = raw.trim();
    if v.is_empty() {
        Ok(None)
    } else if label_of(list, v).is_some() {
        Ok(Some(v.to_string()))
    } else {
        Err(crate::i18n::T::InvalidChoice)
    }
}

/// An account row as `get` selects it (owner and editors by name); the shared
/// type nests the owner and shows the business number formatted.
struct AccountRecord {
    id: Uuid,
    name: String,
    business_number: Option<String>,
    industry: Option<String>,
    company_size: Option<String>,
    address: Option<String>,
    main_phone: Option<String>,
    website: Option<String>,
    notes: Option<String>,
    owner_id: Uuid,
    owner_name: String,
    version: i32,
    created_by_name: String,
    created_at: DateTime<Utc>,
    updated_by_name: String,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl From<AccountRecord> for Account {
    fn from(r: AccountRecord) -> Self {
        Account {
            id: r.id,
            name: r.name,
            business_number: r.business_number.map(|d| BusinessNumber::from_stored(d).to_string()),
            industry: r.industry,
            company_size: r.company_size,
            address: r.address,
            main_phone: r.main_phone,
            website: r.website,
            notes: r.notes,
            owner: crate::auth::UserRef { id: r.owner_id, display_name: r.owner_name },
            version: r.version,
            created_by: r.created_by_name,
            created_at: r.created_at,
            updated_by: r.updated_by_name,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        }
    }
}

pub async fn get(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<Account, AppError> {
    let record = sqlx::query_as!(
        AccountRecord,
        "select a.id, a.name, a.business_number, a.industry, a.company_size, a.address, a.main_phone,
                a.website, a.notes, a.owner_id, o.display_name as owner_name, a.version,
                cb.display_name as created_by_name, a.created_at,
                ub.display_name as updated_by_name, a.updated_at, a.deleted_at
         from accounts a
         join users o on o.id = a.owner_id
         join users cb on cb.id = a.created_by
         join users ub on ub.id = a.updated_by
         where a.id = $1 and (a.deleted_at is null or $2)",
        id,
        user.is_manager(),
    )
    .fetch_optional(pool)
    .await?;
    record.map(Account::from).ok_or(AppError::NotFound)
}

pub async fn detail(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<AccountDetail, AppError> {
    let account = get(pool, user, id).await?;
    let history = crate::record::server::history(pool, Entity::Account, id).await?;
    let can = Permissions::of(user, account.owner.id, account.deleted_at.is_some());
    Ok(AccountDetail { account, history, can })
}

/// Keyset pagination: a cursor is the sort value and the id of the last (or
/// first) row shown, so a deep page costs the same as the first.
pub async fn list(pool: &PgPool, user: &CurrentUser, query: &AccountQuery) -> Result<Page<AccountRow>, AppError> {
    list_sized(pool, user, query, PAGE_SIZE).await
}

/// `list` with `size` rows a page: exports read the same list in larger pages.
pub async fn list_sized(
    pool: &PgPool,
    user: &CurrentUser,
    query: &AccountQuery,
    size: i64,
) -> Result<Page<AccountRow>, AppError> {
    let sort = AccountSort::from_param(&query.sort);
    let (key, ascending) = match sort {
        AccountSort::NameAsc => ("a.name", true),
        AccountSort::NameDesc => ("a.name", false),
        AccountSort::UpdatedDesc => ("a.updated_at", false),
        AccountSort::CreatedDesc => ("a.created_at", false),
    };
    let is_text_key = key == "a.name";
    let cursor = Cursor::from_query(&query.after, &query.before);
    let backwards = cursor.as_ref().is_some_and(|c| c.backwards);
    // Walking backwards reverses the order; the rows are flipped back below.
    let forward = ascending != backwards;

    let dir = if forward { "asc" } else { "desc" };
    let deleted = query.deleted && user.is_manager();
    let owner = Uuid::parse_str(query.owner.trim()).ok();
    let industry = label_of(INDUSTRIES, query.industry.trim()).map(|_| query.industry.trim().to_string());
    // Filters and the keyset condition, the same for the plain list and for
    // every search branch.
    let push_filters = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(if deleted { "a.deleted_at is not null " } else { "a.deleted_at is null " });
        if let Some(owner) = owner {
            qb.push("and a.owner_id = ").push_bind(owner).push(" ");
        }
        if let Some(industry) = &industry {
            qb.push("and a.industry = ").push_bind(industry.clone()).push(" ");
        }
        if let Some(c) = &cursor {
            qb.push("and (").push(key).push(", a.id) ").push(if forward { "> (" } else { "< (" });
            if is_text_key {
                qb.push_bind(c.value.clone());
            } else {
                let at = DateTime::parse_from_rfc3339(&c.value).map(|d| d.with_timezone(&Utc)).unwrap_or_default();
                qb.push_bind(at);
            }
            qb.push(", ").push_bind(c.id).push(") ");
        }
    };
    let order = format!("order by {key} {dir}, a.id {dir} limit {}", size + 1);

    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("");
    let search = domain::parse_search(&query.q).map_err(|m| AppError::field("", m))?.unwrap_or_default();
    let search = search.as_str();
    let _turn = search_turn(user.id, !search.is_empty()).await?;
    if !search.is_empty() {
        // Each way of matching returns at most one page in list order, so a
        // common word walks the sort index and stops, while a rare one uses
        // its text index; only the page's rows are then joined and counted.
        let pattern = contains_pattern(search);
        let two_chars = search.chars().count() == 2;
        // For two characters the trigram index matches every row: the match is
        // written so only the bigram index can serve it (ILIKE then rechecks).
        let (account_name, contact_name) =
            if two_chars { ("(a.name || '')", "(c.name || '')") } else { ("a.name", "c.name") };
        qb.push("with hits as ((select a.id, ").push(key).push(" as k from accounts a where ");
        qb.push(account_name).push(" ilike ").push_bind(pattern.clone()).push(" ");
        if two_chars {
            qb.push("and name_bigrams(a.name) @> name_bigrams(").push_bind(search.to_string()).push(") ");
        }
        qb.push("and ");
        push_filters(&mut qb);
        qb.push(&order).push(")");
        let digits: String = search.chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.len() >= 3 && search.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ') {
            // Fenced (`offset 0`) so the matches are fetched through the
            // trigram index and then sorted: Postgres guesses ~9,000 matches
            // for any digits and would walk the name order to find a page,
            // reading 500,000 rows for a number's 95 (1.5 s, measured).
            qb.push(" union (select id, k from (select a.id, ").push(key);
            qb.push(" as k from accounts a where a.business_number like ");
            qb.push_bind(format!("%{digits}%")).push(" and ");
            push_filters(&mut qb);
            qb.push(format!("offset 0) n order by k {dir}, id {dir} limit {})", size + 1));
        }
        // The accounts of matching contacts, fenced (`offset 0`) so the
        // contacts come from their text index first and only their accounts
        // are then sorted: left to choose, Postgres walked the account name
        // order looking for them whenever the page was small (188 ms for
        // "이서연" at 30 rows against 10 ms at 50, measured).
        qb.push(" union (select a.id, ").push(key);
        qb.push(" as k from (select distinct c.account_id from contacts c where c.deleted_at is null and ");
        qb.push(contact_name).push(" ilike ").push_bind(pattern).push(" ");
        if two_chars {
            qb.push("and name_bigrams(c.name) @> name_bigrams(").push_bind(search.to_string()).push(") ");
        }
        qb.push("offset 0) m join accounts a on a.id = m.account_id where ");
        push_filters(&mut qb);
        qb.push(&order)
            .push(format!(")), page as (select id, k from hits order by k {dir}, id {dir} limit {}) ", size + 1));
    }
    qb.push(
        "select a.id, a.name, a.business_number, a.industry, o.display_name as owner_name, a.updated_at, a.created_at,
                (select count(*) from contacts c where c.account_id = a.id and c.deleted_at is null) as contact_count,
                ",
    );
    qb.push(if is_text_key { key } else { "''" });
    qb.push("::text as sort_value from accounts a join users o on o.id = a.owner_id ");
    if search.is_empty() {
        qb.push("where ");
        push_filters(&mut qb);
        qb.push(&order);
    } else {
        qb.push(format!("join page p on p.id = a.id order by p.k {dir}, p.id {dir}"));
    }

    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        name: String,
        business_number: Option<String>,
        industry: Option<String>,
        owner_name: String,
        updated_at: DateTime<Utc>,
        created_at: DateTime<Utc>,
        contact_count: i64,
        sort_value: String,
    }
    // A search is planned for its own text (see the note above `crate::server::SEARCH_WALK`).
    let rows: Vec<Row> = qb.build_query_as().persistent(search.is_empty()).fetch_all(pool).await?;
    let (rows, more_after, more_before) = finish_page(rows, size, cursor.as_ref());
    let cursor_of = |r: &Row| {
        let value = if is_text_key {
            r.sort_value.clone()
        } else {
            let at = if key == "a.updated_at" { r.updated_at } else { r.created_at };
            at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        };
        Cursor::encode(&value, r.id)
    };
    let next = rows.last().filter(|_| more_after).map(cursor_of);
    let prev = rows.first().filter(|_| more_before).map(cursor_of);
    Ok(Page {
        rows: rows
            .into_iter()
            .map(|r| AccountRow {
                id: r.id,
                name: r.name,
                business_number: r.business_number.map(|d| BusinessNumber::from_stored(d).to_string()),
                industry: r.industry,
                owner_name: r.owner_name,
                contact_count: r.contact_count,
                updated_at: r.updated_at,
            })
            .collect(),
        next,
        prev,
    })
}

/// Maps a unique violation on the business number to its field message.
fn business_number_taken(err: sqlx::Error) -> AppError {
    if let sqlx::Error::Database(db) = &err {
        if db.constraint() == Some("accounts_business_number") {
            return AppError::field("business_number", crate::i18n::T::BusinessNumberTaken);
        }
    }
    err.into()
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create(pool: &PgPool, user: &CurrentUser, form: &AccountForm) -> Result<Uuid, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let v = form.validate()?;
    let mut tx = pool.begin().await?;
    let written = async {
        let owner = owner_for(&mut tx, user, v.owner_id, None).await?;
        // `to_jsonb` of the inserted row is never null (the macro cannot know).
        let row = sqlx::query!(
            r#"insert into accounts (name, business_number, industry, company_size, address, main_phone, website, notes,
                                     owner_id, created_by, updated_by)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
               returning id, to_jsonb(accounts.*) as "after!""#,
            v.name,
            v.business_number.as_ref().map(BusinessNumber::digits),
            v.industry,
            v.company_size,
            v.address,
            v.main_phone,
            v.website,
            v.notes,
            owner,
            user.id,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(business_number_taken)?;
        let id = row.id;
        audit(&mut tx, Entity::Account, id, AuditAction::Create, user.id, None, Some(row.after)).await?;
        Ok::<_, AppError>(id)
    }
    .await
    .map_err(|e| e.with_submitted(form.to_pairs()))?;
    tx.commit().await?;
    Ok(written)
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, record_id = %id))]
pub async fn update(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    version: i32,
    form: &AccountForm,
) -> Result<(), AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let v = form.validate()?;
    let mut tx = pool.begin().await?;
    async {
        let locked = lock(&mut tx, user, Entity::Account, id, false).await?;
        check_version(&mut tx, Entity::Account, id, locked.version, version).await?;
        let owner = owner_for(&mut tx, user, v.owner_id, Some(locked.owner)).await?;
        // `to_jsonb` of the updated row is never null (the macro cannot know).
        let after = sqlx::query_scalar!(
            r#"update accounts set name = $2, business_number = $3, industry = $4, company_size = $5, address = $6,
                      main_phone = $7, website = $8, notes = $9, owner_id = $10,
                      version = version + 1, updated_by = $11, updated_at = now()
               where id = $1
               returning to_jsonb(accounts.*) as "after!""#,
            id,
            v.name,
            v.business_number.as_ref().map(BusinessNumber::digits),
            v.industry,
            v.company_size,
            v.address,
            v.main_phone,
            v.website,
            v.notes,
            owner,
            user.id,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(business_number_taken)?;
        audit(&mut tx, Entity::Account, id, AuditAction::Update, user.id, Some(locked.before), Some(after)).await
    }
    .await
    .map_err(|e| e.with_submitted(form.to_pairs()))?;
    tx.commit().await?;
    Ok(())
}

/// The account list as exported: the columns on screen, which are also the
/// ones the importer matches an account by (business number, then name).
pub const EXPORT_COLUMNS: [Column; 6] = [
    Column { header: T::AccountName, width: 32.0 },
    Column { header: T::BusinessNumber, width: 15.0 },
    Column { header: T::Industry, width: 14.0 },
    Column { header: T::Owner, width: 12.0 },
    Column { header: T::ContactCount, width: 10.0 },
    Column { header: T::UpdatedAt, width: 17.0 },
];

pub fn export_cells(r: &AccountRow, lang: Lang) -> Vec<Cell> {
    let industry = r.industry.as_deref().map(|code| label_of(INDUSTRIES, code).map_or(code, |t| t.text(lang)));
    vec![
        Cell::text(&r.name),
        Cell::opt_text(r.business_number.as_deref()),
        Cell::opt_text(industry),
        Cell::text(&r.owner_name),
        Cell::Int(r.contact_count),
        Cell::Time(r.updated_at),
    ]
}
