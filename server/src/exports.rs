//! `GET /export/{list}?format=csv|xlsx&…`: a list, with the filters, search
//! and sort the person has on screen, as a file. The rows come from the
//! list's own function (so what a rep may not see is not exported either),
//! `EXPORT_BATCH` at a time along its keyset cursor, and are written out as
//! they come: an export holds one batch in memory, whatever its length.

use std::collections::HashMap;
use std::io::Write;
use std::sync::LazyLock;

use app::auth::CurrentUser;
use app::contracts::RENEWAL_WINDOWS;
use app::error::AppError;
use app::i18n::{Lang, T};
use app::record::export::{Cell, Column, ExportFormat, SheetWriter, EXPORT_BATCH};
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::pages;
use crate::AppState;

/// Exports running at once on this instance: each holds a thread and, a
/// batch at a time, a database connection. More wait for their turn
/// briefly, then are told to try again.
static EXPORTS: LazyLock<std::sync::Arc<Semaphore>> = LazyLock::new(|| std::sync::Arc::new(Semaphore::new(4)));

/// The lists that can be exported, by their path segment.
#[derive(Clone, Copy)]
pub enum List {
    Accounts,
    Contacts,
    Deals,
    Contracts,
    /// The renewal queue: contracts within a renewal window (30 days unless
    /// the address names another, as on its page).
    Renewals,
}

impl List {
    pub fn from_path(s: &str) -> Option<Self> {
        match s {
            "accounts" => Some(Self::Accounts),
            "contacts" => Some(Self::Contacts),
            "deals" => Some(Self::Deals),
            "contracts" => Some(Self::Contracts),
            "renewals" => Some(Self::Renewals),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Accounts => "accounts",
            Self::Contacts => "contacts",
            Self::Deals => "deals",
            Self::Contracts => "contracts",
            Self::Renewals => "renewals",
        }
    }

    fn sheet(self) -> T {
        match self {
            Self::Accounts => T::NavAccounts,
            Self::Contacts => T::NavContacts,
            Self::Deals => T::NavDeals,
            Self::Contracts => T::NavContracts,
            Self::Renewals => T::NavRenewals,
        }
    }

    fn columns(self) -> &'static [Column] {
        match self {
            Self::Accounts => &app::accounts::server::EXPORT_COLUMNS,
            Self::Contacts => &app::contacts::server::EXPORT_COLUMNS,
            Self::Deals => &app::deals::server::EXPORT_COLUMNS,
            Self::Contracts | Self::Renewals => &app::contracts::server::EXPORT_COLUMNS,
        }
    }
}

/// What a refusal says, in the user's language.
fn refusal_text(e: &AppError) -> T {
    match e {
        AppError::Validation { fields, .. } => fields.first().map_or(T::ErrBadRequest, |f| f.message),
        AppError::Busy => T::ErrBusy,
        AppError::Forbidden => T::ErrForbidden,
        AppError::NotFound => T::ErrNotFound,
        _ => T::ErrInternal,
    }
}

pub async fn export(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    headers: axum::http::HeaderMap,
    Path(list): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = pages::lang_of(&headers);
    let user = match user {
        Some(Extension(user)) if user.has_access() => user,
        Some(_) => return pages::message(StatusCode::FORBIDDEN, lang, T::ErrForbidden, None).into_response(),
        None => return pages::message(StatusCode::UNAUTHORIZED, lang, T::ErrUnauthenticated, None).into_response(),
    };
    // The list's filters as its page reads them (a cursor in the address is
    // ignored: an export starts at the first row).
    let params: HashMap<String, String> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let format = params.get("format").and_then(|f| ExportFormat::from_param(f));
    let (Some(list), Some(format)) = (List::from_path(&list), format) else {
        return pages::message(StatusCode::NOT_FOUND, lang, T::ErrNotFound, None).into_response();
    };
    let permit = match tokio::time::timeout(std::time::Duration::from_secs(2), EXPORTS.clone().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        _ => return pages::message(StatusCode::SERVICE_UNAVAILABLE, lang, T::ErrBusy, None).into_response(),
    };
    let mut batches = Batches::new(list, &params, state.pool.clone(), user, lang);
    // The first batch is read before the answer starts, so a refused search
    // (too short, too long) is a page in the user's language, not a broken file.
    let first = match batches.next().await {
        Ok(rows) => rows,
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return pages::message(status, lang, refusal_text(&e), None).into_response();
        }
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || write_file(runtime, format, list, lang, first, batches, tx, permit));
    let file = format!("{}-{}.{}", list.name(), app::i18n::seoul_today(), format.extension());
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
        .into_response()
}

/// Writes the file on a blocking thread (the writers are synchronous),
/// reading each next batch on the runtime. A failure midway ends the
/// download early; it is logged, and the browser shows it as failed.
#[allow(clippy::too_many_arguments)]
fn write_file(
    runtime: tokio::runtime::Handle,
    format: ExportFormat,
    list: List,
    lang: Lang,
    first: Vec<Vec<Cell>>,
    batches: Batches,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    _permit: OwnedSemaphorePermit,
) {
    let out = std::io::BufWriter::with_capacity(64 * 1024, ChannelWriter(tx));
    match write_all(&runtime, format, list, lang, first, batches, out) {
        Ok(rows) => tracing::info!(list = list.name(), format = format.extension(), rows, "export written"),
        Err(e) => tracing::warn!(list = list.name(), error = %e, "export ended early"),
    }
}

/// The whole file into `out`, from the first batch (already read) to the
/// last; the number of rows written. Call it off the async workers.
pub fn write_all<W: Write + Send>(
    runtime: &tokio::runtime::Handle,
    format: ExportFormat,
    list: List,
    lang: Lang,
    first: Vec<Vec<Cell>>,
    mut batches: Batches,
    out: W,
) -> Result<u64, AppError> {
    let mut sheet = SheetWriter::new(format, list.sheet().text(lang), list.columns(), lang, out)?;
    let mut rows = 0u64;
    let mut batch = first;
    loop {
        for r in &batch {
            sheet.row(r)?;
        }
        rows += batch.len() as u64;
        if batches.done {
            break;
        }
        batch = runtime.block_on(batches.next())?;
    }
    sheet.finish()?;
    Ok(rows)
}

/// Bytes written go to the response body; a closed body (the browser went
/// away) is an error that stops the export.
struct ChannelWriter(mpsc::Sender<Result<Bytes, std::io::Error>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "download closed"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One list's rows, a batch at a time along its cursor.
pub struct Batches {
    pool: sqlx::PgPool,
    user: CurrentUser,
    lang: Lang,
    query: ListQuery,
    done: bool,
}

enum ListQuery {
    Accounts(app::accounts::AccountQuery),
    Contacts(app::contacts::ContactQuery),
    Deals(app::deals::DealQuery),
    Contracts(app::contracts::ContractQuery),
}

impl Batches {
    /// The list's query as its page builds it from the address.
    pub fn new(
        list: List,
        params: &HashMap<String, String>,
        pool: sqlx::PgPool,
        user: CurrentUser,
        lang: Lang,
    ) -> Self {
        let get = |k: &str| params.get(k).cloned().unwrap_or_default();
        let deleted = matches!(get("deleted").as_str(), "1" | "on" | "true");
        let query = match list {
            List::Accounts => ListQuery::Accounts(app::accounts::AccountQuery {
                q: get("q"),
                owner: get("owner"),
                industry: get("industry"),
                sort: get("sort"),
                deleted,
                ..Default::default()
            }),
            List::Contacts => {
                ListQuery::Contacts(app::contacts::ContactQuery { q: get("q"), deleted, ..Default::default() })
            }
            List::Deals => ListQuery::Deals(app::deals::DealQuery {
                q: get("q"),
                owner: get("owner"),
                stage: get("stage"),
                currency: get("currency"),
                account: get("account"),
                deleted,
                ..Default::default()
            }),
            List::Contracts | List::Renewals => ListQuery::Contracts(app::contracts::ContractQuery {
                q: get("q"),
                owner: get("owner"),
                status: get("status"),
                currency: get("currency"),
                account: get("account"),
                deal: get("deal"),
                within: match list {
                    List::Renewals if !RENEWAL_WINDOWS.iter().any(|(d, _)| d.to_string() == get("within")) => {
                        "30".into()
                    }
                    _ => get("within"),
                },
                sort: get("sort"),
                deleted,
                ..Default::default()
            }),
        };
        Self { pool, user, lang, query, done: false }
    }

    fn set_after(&mut self, after: String) {
        match &mut self.query {
            ListQuery::Accounts(q) => (q.after, q.before) = (after, String::new()),
            ListQuery::Contacts(q) => (q.after, q.before) = (after, String::new()),
            ListQuery::Deals(q) => (q.after, q.before) = (after, String::new()),
            ListQuery::Contracts(q) => (q.after, q.before) = (after, String::new()),
        }
    }

    /// The next batch of rows as cells; the last one sets `done`.
    pub async fn next(&mut self) -> Result<Vec<Vec<Cell>>, AppError> {
        let (rows, next) = match &self.query {
            ListQuery::Accounts(q) => {
                let page = app::accounts::server::list_sized(&self.pool, &self.user, q, EXPORT_BATCH).await?;
                (page.rows.iter().map(|r| app::accounts::server::export_cells(r, self.lang)).collect(), page.next)
            }
            ListQuery::Contacts(q) => {
                let page = app::contacts::server::list_sized(&self.pool, &self.user, q, EXPORT_BATCH).await?;
                (page.rows.iter().map(app::contacts::server::export_cells).collect(), page.next)
            }
            ListQuery::Deals(q) => {
                let list = app::deals::server::list_sized(&self.pool, &self.user, q, EXPORT_BATCH).await?;
                let cells = list
                    .page
                    .rows
                    .iter()
                    .map(|r| app::deals::server::export_cells(r, &list.stages, self.lang))
                    .collect();
                (cells, list.page.next)
            }
            ListQuery::Contracts(q) => {
                let page = app::contracts::server::list_sized(&self.pool, &self.user, q, EXPORT_BATCH).await?;
                (page.rows.iter().map(|r| app::contracts::server::export_cells(r, self.lang)).collect(), page.next)
            }
        };
        match next {
            Some(after) => self.set_after(after),
            None => self.done = true,
        }
        Ok(rows)
    }
}
