//! Activity SQL. Adding one needs the right to edit what it is attached to;
//! it also stamps the deal's last-activity time for the stale-deal report.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::*;
use crate::auth::CurrentUser;
use crate::domain;
use crate::error::AppError;
use crate::i18n::T;
use crate::record::server::audit;
use crate::record::{label_of, AuditAction, Entity, FieldErrors};

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    kind: String,
    subject: String,
    body: Option<String>,
    occurred_at: DateTime<Utc>,
    due_date: Option<NaiveDate>,
    done: bool,
    created_by: String,
    deal_name: Option<String>,
}

impl From<Row> for Activity {
    fn from(r: Row) -> Self {
        Activity {
            id: r.id,
            kind: r.kind,
            subject: r.subject,
            body: r.body,
            occurred_at: r.occurred_at,
            due_date: r.due_date,
            done: r.done,
            created_by: r.created_by,
            deal_name: r.deal_name,
        }
    }
}

/// The deal's timeline.
pub async fn for_deal(pool: &PgPool, deal_id: Uuid) -> Result<Vec<Activity>, AppError> {
    let rows: Vec<Row> = sqlx::query_as(
        "select a.id, a.kind, a.subject, a.body, a.occurred_at, a.due_date, a.done, u.display_name as created_by,
                null::text as deal_name
         from activities a join users u on u.id = a.created_by
         where a.deal_id = $1 order by a.occurred_at desc, a.id limit 200",
    )
    .bind(deal_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Activity::from).collect())
}

/// The account's timeline: its own activities and those of the deals the user may see.
pub async fn for_account(pool: &PgPool, user: &CurrentUser, account_id: Uuid) -> Result<Vec<Activity>, AppError> {
    let rows: Vec<Row> = sqlx::query_as(
        "select a.id, a.kind, a.subject, a.body, a.occurred_at, a.due_date, a.done, u.display_name as created_by,
                d.name as deal_name
         from activities a join users u on u.id = a.created_by
         left join deals d on d.id = a.deal_id
         where a.account_id = $1
            or (d.account_id = $1 and d.deleted_at is null and (d.owner_id = $2 or $3))
         order by a.occurred_at desc, a.id limit 200",
    )
    .bind(account_id)
    .bind(user.id)
    .bind(user.sees_all_owned())
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Activity::from).collect())
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
    let (account_id, deal_id, owner) = match target {
        Entity::Account => {
            let row: Option<(Uuid,)> =
                sqlx::query_as("select owner_id from accounts where id = $1 and deleted_at is null for share")
                    .bind(target_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            (Some(target_id), None, row.ok_or(AppError::NotFound)?.0)
        }
        Entity::Deal => {
            let row: Option<(Uuid,)> = sqlx::query_as(
                "select owner_id from deals where id = $1 and deleted_at is null and (owner_id = $2 or $3) for update",
            )
            .bind(target_id)
            .bind(user.id)
            .bind(user.sees_all_owned())
            .fetch_optional(&mut *tx)
            .await?;
            (None, Some(target_id), row.ok_or(AppError::NotFound)?.0)
        }
        _ => return Err(AppError::BadRequest),
    };
    if !user.can_edit_owned_by(owner) {
        return Err(AppError::Forbidden);
    }
    let (activity_id, after): (Uuid, serde_json::Value) = sqlx::query_as(
        "insert into activities (kind, subject, body, account_id, deal_id, due_date, created_by)
         values ($1, $2, $3, $4, $5, $6, $7) returning id, to_jsonb(activities.*)",
    )
    .bind(form.kind.trim())
    .bind(&subject)
    .bind(&body)
    .bind(account_id)
    .bind(deal_id)
    .bind(due_date)
    .bind(user.id)
    .fetch_one(&mut *tx)
    .await?;
    audit(&mut tx, Entity::Activity, activity_id, AuditAction::Create, user.id, None, Some(after)).await?;
    if let Some(deal_id) = deal_id {
        sqlx::query("update deals set last_activity_at = now() where id = $1").bind(deal_id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok((target, target_id))
}

/// Ticks a task done (or not). Returns where to go back to.
pub async fn set_done(pool: &PgPool, user: &CurrentUser, id: Uuid, done: bool) -> Result<String, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden);
    }
    let row: Option<(Option<Uuid>, Option<Uuid>, Uuid)> = sqlx::query_as(
        "select a.account_id, a.deal_id, coalesce(d.owner_id, ac.owner_id)
         from activities a left join deals d on d.id = a.deal_id left join accounts ac on ac.id = a.account_id
         where a.id = $1 and a.kind = 'task' and (d.id is null or d.owner_id = $2 or $3)",
    )
    .bind(id)
    .bind(user.id)
    .bind(user.sees_all_owned())
    .fetch_optional(pool)
    .await?;
    let (account_id, deal_id, owner) = row.ok_or(AppError::NotFound)?;
    if !user.can_edit_owned_by(owner) {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let (before,): (serde_json::Value,) =
        sqlx::query_as("select to_jsonb(a) from activities a where id = $1 for update").bind(id).fetch_one(&mut *tx).await?;
    let (after,): (serde_json::Value,) =
        sqlx::query_as("update activities set done = $2 where id = $1 returning to_jsonb(activities.*)")
            .bind(id)
            .bind(done)
            .fetch_one(&mut *tx)
            .await?;
    audit(&mut tx, Entity::Activity, id, AuditAction::Update, user.id, Some(before), Some(after)).await?;
    tx.commit().await?;
    Ok(match (deal_id, account_id) {
        (Some(d), _) => Entity::Deal.path(d),
        (None, Some(a)) => Entity::Account.path(a),
        _ => "/".into(),
    })
}
