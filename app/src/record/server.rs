//! The record kit's SQL: the audit trail, history, the optimistic-lock check
//! with its conflict message, soft delete and restore, the owner rule. Every
//! domain writes through these, so each rule exists once.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{AuditAction, Entity, FieldChange, HistoryEntry};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::T;

/// One row of the audit trail, written inside the caller's transaction.
pub async fn audit(
    conn: &mut PgConnection,
    entity: Entity,
    entity_id: Uuid,
    action: AuditAction,
    actor: Uuid,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), AppError> {
    sqlx::query!(
        "insert into audit_log (entity, entity_id, action, actor_id, before, after)
         values ($1, $2, $3, $4, $5, $6)",
        entity.code(),
        entity_id,
        action.code(),
        actor,
        before,
        after,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Audit rows of one record, newest first, with the field-level differences.
pub async fn history(pool: &PgPool, entity: Entity, entity_id: Uuid) -> Result<Vec<HistoryEntry>, AppError> {
    let rows = sqlx::query!(
        "select l.action, l.at, u.display_name, l.before, l.after
         from audit_log l join users u on u.id = l.actor_id
         where l.entity = $1 and l.entity_id = $2
         order by l.id desc limit 200",
        entity.code(),
        entity_id,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            // The column's check constraint admits only known codes.
            let Some(action) = AuditAction::from_code(&r.action) else {
                tracing::error!(action = %r.action, "unknown audit action in audit_log");
                return None;
            };
            Some(HistoryEntry {
                changes: diff(r.before.as_ref(), r.after.as_ref()),
                action,
                at: r.at,
                actor: r.display_name,
            })
        })
        .collect())
}

/// Fields whose values differ, skipping bookkeeping columns.
fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
    const SKIP: &[&str] = &["id", "version", "created_at", "created_by", "updated_at", "updated_by", "deleted_by"];
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !SKIP.contains(&k.as_str()))
        .filter_map(|k| {
            let (old, new) = (b.get(k).unwrap_or(&Value::Null), a.get(k).unwrap_or(&Value::Null));
            (old != new).then(|| FieldChange { field: k.clone(), before: show(old), after: show(new) })
        })
        .collect()
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A record locked for change inside the caller's transaction.
pub struct Locked {
    /// Its row before the change, for the audit trail.
    pub before: Value,
    /// Whose it is (for a contact: its account's owner).
    pub owner: Uuid,
    pub version: i32,
    /// The account a contact or deal belongs to.
    pub parent: Option<Uuid>,
}

/// Locks a live (or, to restore it, a deleted) record and checks the user may
/// change it: its owner or a manager while live, only a manager once deleted.
/// A deal another rep owns is "not found", as everywhere else.
pub async fn lock(
    conn: &mut PgConnection,
    user: &CurrentUser,
    entity: Entity,
    id: Uuid,
    deleted: bool,
) -> Result<Locked, AppError> {
    // `to_jsonb` of a row that exists is never null (the macro cannot know).
    let row: Option<(Value, Uuid, i32, Option<Uuid>)> = match entity {
        Entity::Account => sqlx::query!(
            r#"select to_jsonb(t) as "before!", t.owner_id, t.version from accounts t
               where t.id = $1 and (t.deleted_at is not null) = $2 for update"#,
            id,
            deleted,
        )
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| (r.before, r.owner_id, r.version, None)),
        // A contact is changed by whoever may change its (live) account.
        Entity::Contact => sqlx::query!(
            r#"select to_jsonb(t) as "before!", a.owner_id, t.version, t.account_id
               from contacts t join accounts a on a.id = t.account_id
               where t.id = $1 and (t.deleted_at is not null) = $2 and a.deleted_at is null
               for update of t"#,
            id,
            deleted,
        )
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| (r.before, r.owner_id, r.version, Some(r.account_id))),
        Entity::Deal => sqlx::query!(
            r#"select to_jsonb(t) as "before!", t.owner_id, t.version, t.account_id from deals t
               where t.id = $1 and (t.deleted_at is not null) = $2 and (t.owner_id = $3 or $4) for update"#,
            id,
            deleted,
            user.id,
            user.sees_all_owned(),
        )
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| (r.before, r.owner_id, r.version, Some(r.account_id))),
        Entity::Contract => sqlx::query!(
            r#"select to_jsonb(t) as "before!", t.owner_id, t.version, t.account_id from contracts t
               where t.id = $1 and (t.deleted_at is not null) = $2 and (t.owner_id = $3 or $4) for update"#,
            id,
            deleted,
            user.id,
            user.sees_all_owned(),
        )
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| (r.before, r.owner_id, r.version, Some(r.account_id))),
        Entity::Activity => return Err(AppError::BadRequest),
    };
    let (before, owner, version, parent) = row.ok_or(AppError::NotFound)?;
    let allowed = if deleted { user.is_manager() } else { user.can_edit_owned_by(owner) };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    Ok(Locked { before, owner, version, parent })
}

/// Refuses a save based on a stale version, saying who changed the record and when.
pub async fn check_version(
    conn: &mut PgConnection,
    entity: Entity,
    id: Uuid,
    current: i32,
    based_on: i32,
) -> Result<(), AppError> {
    if current == based_on {
        return Ok(());
    }
    // One static query per table, so each is checked against the schema.
    let row: Option<(String, DateTime<Utc>)> = match entity {
        Entity::Account => sqlx::query!(
            "select u.display_name, t.updated_at from accounts t join users u on u.id = t.updated_by where t.id = $1",
            id
        )
        .fetch_optional(conn)
        .await?
        .map(|r| (r.display_name, r.updated_at)),
        Entity::Contact => sqlx::query!(
            "select u.display_name, t.updated_at from contacts t join users u on u.id = t.updated_by where t.id = $1",
            id
        )
        .fetch_optional(conn)
        .await?
        .map(|r| (r.display_name, r.updated_at)),
        Entity::Deal => sqlx::query!(
            "select u.display_name, t.updated_at from deals t join users u on u.id = t.updated_by where t.id = $1",
            id
        )
        .fetch_optional(conn)
        .await?
        .map(|r| (r.display_name, r.updated_at)),
        Entity::Contract => sqlx::query!(
            "select u.display_name, t.updated_at from contracts t join users u on u.id = t.updated_by where t.id = $1",
            id
        )
        .fetch_optional(conn)
        .await?
        .map(|r| (r.display_name, r.updated_at)),
        // Activities carry no version (lock refuses them too).
        Entity::Activity => return Err(AppError::BadRequest),
    };
    Err(match row {
        Some((changed_by, changed_at)) => AppError::Conflict { changed_by, changed_at, submitted: vec![] },
        None => AppError::NotFound,
    })
}

/// Marks a locked record deleted (or live again) and returns its new row.
async fn set_deleted(
    conn: &mut PgConnection,
    user: &CurrentUser,
    entity: Entity,
    id: Uuid,
    deleted: bool,
) -> Result<Value, AppError> {
    // One static query per table, so each is checked against the schema; `to_jsonb`
    // of the updated row is never null (the macro cannot know). `$2::uuid`: inside
    // the `case` Postgres would otherwise infer text when preparing without types.
    let after = match entity {
        Entity::Account => sqlx::query_scalar!(
            r#"update accounts set deleted_at = case when $3 then now() end, deleted_by = case when $3 then $2::uuid end,
                      updated_by = $2, updated_at = now(), version = version + 1
               where id = $1 returning to_jsonb(accounts.*) as "after!""#,
            id,
            user.id,
            deleted,
        )
        .fetch_one(conn)
        .await?,
        Entity::Contact => sqlx::query_scalar!(
            r#"update contacts set deleted_at = case when $3 then now() end, deleted_by = case when $3 then $2::uuid end,
                      updated_by = $2, updated_at = now(), version = version + 1
               where id = $1 returning to_jsonb(contacts.*) as "after!""#,
            id,
            user.id,
            deleted,
        )
        .fetch_one(conn)
        .await?,
        Entity::Deal => sqlx::query_scalar!(
            r#"update deals set deleted_at = case when $3 then now() end, deleted_by = case when $3 then $2::uuid end,
                      updated_by = $2, updated_at = now(), version = version + 1
               where id = $1 returning to_jsonb(deals.*) as "after!""#,
            id,
            user.id,
            deleted,
        )
        .fetch_one(conn)
        .await?,
        Entity::Contract => sqlx::query_scalar!(
            r#"update contracts set deleted_at = case when $3 then now() end, deleted_by = case when $3 then $2::uuid end,
                      updated_by = $2, updated_at = now(), version = version + 1
               where id = $1 returning to_jsonb(contracts.*) as "after!""#,
            id,
            user.id,
            deleted,
        )
        .fetch_one(conn)
        .await?,
        // Activities are never soft-deleted (lock refuses them before this).
        Entity::Activity => return Err(AppError::BadRequest),
    };
    Ok(after)
}

/// Soft delete: the row stays, hidden, and a manager can restore it.
/// Returns the record as it was locked (its account, for where to go next).
pub async fn delete(
    pool: &PgPool,
    user: &CurrentUser,
    entity: Entity,
    id: Uuid,
    version: i32,
) -> Result<Locked, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, user, entity, id, false).await?;
    check_version(&mut tx, entity, id, locked.version, version).await?;
    if entity == Entity::Account {
        // Its deals and contracts would be left pointing at a hidden account
        // (and still counted on the board and in the renewal queue).
        let live_deals = sqlx::query_scalar!(
            r#"select exists (select 1 from deals where account_id = $1 and deleted_at is null)
                   or exists (select 1 from contracts where account_id = $1 and deleted_at is null) as "live!""#,
            id
        )
        .fetch_one(&mut *tx)
        .await?;
        if live_deals {
            return Err(AppError::field("", T::AccountHasDeals));
        }
    }
    let after = set_deleted(&mut tx, user, entity, id, true).await?;
    audit(&mut tx, entity, id, AuditAction::Delete, user.id, Some(locked.before.clone()), Some(after)).await?;
    tx.commit().await?;
    Ok(locked)
}

pub async fn restore(pool: &PgPool, user: &CurrentUser, entity: Entity, id: Uuid) -> Result<(), AppError> {
    if !user.is_manager() {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, user, entity, id, true).await?;
    if let Some(account) = locked.parent {
        // Nothing comes back onto a deleted account (it would be unreachable).
        let live = sqlx::query_scalar!(
            r#"select exists (select 1 from accounts where id = $1 and deleted_at is null for share) as "live!""#,
            account
        )
        .fetch_one(&mut *tx)
        .await?;
        if !live {
            return Err(AppError::field("", T::AccountNotFound));
        }
    }
    let after = set_deleted(&mut tx, user, entity, id, false).await?;
    audit(&mut tx, entity, id, AuditAction::Restore, user.id, Some(locked.before), Some(after)).await?;
    tx.commit().await?;
    Ok(())
}

/// The owner a save may set: reps own what they create and cannot hand
/// records to others; managers may choose anyone who can own records.
pub async fn owner_for(
    conn: &mut PgConnection,
    user: &CurrentUser,
    requested: Option<Uuid>,
    current: Option<Uuid>,
) -> Result<Uuid, AppError> {
    let fallback = current.unwrap_or(user.id);
    let owner = match requested {
        None => fallback,
        Some(id) if id == fallback => id,
        Some(id) if user.is_manager() => id,
        Some(_) => return Err(AppError::field("owner_id", T::OwnerOnlyManagers)),
    };
    let ok = sqlx::query_scalar!(
        "select id from users where id = $1 and roles && array['sales-rep', 'sales-manager', 'salesops-admin']",
        owner
    )
    .fetch_optional(conn)
    .await?;
    ok.ok_or_else(|| AppError::field("owner_id", T::InvalidChoice))
}

/// The live account a new contact or deal is filed under, locked so it cannot
/// be deleted meanwhile; returns its owner.
pub async fn live_account(conn: &mut PgConnection, account_id: Uuid) -> Result<Uuid, AppError> {
    let row =
        sqlx::query_scalar!("select owner_id from accounts where id = $1 and deleted_at is null for share", account_id)
            .fetch_optional(conn)
            .await?;
    row.ok_or_else(|| AppError::field("account_id", T::AccountNotFound))
}

/// The name of a live account (what a "new contact/deal for…" page shows).
pub async fn account_ref(pool: &PgPool, id: Uuid) -> Result<super::RecordRef, AppError> {
    let row = sqlx::query!("select id, name from accounts where id = $1 and deleted_at is null", id)
        .fetch_optional(pool)
        .await?;
    let row = row.ok_or(AppError::NotFound)?;
    Ok(super::RecordRef { kind: Entity::Account, id: row.id, name: row.name })
}

/// The record and the version an edit was based on, as the edit form posts
/// them; a malformed version is refused with the input kept.
pub fn edit_target(id: &str, version: &str, form: &impl super::Echo) -> Result<(Uuid, i32), AppError> {
    let id = crate::server::parse_id(id)?;
    let version = crate::server::parse_version(version).map_err(|e| e.with_submitted(form.to_pairs()))?;
    Ok((id, version))
}

/// Answers a successful save with the record's page and its confirmation
/// (a plain form post follows the redirect; an island reads it).
pub fn redirect_to(entity: Entity, id: Uuid, notice: super::Notice) {
    leptos_axum::redirect(&notice.on(&entity.path(id)));
}
