//! Contact SQL. A contact may be changed by whoever may change its account.

use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::*;
use crate::auth::CurrentUser;
use crate::domain;
use crate::error::AppError;
use crate::i18n::T;
use crate::record::export::{Cell, Column};
use crate::record::server::{audit, check_version, live_account, lock};
use crate::record::{AuditAction, Echo, Entity, FieldErrors, Page, Permissions, PAGE_SIZE};
use crate::server::{contains_pattern, finish_page, match_operator, search_turn, Cursor, SEARCH_FEW, SEARCH_WALK};

pub struct ValidContact {
    pub account_id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl ContactForm {
    pub fn validate(&self) -> Result<ValidContact, AppError> {
        let mut errors = FieldErrors::new();
        let name = errors.optional("name", domain::clean_text(&self.name, 100, true));
        let title = errors.optional("title", domain::clean_text(&self.title, 100, false));
        let department = errors.optional("department", domain::clean_text(&self.department, 100, false));
        let email = errors.optional("email", domain::parse_email(&self.email));
        let phone = errors.optional("phone", domain::parse_phone(&self.phone));
        let account_id =
            errors.check("account_id", Uuid::parse_str(self.account_id.trim()).map_err(|_| T::AccountNotFound));
        let valid = name.zip(account_id).map(|(name, account_id)| ValidContact {
            account_id,
            name,
            title,
            department,
            email,
            phone,
        });
        errors.finish(valid, self.to_pairs())
    }
}

/// The list's select; `for_account` repeats it as a literal for the checked macro.
const SELECT_ROW: &str = "select c.id, c.name, c.title, c.department, c.email, c.phone, c.account_id,
        a.name as account_name from contacts c join accounts a on a.id = c.account_id ";

// The list's QueryBuilder decodes through FromRow, which ContactRow (declared in
// mod.rs, shared with the browser build) does not derive; the list reads this mirror.
#[derive(sqlx::FromRow)]
struct RowRecord {
    id: Uuid,
    name: String,
    title: Option<String>,
    department: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    account_id: Uuid,
    account_name: String,
    /// Only the two-character walk selects it (see `list`).
    #[sqlx(default)]
    walked: i64,
}

impl From<RowRecord> for ContactRow {
    fn from(r: RowRecord) -> Self {
        ContactRow {
            id: r.id,
            name: r.name,
            title: r.title,
            department: r.department,
            email: r.email,
            phone: r.phone,
            account_id: r.account_id,
            account_name: r.account_name,
        }
    }
}

pub async fn for_account(pool: &PgPool, account_id: Uuid) -> Result<Vec<ContactRow>, AppError> {
    let rows = sqlx::query_as!(
        ContactRow,
        "select c.id, c.name, c.title, c.department, c.email, c.phone, c.account_id,
                a.name as account_name from contacts c join accounts a on a.id = c.account_id
         where c.account_id = $1 and c.deleted_at is null order by c.name, c.id limit 500",
        account_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

pub async fn list(pool: &PgPool, user: &CurrentUser, query: &ContactQuery) -> Result<Page<ContactRow>, AppError> {
    list_sized(pool, user, query, PAGE_SIZE).await
}

/// `list` with `size` rows a page: exports read the same list in larger pages.
pub async fn list_sized(
    pool: &PgPool,
    user: &CurrentUser,
    query: &ContactQuery,
    size: i64,
) -> Result<Page<ContactRow>, AppError> {
    let cursor = Cursor::from_query(&query.after, &query.before);
    let backwards = cursor.as_ref().is_some_and(|c| c.backwards);
    let dir = if backwards { "desc" } else { "asc" };
    let deleted_view = query.deleted && user.is_manager();
    let live =
        if deleted_view { "c.deleted_at is not null " } else { "c.deleted_at is null and a.deleted_at is null " };
    // The position after the cursor, in list order.
    let push_cursor = |qb: &mut QueryBuilder<'_, Postgres>| {
        if let Some(c) = &cursor {
            qb.push(if backwards { "and (c.name, c.id) < (" } else { "and (c.name, c.id) > (" });
            qb.push_bind(c.value.clone()).push(", ").push_bind(c.id).push(") ");
        }
    };
    // ... and how many rows from there.
    let push_page_at = |qb: &mut QueryBuilder<'_, Postgres>, rows: i64| {
        push_cursor(qb);
        qb.push(format!("order by c.name {dir}, c.id {dir} limit ")).push_bind(rows);
    };
    let push_page = |qb: &mut QueryBuilder<'_, Postgres>| push_page_at(qb, size + 1);
    let search = domain::parse_search(&query.q).map_err(|m| AppError::field("", m))?;
    let _turn = search_turn(user.id, search.is_some()).await?;
    let rows: Vec<RowRecord> = match search {
        None => {
            let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(SELECT_ROW);
            qb.push("where ").push(live);
            push_page(&mut qb);
            qb.build_query_as().fetch_all(pool).await?
        }
        // A common word ("민준", "co.kr") fills a page within the first rows
        // of list order, while the text indexes would fetch and sort all its
        // matches; a rare one is the other way round. So a two-character
        // word the bigram indexes hold few rows for goes to them; any other
        // search is first looked for in the first `SEARCH_WALK` rows in
        // order (an index-only scan of `contacts_name_id`, about 4 ms), and
        // only when they hold less than a page are the indexes asked after
        // all (as the deal list does).
        Some(text) => {
            let two_chars = text.chars().count() == 2;
            let walk = !deleted_view && !(two_chars && rare_in_names(pool, &text).await?);
            let mut found: Vec<RowRecord> = Vec::new();
            if walk {
                // The walk reads contacts alone and joins an account only for a
                // contact that matched: joining all 10,000 (one account lookup
                // each) cost 140 ms at a million accounts. A contact that
                // matches by its account's name comes from that name's index,
                // as in `index_search`; `walked` counts the walk's own
                // matches, which decide whether it found enough.
                let pattern = contains_pattern(&text);
                let op = match_operator(&text);
                let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
                    "with walked as (select c.id, c.name from (select c.id, c.name, c.account_id, c.email, c.phone \
                     from contacts c where c.deleted_at is null ",
                );
                push_page_at(&mut qb, SEARCH_WALK);
                qb.push(") c join accounts a on a.id = c.account_id where a.deleted_at is null and (c.name");
                qb.push(op).push_bind(pattern.clone());
                // E-mail and phone match from three characters, as through the indexes.
                if !two_chars {
                    qb.push(" or c.email").push(op).push_bind(pattern.clone());
                    qb.push(" or c.phone").push(op).push_bind(pattern.clone());
                }
                qb.push(format!(") order by c.name {dir}, c.id {dir} limit ")).push_bind(size + 1);
                qb.push(
                    "), by_account as (select c.id, c.name from contacts c join accounts a on a.id = c.account_id where ",
                );
                if two_chars {
                    qb.push(live).push("and (a.name || '') ilike ").push_bind(pattern);
                    qb.push(" and name_bigrams(a.name) @> name_bigrams(").push_bind(text.clone()).push(") ");
                } else {
                    qb.push(live).push("and a.name ilike ").push_bind(pattern).push(" ");
                }
                push_page(&mut qb);
                qb.push(format!(
                    "), page as (select id, name from (select * from walked union select * from by_account) h \
                     order by name {dir}, id {dir} limit "
                ));
                qb.push_bind(size + 1).push(") ");
                qb.push(
                    "select c.id, c.name, c.title, c.department, c.email, c.phone, c.account_id, a.name as account_name, ",
                );
                qb.push(
                    "(select count(*) from walked) as walked from contacts c join accounts a on a.id = c.account_id ",
                );
                qb.push(format!("join page p on p.id = c.id order by c.name {dir}, c.id {dir}"));
                found = qb.build_query_as().persistent(false).fetch_all(pool).await?;
            }
            if found.first().is_some_and(|r| r.walked > size) {
                found
            } else {
                index_search(&text, deleted_view, &push_cursor, &push_page, dir, size)
                    .build_query_as()
                    .persistent(false)
                    .fetch_all(pool)
                    .await?
            }
        }
    };
    let (rows, more_after, more_before) = finish_page(rows, size, cursor.as_ref());
    let cursor_of = |r: &RowRecord| Cursor::encode(&r.name, r.id);
    let next = rows.last().filter(|_| more_after).map(cursor_of);
    let prev = rows.first().filter(|_| more_before).map(cursor_of);
    Ok(Page { rows: rows.into_iter().map(ContactRow::from).collect(), next, prev })
}

/// Whether the bigram indexes hold at most `SEARCH_FEW` contacts and accounts
/// (whose contacts match through the account's name) for a two-character
/// word, before anything else filters them: this only chooses how to search.
async fn rare_in_names(pool: &PgPool, text: &str) -> Result<bool, AppError> {
    let candidates = sqlx::query_scalar!(
        r#"select (select count(*) from (select 1 from contacts
                     where name_bigrams(name) @> name_bigrams($1) limit $2) c)
                + (select count(*) from (select 1 from accounts
                     where name_bigrams(name) @> name_bigrams($1) limit $2) a) as "n!""#,
        text,
        SEARCH_FEW + 1,
    )
    .persistent(false)
    .fetch_one(pool)
    .await?;
    Ok(candidates <= SEARCH_FEW)
}

/// A search through the text indexes: one branch per way of matching, each
/// at most a page in list order, so each uses its own index (or walks the
/// name order and stops); the page is then taken from their union. Two
/// characters match names through the bigram indexes (written so the trigram
/// index, which matches every row for them, is not chosen); e-mail and phone
/// match from three characters, through their trigram indexes.
fn index_search(
    search: &str,
    deleted_view: bool,
    push_cursor: &dyn Fn(&mut QueryBuilder<'static, Postgres>),
    push_page: &dyn Fn(&mut QueryBuilder<'static, Postgres>),
    dir: &str,
    size: i64,
) -> QueryBuilder<'static, Postgres> {
    let pattern = contains_pattern(search);
    let two_chars = search.chars().count() == 2;
    let (contact_live, account_live) = if deleted_view {
        ("c.deleted_at is not null ", "true ")
    } else {
        ("c.deleted_at is null ", "a.deleted_at is null ")
    };
    let matches: Vec<(&str, Option<&str>)> = if two_chars {
        vec![("(c.name || '')", Some("c.name")), ("(a.name || '')", Some("a.name"))]
    } else {
        vec![("c.name", None), ("a.name", None), ("c.email", None), ("c.phone", None)]
    };
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("with hits as (");
    for (i, (column, bigrams)) in matches.into_iter().enumerate() {
        if i > 0 {
            qb.push(" union ");
        }
        let push_match = |qb: &mut QueryBuilder<'static, Postgres>| {
            qb.push("and ").push(column).push(" ilike ").push_bind(pattern.clone()).push(" ");
            if let Some(bigrams) = bigrams {
                qb.push("and name_bigrams(").push(bigrams).push(") @> name_bigrams(");
                qb.push_bind(search.to_string()).push(") ");
            }
        };
        if column.contains("a.name") {
            qb.push("(select c.id, c.name from contacts c join accounts a on a.id = c.account_id where ");
            qb.push(contact_live).push("and ").push(account_live);
            push_match(&mut qb);
            push_page(&mut qb);
        } else {
            // The contact's own matches, fetched through their index and
            // sorted first (fenced by `offset 0`), then joined to their
            // accounts in that order until a page is found: joining every
            // match first (one account lookup each) cost 40 ms for the
            // 2,100 of a common name at a million accounts.
            qb.push("(select c.id, c.name from (select c.id, c.name, c.account_id from contacts c where ");
            qb.push(contact_live);
            push_match(&mut qb);
            push_cursor(&mut qb);
            qb.push(format!("order by c.name {dir}, c.id {dir} offset 0) c join accounts a on a.id = c.account_id "));
            qb.push("where ").push(account_live);
            qb.push(format!("order by c.name {dir}, c.id {dir} limit ")).push_bind(size + 1);
        }
        qb.push(")");
    }
    qb.push(format!("), page as (select id, name from hits order by name {dir}, id {dir} limit "));
    qb.push_bind(size + 1).push(") ");
    qb.push(SELECT_ROW).push("join page p on p.id = c.id ");
    qb.push(format!("order by c.name {dir}, c.id {dir}"));
    qb
}

pub async fn detail(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<ContactDetail, AppError> {
    let rec = sqlx::query!(
        "select c.id, c.name, c.title, c.department, c.email, c.phone, c.account_id, a.name as account_name,
                c.version, u.display_name as updated_by, c.updated_at, c.deleted_at, a.owner_id
         from contacts c join accounts a on a.id = c.account_id join users u on u.id = c.updated_by
         where c.id = $1 and ((c.deleted_at is null and a.deleted_at is null) or $2)",
        id,
        user.is_manager(),
    )
    .fetch_optional(pool)
    .await?;
    let rec = rec.ok_or(AppError::NotFound)?;
    let history = crate::record::server::history(pool, Entity::Contact, id).await?;
    Ok(ContactDetail {
        can: Permissions::of(user, rec.owner_id, rec.deleted_at.is_some()),
        contact: Contact {
            row: ContactRow {
                id: rec.id,
                name: rec.name,
                title: rec.title,
                department: rec.department,
                email: rec.email,
                phone: rec.phone,
                account_id: rec.account_id,
                account_name: rec.account_name,
            },
            version: rec.version,
            updated_by: rec.updated_by,
            updated_at: rec.updated_at,
            deleted_at: rec.deleted_at,
        },
        history,
    })
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create(pool: &PgPool, user: &CurrentUser, form: &ContactForm) -> Result<Uuid, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let v = form.validate()?;
    let mut tx = pool.begin().await?;
    let owner = live_account(&mut tx, v.account_id).await.map_err(|e| e.with_submitted(form.to_pairs()))?;
    if !user.can_edit_owned_by(owner) {
        return Err(AppError::Forbidden);
    }
    // `to_jsonb` of the inserted row is never null (the macro cannot know).
    let row = sqlx::query!(
        r#"insert into contacts (account_id, name, title, department, email, phone, created_by, updated_by)
           values ($1, $2, $3, $4, $5, $6, $7, $7) returning id, to_jsonb(contacts.*) as "after!""#,
        v.account_id,
        v.name,
        v.title,
        v.department,
        v.email,
        v.phone,
        user.id,
    )
    .fetch_one(&mut *tx)
    .await?;
    let id = row.id;
    audit(&mut tx, Entity::Contact, id, AuditAction::Create, user.id, None, Some(row.after)).await?;
    tx.commit().await?;
    Ok(id)
}

#[tracing::instrument(skip_all, fields(user_id = %user.id, record_id = %id))]
pub async fn update(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    version: i32,
    form: &ContactForm,
) -> Result<(), AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let v = form.validate()?;
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, user, Entity::Contact, id, false).await?;
    // Moving a contact to another account is not an edit: the account field is fixed here.
    if Some(v.account_id) != locked.parent {
        return Err(AppError::field("account_id", T::InvalidChoice).with_submitted(form.to_pairs()));
    }
    check_version(&mut tx, Entity::Contact, id, locked.version, version)
        .await
        .map_err(|e| e.with_submitted(form.to_pairs()))?;
    // `to_jsonb` of the updated row is never null (the macro cannot know).
    let after = sqlx::query_scalar!(
        r#"update contacts set name = $2, title = $3, department = $4, email = $5, phone = $6,
                  version = version + 1, updated_by = $7, updated_at = now()
           where id = $1 returning to_jsonb(contacts.*) as "after!""#,
        id,
        v.name,
        v.title,
        v.department,
        v.email,
        v.phone,
        user.id,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit(&mut tx, Entity::Contact, id, AuditAction::Update, user.id, Some(locked.before), Some(after)).await?;
    tx.commit().await?;
    Ok(())
}

/// The contact list as exported: the columns on screen.
pub const EXPORT_COLUMNS: [Column; 6] = [
    Column { header: T::ContactName, width: 14.0 },
    Column { header: T::Title, width: 10.0 },
    Column { header: T::Department, width: 14.0 },
    Column { header: T::Email, width: 30.0 },
    Column { header: T::Phone, width: 16.0 },
    Column { header: T::Account, width: 28.0 },
];

pub fn export_cells(r: &ContactRow) -> Vec<Cell> {
    vec![
        Cell::text(&r.name),
        Cell::opt_text(r.title.as_deref()),
        Cell::opt_text(r.department.as_deref()),
        Cell::opt_text(r.email.as_deref()),
        Cell::opt_text(r.phone.as_deref()),
        Cell::text(&r.account_name),
    ]
}
