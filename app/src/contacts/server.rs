//! Contact SQL. A contact may be changed by whoever may change its account.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::*;
use crate::accounts::Page;
use crate::auth::CurrentUser;
use crate::domain;
use crate::error::{AppError, FieldError};
use crate::server::{audit, conflict, contains_pattern, finish_page, Cursor};

pub const PAGE_SIZE: i64 = 50;

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
        let mut errors = Vec::new();
        let mut check = |field: &str, r: Result<Option<String>, crate::i18n::T>| match r {
            Ok(v) => v,
            Err(message) => {
                errors.push(FieldError { field: field.into(), message });
                None
            }
        };
        let name = check("name", domain::clean_text(&self.name, 100, true));
        let title = check("title", domain::clean_text(&self.title, 100, false));
        let department = check("department", domain::clean_text(&self.department, 100, false));
        let email = check("email", domain::parse_email(&self.email));
        let phone = check("phone", domain::parse_phone(&self.phone));
        let account_id = Uuid::parse_str(self.account_id.trim()).ok();
        if account_id.is_none() {
            errors.push(FieldError { field: "account_id".into(), message: crate::i18n::T::AccountNotFound });
        }
        match (name, account_id) {
            (Some(name), Some(account_id)) if errors.is_empty() => {
                Ok(ValidContact { account_id, name, title, department, email, phone })
            }
            _ => Err(AppError::Validation { fields: errors, submitted: self.to_pairs() }),
        }
    }
}

const SELECT_ROW: &str = "select c.id, c.name, c.title, c.department, c.email, c.phone, c.account_id,
        a.name as account_name from contacts c join accounts a on a.id = c.account_id ";

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
    let rows: Vec<RowRecord> = sqlx::query_as(&format!(
        "{SELECT_ROW} where c.account_id = $1 and c.deleted_at is null order by c.name, c.id limit 500"
    ))
    .bind(account_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(ContactRow::from).collect())
}

pub async fn list(pool: &PgPool, user: &CurrentUser, query: &ContactQuery) -> Result<Page<ContactRow>, AppError> {
    let cursor = Cursor::from_query(&query.after, &query.before);
    let backwards = cursor.as_ref().is_some_and(|c| c.backwards);
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(SELECT_ROW);
    if query.deleted && user.is_manager() {
        qb.push("where c.deleted_at is not null ");
    } else {
        qb.push("where c.deleted_at is null and a.deleted_at is null ");
    }
    let search = query.q.trim();
    if !search.is_empty() {
        let p = contains_pattern(search);
        qb.push("and (c.name ilike ").push_bind(p.clone());
        qb.push(" or c.email ilike ").push_bind(p.clone());
        qb.push(" or c.phone ilike ").push_bind(p.clone());
        qb.push(" or a.name ilike ").push_bind(p).push(") ");
    }
    if let Some(c) = &cursor {
        qb.push(if backwards { "and (c.name, c.id) < (" } else { "and (c.name, c.id) > (" });
        qb.push_bind(c.value.clone()).push(", ").push_bind(c.id).push(") ");
    }
    qb.push(if backwards { "order by c.name desc, c.id desc limit " } else { "order by c.name, c.id limit " });
    qb.push_bind(PAGE_SIZE + 1);
    let rows: Vec<RowRecord> = qb.build_query_as().fetch_all(pool).await?;
    let (rows, more_after, more_before) = finish_page(rows, PAGE_SIZE, cursor.as_ref());
    let cursor_of = |r: &RowRecord| Cursor::encode(&r.name, r.id);
    let next = rows.last().filter(|_| more_after).map(cursor_of);
    let prev = rows.first().filter(|_| more_before).map(cursor_of);
    Ok(Page { rows: rows.into_iter().map(ContactRow::from).collect(), next, prev })
}

pub async fn detail(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<ContactDetail, AppError> {
    #[derive(sqlx::FromRow)]
    struct Rec {
        #[sqlx(flatten)]
        row: RowRecord,
        version: i32,
        updated_by: String,
        updated_at: DateTime<Utc>,
        deleted_at: Option<DateTime<Utc>>,
        owner_id: Uuid,
    }
    let rec: Option<Rec> = sqlx::query_as(
        "select c.id, c.name, c.title, c.department, c.email, c.phone, c.account_id, a.name as account_name,
                c.version, u.display_name as updated_by, c.updated_at, c.deleted_at, a.owner_id
         from contacts c join accounts a on a.id = c.account_id join users u on u.id = c.updated_by
         where c.id = $1 and ((c.deleted_at is null and a.deleted_at is null) or $2)",
    )
    .bind(id)
    .bind(user.is_manager())
    .fetch_optional(pool)
    .await?;
    let rec = rec.ok_or(AppError::NotFound)?;
    let history = crate::server::history(pool, "contact", id).await?;
    let deleted = rec.deleted_at.is_some();
    Ok(ContactDetail {
        can_edit: !deleted && user.can_edit_owned_by(rec.owner_id),
        can_restore: deleted && user.is_manager(),
        contact: Contact {
            row: rec.row.into(),
            version: rec.version,
            updated_by: rec.updated_by,
            updated_at: rec.updated_at,
            deleted_at: rec.deleted_at,
        },
        history,
    })
}

/// The owner of a live account, locked so it cannot change under us.
async fn account_owner(tx: &mut sqlx::PgConnection, account_id: Uuid) -> Result<Option<Uuid>, AppError> {
    let row: Option<(Uuid,)> =
        sqlx::query_as("select owner_id from accounts where id = $1 and deleted_at is null for share")
            .bind(account_id)
            .fetch_optional(tx)
            .await?;
    Ok(row.map(|r| r.0))
}

pub async fn create(pool: &PgPool, user: &CurrentUser, form: &ContactForm) -> Result<Uuid, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let v = form.validate()?;
    let mut tx = pool.begin().await?;
    let owner = account_owner(&mut tx, v.account_id).await?.ok_or_else(|| {
        AppError::field("account_id", crate::i18n::T::AccountNotFound).with_submitted(form.to_pairs())
    })?;
    if !user.can_edit_owned_by(owner) {
        return Err(AppError::Forbidden);
    }
    let (id, after): (Uuid, Value) = sqlx::query_as(
        "insert into contacts (account_id, name, title, department, email, phone, created_by, updated_by)
         values ($1, $2, $3, $4, $5, $6, $7, $7) returning id, to_jsonb(contacts.*)",
    )
    .bind(v.account_id)
    .bind(&v.name)
    .bind(&v.title)
    .bind(&v.department)
    .bind(&v.email)
    .bind(&v.phone)
    .bind(user.id)
    .fetch_one(&mut *tx)
    .await?;
    audit(&mut tx, "contact", id, "create", user.id, None, Some(after)).await?;
    tx.commit().await?;
    Ok(id)
}

/// Locks a contact and checks the user may change it (through its account).
async fn lock_for_change(
    tx: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: Uuid,
    deleted: bool,
) -> Result<(Value, i32, Uuid), AppError> {
    let row: Option<(Value, i32, Uuid, Uuid)> = sqlx::query_as(
        "select to_jsonb(c), c.version, a.owner_id, c.account_id from contacts c join accounts a on a.id = c.account_id
         where c.id = $1 and (c.deleted_at is not null) = $2 and a.deleted_at is null for update of c",
    )
    .bind(id)
    .bind(deleted)
    .fetch_optional(&mut *tx)
    .await?;
    let (before, version, owner, account_id) = row.ok_or(AppError::NotFound)?;
    let allowed = if deleted { user.is_manager() } else { user.can_edit_owned_by(owner) };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    Ok((before, version, account_id))
}

pub async fn update(pool: &PgPool, user: &CurrentUser, id: Uuid, version: i32, form: &ContactForm) -> Result<(), AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let v = form.validate()?;
    let mut tx = pool.begin().await?;
    let (before, current_version, account_id) = lock_for_change(&mut tx, user, id, false).await?;
    // Moving a contact to another account is not an edit: the account field is fixed here.
    if v.account_id != account_id {
        return Err(AppError::field("account_id", crate::i18n::T::InvalidChoice).with_submitted(form.to_pairs()));
    }
    if current_version != version {
        return Err(conflict(&mut tx, "contacts", id).await?.with_submitted(form.to_pairs()));
    }
    let (after,): (Value,) = sqlx::query_as(
        "update contacts set name = $2, title = $3, department = $4, email = $5, phone = $6,
                version = version + 1, updated_by = $7, updated_at = now()
         where id = $1 returning to_jsonb(contacts.*)",
    )
    .bind(id)
    .bind(&v.name)
    .bind(&v.title)
    .bind(&v.department)
    .bind(&v.email)
    .bind(&v.phone)
    .bind(user.id)
    .fetch_one(&mut *tx)
    .await?;
    audit(&mut tx, "contact", id, "update", user.id, Some(before), Some(after)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(pool: &PgPool, user: &CurrentUser, id: Uuid, version: i32) -> Result<Uuid, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let (before, current_version, account_id) = lock_for_change(&mut tx, user, id, false).await?;
    if current_version != version {
        return Err(conflict(&mut tx, "contacts", id).await?);
    }
    let after = set_deleted(&mut tx, user, id, true).await?;
    audit(&mut tx, "contact", id, "delete", user.id, Some(before), Some(after)).await?;
    tx.commit().await?;
    Ok(account_id)
}

pub async fn restore(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<(), AppError> {
    if !user.is_manager() {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let (before, _, _) = lock_for_change(&mut tx, user, id, true).await?;
    let after = set_deleted(&mut tx, user, id, false).await?;
    audit(&mut tx, "contact", id, "restore", user.id, Some(before), Some(after)).await?;
    tx.commit().await?;
    Ok(())
}

async fn set_deleted(tx: &mut sqlx::PgConnection, user: &CurrentUser, id: Uuid, deleted: bool) -> Result<Value, AppError> {
    let (after,): (Value,) = sqlx::query_as(
        "update contacts set deleted_at = case when $3 then now() end, deleted_by = case when $3 then $2 end,
                updated_by = $2, updated_at = now(), version = version + 1
         where id = $1 returning to_jsonb(contacts.*)",
    )
    .bind(id)
    .bind(user.id)
    .bind(deleted)
    .fetch_one(tx)
    .await?;
    Ok(after)
}
