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
    sqlx::query(
        "insert into audit_log (entity, entity_id, action, actor_id, before, after)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(entity.code())
    .bind(entity_id)
    .bind(action.code())
    .bind(actor)
    .bind(before)
    .bind(after)
    .execute(conn)
    .await?;
    Ok(())
}

/// Audit rows of one record, newest first, with the field-level differences.
pub async fn history(pool: &PgPool, entity: Entity, entity_id: Uuid) -> Result<Vec<HistoryEntry>, AppError> {
    let rows: Vec<(String, DateTime<Utc>, String, Option<Value>, Option<Value>)> = sqlx::query_as(
        "select l.action, l.at, u.display_name, l.before, l.after
         from audit_log l join users u on u.id = l.actor_id
         where l.entity = $1 and l.entity_id = $2
         order by l.id desc limit 200",
    )
    .bind(entity.code())
    .bind(entity_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(action, at, actor, before, after)| {
            // The column's check constraint admits only known codes.
            let Some(action) = AuditAction::from_code(&action) else {
                tracing::error!(%action, "unknown audit action in audit_log");
                return None;
            };
            Some(HistoryEntry { changes: diff(before.as_ref(), after.as_ref()), action, at, actor })
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
    type Row = (Value, Uuid, i32, Option<Uuid>);
    let row: Option<Row> = match entity {
        Entity::Account => {
            sqlx::query_as(
                "select to_jsonb(t), t.owner_id, t.version, null::uuid from accounts t
                 where t.id = $1 and (t.deleted_at is not null) = $2 for update",
            )
            .bind(id)
            .bind(deleted)
            .fetch_optional(&mut *conn)
            .await?
        }
        // A contact is changed by whoever may change its (live) account.
        Entity::Contact => {
            sqlx::query_as(
                "select to_jsonb(t), a.owner_id, t.version, t.account_id
                 from contacts t join accounts a on a.id = t.account_id
                 where t.id = $1 and (t.deleted_at is not null) = $2 and a.deleted_at is null
                 for update of t",
            )
            .bind(id)
            .bind(deleted)
            .fetch_optional(&mut *conn)
            .await?
        }
        Entity::Deal => {
            sqlx::query_as(
                "select to_jsonb(t), t.owner_id, t.version, t.account_id from deals t
                 where t.id = $1 and (t.deleted_at is not null) = $2 and (t.owner_id = $3 or $4) for update",
            )
            .bind(id)
            .bind(deleted)
            .bind(user.id)
            .bind(user.sees_all_owned())
            .fetch_optional(&mut *conn)
            .await?
        }
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
pub async fn check_version(conn: &mut PgConnection, entity: Entity, id: Uuid, current: i32, based_on: i32) -> Result<(), AppError> {
    if current == based_on {
        return Ok(());
    }
    // `table` is one of our own constants, never user input.
    let sql = format!(
        "select u.display_name, t.updated_at from {} t join users u on u.id = t.updated_by where t.id = $1",
        entity.table()
    );
    let row: Option<(String, DateTime<Utc>)> = sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?;
    Err(match row {
        Some((changed_by, changed_at)) => AppError::Conflict { changed_by, changed_at, submitted: vec![] },
        None => AppError::NotFound,
    })
}

/// Marks a locked record deleted (or live again) and returns its new row.
async fn set_deleted(conn: &mut PgConnection, user: &CurrentUser, entity: Entity, id: Uuid, deleted: bool) -> Result<Value, AppError> {
    let sql = format!(
        "update {table} set deleted_at = case when $3 then now() end, deleted_by = case when $3 then $2 end,
                updated_by = $2, updated_at = now(), version = version + 1
         where id = $1 returning to_jsonb({table}.*)",
        table = entity.table()
    );
    let (after,): (Value,) = sqlx::query_as(&sql).bind(id).bind(user.id).bind(deleted).fetch_one(conn).await?;
    Ok(after)
}

/// Soft delete: the row stays, hidden, and a manager can restore it.
/// Returns the record as it was locked (its account, for where to go next).
pub async fn delete(pool: &PgPool, user: &CurrentUser, entity: Entity, id: Uuid, version: i32) -> Result<Locked, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let locked = lock(&mut tx, user, entity, id, false).await?;
    check_version(&mut tx, entity, id, locked.version, version).await?;
    if entity == Entity::Account {
        // Its deals would be left pointing at a hidden account and still counted on the board.
        let (live_deals,): (bool,) =
            sqlx::query_as("select exists (select 1 from deals where account_id = $1 and deleted_at is null)")
                .bind(id)
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
        let (live,): (bool,) =
            sqlx::query_as("select exists (select 1 from accounts where id = $1 and deleted_at is null for share)")
                .bind(account)
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
    let ok: Option<(Uuid,)> = sqlx::query_as(
        "select id from users where id = $1 and roles && array['sales-rep', 'sales-manager', 'salesops-admin']",
    )
    .bind(owner)
    .fetch_optional(conn)
    .await?;
    ok.map(|r| r.0).ok_or_else(|| AppError::field("owner_id", T::InvalidChoice))
}

/// The live account a new contact or deal is filed under, locked so it cannot
/// be deleted meanwhile; returns its owner.
pub async fn live_account(conn: &mut PgConnection, account_id: Uuid) -> Result<Uuid, AppError> {
    let row: Option<(Uuid,)> = sqlx::query_as("select owner_id from accounts where id = $1 and deleted_at is null for share")
        .bind(account_id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| r.0).ok_or_else(|| AppError::field("account_id", T::AccountNotFound))
}

/// The name of a live account (what a "new contact/deal for…" page shows).
pub async fn account_ref(pool: &PgPool, id: Uuid) -> Result<super::RecordRef, AppError> {
    let row: Option<(Uuid, String)> = sqlx::query_as("select id, name from accounts where id = $1 and deleted_at is null")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let (id, name) = row.ok_or(AppError::NotFound)?;
    Ok(super::RecordRef { kind: Entity::Account, id, name })
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
