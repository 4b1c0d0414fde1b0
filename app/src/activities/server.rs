//! Activity SQL. Adding one needs the right to edit what it is attached to
//! (an account, a deal or a contract);
//! it also stamps the deal's last-activity time for the stale-deal report.

use sqlx::PgPool;
use uuid::Uuid;

use super::*;
use crate::auth::CurrentUser;
use crate::domain;
use crate::error::AppError;
use crate::i18n::T;
use crate::record::server::{audit, lock};
use crate::record::{label_of, AuditAction, Entity, FieldErrors};

/// The deal's timeline.
pub async fn for_deal(pool: &PgPool, deal_id: Uuid) -> Result<Vec<Activity>, AppError> {
    let rows = sqlx::query_as!(
        Activity,
        r#"select a.id, a.kind, a.subject, a.body, a.occurred_at, a.due_date, a.done, u.display_name as created_by,
                  null::text as "deal_name?"
           from activities a join users u on u.id = a.created_by
           where a.deal_id = $1 order by a.occurred_at desc, a.id limit 200"#,
        deal_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// The contract's timeline.
pub async fn for_contract(pool: &PgPool, contract_id: Uuid) -> Result<Vec<Activity>, AppError> {
    let rows = sqlx::query_as!(
        Activity,
        r#"select a.id, a.kind, a.subject, a.body, a.occurred_at, a.due_date, a.done, u.display_name as created_by,
                  null::text as "deal_name?"
           from activities a join users u on u.id = a.created_by
           where a.contract_id = $1 order by a.occurred_at desc, a.id limit 200"#,
        contract_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// The account's timeline: its own activities and those of the deals the user may see.
pub async fn for_account(pool: &PgPool, user: &CurrentUser, account_id: Uuid) -> Result<Vec<Activity>, AppError> {
    // `deal_name` comes through a left join: null for the account's own activities.
    let rows = sqlx::query_as!(
        Activity,
        r#"select a.id, a.kind, a.subject, a.body, a.occurred_at, a.due_date, a.done, u.display_name as created_by,
                  d.name as "deal_name?"
           from activities a join users u on u.id = a.created_by
           left join deals d on d.id = a.deal_id
           where a.account_id = $1
              or (d.account_id = $1 and d.deleted_at is null and (d.owner_id = $2 or $3))
           order by a.occurred_at desc, a.id limit 200"#,
        account_id,
        user.id,
        user.sees_all_owned(),
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn add(pool: &PgPool, user: &CurrentUser, form: &ActivityForm) -> Result<(Entity, Uuid), AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let mut errors = FieldErrors::new();
    let subject = errors.optional("subject", domain::clean_text(&form.subject, 200, true));
    let body = errors.optional("body", domain::clean_text(&form.body, 4000, false));
    errors.check("kind", label_of(KINDS, form.kind.trim()).ok_or(T::InvalidChoice));
    let due_date = errors.optional("due_date", domain::parse_date(&form.due_date));
    let target = Entity::from_code(&form.target).ok_or(AppError::BadRequest)?;
    let target_id = crate::server::parse_id(&form.target_id)?;
    let subject = errors.finish(subject, vec![])?;

    let mut tx = pool.begin().await?;
    // The owner decides who may add to the timeline; the row is locked so it cannot vanish meanwhile.
    let (account_id, deal_id, contract_id, owner) = match target {
        Entity::Account => {
            let owner = sqlx::query_scalar!(
                "select owner_id from accounts where id = $1 and deleted_at is null for share",
                target_id
            )
            .fetch_optional(&mut *tx)
            .await?;
            (Some(target_id), None, None, owner.ok_or(AppError::NotFound)?)
        }
        Entity::Deal => {
            let owner = sqlx::query_scalar!(
                "select owner_id from deals where id = $1 and deleted_at is null and (owner_id = $2 or $3) for update",
                target_id,
                user.id,
                user.sees_all_owned(),
            )
            .fetch_optional(&mut *tx)
            .await?;
            (None, Some(target_id), None, owner.ok_or(AppError::NotFound)?)
        }
        Entity::Contract => {
            let owner = sqlx::query_scalar!(
                "select owner_id from contracts where id = $1 and deleted_at is null and (owner_id = $2 or $3)
                 for update",
                target_id,
                user.id,
                user.sees_all_owned(),
            )
            .fetch_optional(&mut *tx)
            .await?;
            (None, None, Some(target_id), owner.ok_or(AppError::NotFound)?)
        }
        _ => return Err(AppError::BadRequest),
    };
    if !user.can_edit_owned_by(owner) {
        return Err(AppError::Forbidden);
    }
    // `to_jsonb` of the inserted row is never null (the macro cannot know).
    let row = sqlx::query!(
        r#"insert into activities (kind, subject, body, account_id, deal_id, contract_id, due_date, created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8) returning id, to_jsonb(activities.*) as "after!""#,
        form.kind.trim(),
        subject,
        body,
        account_id,
        deal_id,
        contract_id,
        due_date,
        user.id,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit(&mut tx, Entity::Activity, row.id, AuditAction::Create, user.id, None, Some(row.after)).await?;
    if let Some(deal_id) = deal_id {
        sqlx::query!("update deals set last_activity_at = now() where id = $1", deal_id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok((target, target_id))
}

/// Ticks a task done (or not). Returns where to go back to.
pub async fn set_done(pool: &PgPool, user: &CurrentUser, id: Uuid, done: bool) -> Result<String, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    // Read, check and write in one transaction: the task and the record it
    // hangs off are locked, so a record deleted or reassigned meanwhile
    // refuses the change instead of letting it through.
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"select account_id, deal_id, contract_id, to_jsonb(a) as "before!" from activities a
           where id = $1 and kind = 'task' for update"#,
        id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let row = row.ok_or(AppError::NotFound)?;
    // What the task hangs off: its deal, its contract or its account.
    let (target, target_id) = match (row.deal_id, row.contract_id, row.account_id) {
        (Some(deal), _, _) => (Entity::Deal, deal),
        (None, Some(contract), _) => (Entity::Contract, contract),
        (None, None, Some(account)) => (Entity::Account, account),
        (None, None, None) => return Err(AppError::NotFound),
    };
    let before = row.before;
    // The record must be live, visible to this user and theirs to edit.
    lock(&mut tx, user, target, target_id, false).await?;
    let after = sqlx::query_scalar!(
        r#"update activities set done = $2 where id = $1 returning to_jsonb(activities.*) as "after!""#,
        id,
        done,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit(&mut tx, Entity::Activity, id, AuditAction::Update, user.id, Some(before), Some(after)).await?;
    tx.commit().await?;
    Ok(target.path(target_id))
}
