//! Server-only plumbing below everything else in `app`: the pool from the
//! request context, the error-to-status mapping of server functions, id and
//! version parsing, keyset cursors. It uses nothing of `app` but the leaf types.

use std::future::Future;

use leptos::prelude::use_context;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::AppError;

pub fn pool() -> Result<PgPool, AppError> {
    use_context::<PgPool>().ok_or_else(|| {
        tracing::error!("database pool missing from the request context");
        AppError::Internal
    })
}

/// Runs a server function body and maps its error to an HTTP status, once.
/// A plain HTML form post (no JavaScript) is answered with a redirect that
/// carries the error instead, so its status is left alone.
pub async fn run<T>(body: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    let result = body.await;
    if let Err(err) = &result {
        let parts = use_context::<http::request::Parts>();
        let from_plain_form = parts
            .as_ref()
            .and_then(|p| p.headers.get(http::header::ACCEPT))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
        if !from_plain_form {
            if let (Some(options), Ok(status)) =
                (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(err.status()))
            {
                options.set_status(status);
            }
        }
        if matches!(err, AppError::Unauthenticated | AppError::Forbidden) {
            let path = parts.as_ref().map(|p| p.uri.path().to_string()).unwrap_or_default();
            tracing::warn!(%path, error = %err, "refused server function call");
        }
    }
    result
}

/// Parses an id sent by the browser (hidden field or URL).
pub fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound)
}

/// Parses the hidden optimistic-locking version field.
pub fn parse_version(raw: &str) -> Result<i32, AppError> {
    raw.trim()
        .parse::<i32>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| AppError::field("", crate::i18n::T::ErrStaleVersion))
}

/// `%text%` for ILIKE, with the user's own wildcards taken literally.
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The cheapest operator that matches `text` regardless of case: `like`
/// when no character of it has a case (Korean, digits, `@`), which is
/// exactly what `ilike` would match and about five times faster per row;
/// `ilike` otherwise. Walks that test thousands of rows use it.
pub fn match_operator(text: &str) -> &'static str {
    if text.to_lowercase() == text.to_uppercase() {
        " like "
    } else {
        " ilike "
    }
}

/// A keyset-pagination cursor: the sort value and id of the row a page starts
/// after (or ends before), sent as `value|id`.
pub struct Cursor {
    pub value: String,
    pub id: Uuid,
    /// True when walking back (`before`): the query runs in reverse order.
    pub backwards: bool,
}

impl Cursor {
    pub fn from_query(after: &str, before: &str) -> Option<Cursor> {
        let parse = |raw: &str, backwards| {
            let (value, id) = raw.rsplit_once('|')?;
            Some(Cursor { value: value.to_string(), id: Uuid::parse_str(id).ok()?, backwards })
        };
        parse(after, false).or_else(|| parse(before, true))
    }

    pub fn encode(value: &str, id: Uuid) -> String {
        format!("{value}|{id}")
    }
}

/// Cuts a fetched page (PAGE + 1 rows) to size, restores display order and
/// says whether there are pages after and before it.
pub fn finish_page<R>(mut rows: Vec<R>, page_size: i64, cursor: Option<&Cursor>) -> (Vec<R>, bool, bool) {
    let has_more = rows.len() as i64 > page_size;
    rows.truncate(page_size as usize);
    let backwards = cursor.is_some_and(|c| c.backwards);
    if backwards {
        rows.reverse();
    }
    let (more_after, more_before) = if backwards { (cursor.is_some(), has_more) } else { (has_more, cursor.is_some()) };
    (rows, more_after, more_before)
}

// Search statements are never kept prepared (`.persistent(false)`): a kept
// statement is planned for its text only for its first five runs on a
// connection, then Postgres may switch to one generic plan for every text.
// For `name ilike $1` that plan walks the name index (a guess that many rows
// match), which for a word nobody uses reads every row: 900 ms at a million
// accounts, measured. Planned each time, each text gets its own index.

/// How many rows of list order a two-character search reads before it asks
/// the bigram index instead (the deal and contact lists): a common word fills
/// a page within them, a rare one is cheap through the index.
pub const SEARCH_WALK: i64 = 10_000;

/// At most this many rows in the bigram index make a two-character word rare:
/// the index then answers at once, without the walk (so a word nobody uses
/// costs one index lookup, not `SEARCH_WALK` rows).
pub const SEARCH_FEW: i64 = 200;

/// How many searches of one user run at once. A search reads an index (or
/// walks a bounded stretch of one) and may take tens of milliseconds of the
/// database's CPU; ten at a time from one browser tab, or one script, would
/// take it from everybody else. The extra ones wait their turn.
pub const SEARCHES_PER_USER: usize = 2;

/// How long a search waits for its turn before it is refused with "took too
/// long" (the statement timeout's message): a user who fires searches faster
/// than they finish gets an answer, not an ever longer queue.
const SEARCH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// One user's turn to search; the next waiting search of that user starts
/// when it is dropped.
pub struct SearchTurn {
    user: Uuid,
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// The semaphores of the users searching now, so an idle user costs nothing:
/// the last turn of a user removes their entry.
static SEARCHERS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<Uuid, std::sync::Arc<tokio::sync::Semaphore>>>,
> = std::sync::LazyLock::new(Default::default);

fn searchers() -> std::sync::MutexGuard<'static, std::collections::HashMap<Uuid, std::sync::Arc<tokio::sync::Semaphore>>>
{
    // The map stays consistent even if a holder panicked: every change is one insert or remove.
    SEARCHERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits for the user's turn when the list is searched (see `SEARCHES_PER_USER`);
/// a list without search text runs at once. Hold the turn until the query is done.
pub async fn search_turn(user: Uuid, searching: bool) -> Result<Option<SearchTurn>, AppError> {
    if searching {
        wait_turn(user).await.map(Some)
    } else {
        Ok(None)
    }
}

async fn wait_turn(user: Uuid) -> Result<SearchTurn, AppError> {
    let slots = searchers()
        .entry(user)
        .or_insert_with(|| std::sync::Arc::new(tokio::sync::Semaphore::new(SEARCHES_PER_USER)))
        .clone();
    // The turn exists before the wait, so a wait that gives up still cleans up on drop.
    let mut turn = SearchTurn { user, slots, permit: None };
    match tokio::time::timeout(SEARCH_WAIT, turn.slots.clone().acquire_owned()).await {
        Ok(Ok(permit)) => {
            turn.permit = Some(permit);
            Ok(turn)
        }
        // Timed out, or the semaphore was closed (never done): the user hears "try again".
        _ => Err(AppError::Busy),
    }
}

impl Drop for SearchTurn {
    fn drop(&mut self) {
        self.permit.take();
        let mut map = searchers();
        // Two holders left (the map and this turn): nobody else searches or waits,
        // since every other holder cloned it under this same lock.
        if std::sync::Arc::strong_count(&self.slots) == 2 {
            map.remove(&self.user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Polls once: whether a search would start now, without waiting.
    fn starts_now<F: Future>(f: std::pin::Pin<&mut F>) -> Option<F::Output> {
        match f.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => Some(v),
            Poll::Pending => None,
        }
    }

    #[tokio::test]
    async fn a_user_runs_two_searches_at_once_and_the_third_waits_without_holding_up_others() {
        let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
        let first = wait_turn(ana).await.ok();
        let second = wait_turn(ana).await.ok();
        assert!(first.is_some() && second.is_some());
        let mut third = pin!(wait_turn(ana));
        assert!(starts_now(third.as_mut()).is_none(), "a third search of the same user waits");
        let other = wait_turn(ben).await;
        assert!(other.is_ok(), "another user's search starts at once");
        drop(first);
        let third = starts_now(third.as_mut());
        assert!(matches!(third, Some(Ok(_))), "the waiting search starts when one ends");
        drop((second, third, other));
    }

    #[tokio::test]
    async fn a_user_who_stopped_searching_leaves_nothing_behind() {
        let user = Uuid::new_v4();
        let turns = (wait_turn(user).await, wait_turn(user).await);
        let mut waiting = Box::pin(wait_turn(user));
        assert!(starts_now(waiting.as_mut()).is_none());
        drop(waiting); // the user navigated away while it waited
        drop(turns);
        // Other tests run in parallel with their own users: look for this one only.
        assert!(!searchers().contains_key(&user), "no entry left for a user with no search");
    }
}
