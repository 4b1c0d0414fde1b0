//! Imports in Postgres: the uploaded file, the preview, the job that writes
//! it (claimed with `for update skip locked`, kept alive by a heartbeat) and
//! the undo. Every statement that changes data checks in SQL that the actor
//! is an admin, as well as the server function checking the session.
//!
//! The merge runs in one transaction: the checked rows go into a temporary
//! table with `COPY`, then each kind of record is matched, inserted and
//! updated with set-based statements, never a row at a time. Those
//! statements name temporary tables the compile-time checker cannot see, so
//! they are plain `sqlx::query` (the fixed ones are `query!`).

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::check::{check_sheets, Checked, Directory, Person, RowValues, SheetInput};
use super::read::{read_upload, Limits};
use super::*;
use crate::auth::CurrentUser;
use crate::domain::StageInfo;
use crate::error::AppError;
use crate::i18n::T;

const ADMIN: &str = "salesops-admin";

/// A heartbeat older than this means the instance running the job died.
pub const STALE_AFTER_SECS: f64 = 30.0;
/// How often a running job proves it is alive and reports its progress.
pub const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// A message key as stored (its name), and back.
fn key_name(t: T) -> String {
    format!("{t:?}")
}

fn key_from_name(name: &str) -> Option<T> {
    T::ALL.iter().copied().find(|t| format!("{t:?}") == name)
}

pub async fn store_upload(pool: &PgPool, user: &CurrentUser, file_name: &str, bytes: &[u8]) -> Result<Uuid, AppError> {
    let name: String = file_name.chars().filter(|c| !c.is_control()).take(255).collect();
    let name = if name.trim().is_empty() { "upload".to_string() } else { name };
    let size = i32::try_from(bytes.len()).map_err(|_| AppError::BadRequest)?;
    let id = sqlx::query_scalar!(
        "insert into imports (file_name, file_size, file, created_by)
         select $1, $2, $3, u.id from users u where u.id = $4 and $5 = any(u.roles)
         returning id",
        name,
        size,
        bytes,
        user.id,
        ADMIN,
    )
    .fetch_optional(pool)
    .await?;
    id.ok_or(AppError::Forbidden)
}

pub async fn directory(pool: &PgPool) -> Result<Directory, AppError> {
    let stages = sqlx::query_as!(
        StageInfo,
        "select id, position, name_ko, name_en, default_probability, is_won, is_lost from stages order by position"
    )
    .fetch_all(pool)
    .await?;
    let people = sqlx::query_as!(
        Person,
        "select id, display_name, username, email from users
         where roles && array['sales-rep','sales-manager','salesops-admin']"
    )
    .fetch_all(pool)
    .await?;
    Ok(Directory { stages, people })
}

struct SummaryRow {
    id: Uuid,
    file_name: String,
    file_size: i32,
    status: String,
    mode: Option<String>,
    counts: Value,
    skipped: i32,
    rows_read: i32,
    rows_checked: i32,
    rows_written: i32,
    error: Option<String>,
    created_by: String,
    created_at: chrono::DateTime<chrono::Utc>,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
    undone_by: Option<String>,
}

impl SummaryRow {
    fn summary(self) -> ImportSummary {
        ImportSummary {
            id: self.id,
            file_name: self.file_name,
            file_size: self.file_size,
            status: ImportStatus::from_code(&self.status).unwrap_or(ImportStatus::Failed),
            mode: self.mode.as_deref().and_then(ImportMode::from_code),
            counts: serde_json::from_value(self.counts).unwrap_or_default(),
            skipped: self.skipped,
            rows_read: self.rows_read,
            rows_checked: self.rows_checked,
            rows_written: self.rows_written,
            error: self.error.as_deref().map(|e| key_from_name(e).unwrap_or(T::ImportFailedInternal)),
            created_by: self.created_by,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            undone_by: self.undone_by,
        }
    }
}

/// Every import, newest first (an admin's page: a few hundred rows at most a year).
pub async fn list(pool: &PgPool) -> Result<Vec<ImportSummary>, AppError> {
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"select i.id, i.file_name, i.file_size, i.status, i.mode, i.counts, i.skipped, i.rows_read,
                  i.rows_checked, i.rows_written, i.error, c.display_name as created_by, i.created_at,
                  i.started_at, i.finished_at, u.display_name as "undone_by?"
           from imports i join users c on c.id = i.created_by left join users u on u.id = i.undone_by
           order by i.created_at desc, i.id limit 500"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(SummaryRow::summary).collect())
}

pub async fn summary(pool: &PgPool, id: Uuid) -> Result<ImportSummary, AppError> {
    let row = sqlx::query_as!(
        SummaryRow,
        r#"select i.id, i.file_name, i.file_size, i.status, i.mode, i.counts, i.skipped, i.rows_read,
                  i.rows_checked, i.rows_written, i.error, c.display_name as created_by, i.created_at,
                  i.started_at, i.finished_at, u.display_name as "undone_by?"
           from imports i join users c on c.id = i.created_by left join users u on u.id = i.undone_by
           where i.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?;
    row.map(SummaryRow::summary).ok_or(AppError::NotFound)
}

/// The stored problems of a finished import (rows left out and why).
pub async fn stored_problems(pool: &PgPool, id: Uuid) -> Result<StoredProblems, AppError> {
    let row = sqlx::query!("select problems, choices from imports where id = $1", id)
        .fetch_optional(pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let choices: ImportChoices = row.choices.and_then(|c| serde_json::from_value(c).ok()).unwrap_or_default();
    Ok(StoredProblems {
        problems: serde_json::from_value(row.problems).unwrap_or_default(),
        sheet_names: choices.sheet_names,
    })
}

async fn file(pool: &PgPool, id: Uuid) -> Result<Vec<u8>, AppError> {
    sqlx::query_scalar!("select file from imports where id = $1", id)
        .fetch_optional(pool)
        .await?
        .ok_or(AppError::NotFound)
}

/// Sheets of an xls or ods workbook read for one preview (each read parses them all).
const MAX_WHOLE_READ_SHEETS: usize = 5;

/// One sheet as the preview shows it and the job writes it.
pub struct LoadedSheet {
    /// Its position in the workbook.
    pub index: u32,
    pub read: SheetRead,
    /// The settings as they stand (detected, taken over or the admin's).
    pub choice: SheetChoice,
    pub mapping: Vec<ColumnMapping>,
    pub imported: bool,
    /// The mapping came from this earlier file of the same shape.
    pub mapping_from: Option<String>,
}

/// A file's sheets read with the admin's settings.
pub struct Loaded {
    pub sheets: Vec<SheetInfo>,
    /// The sheets read, in workbook order; hidden sheets nobody chose are not read.
    pub read: Vec<LoadedSheet>,
    /// The shown sheet's place in `read`.
    pub shown: usize,
    /// Why a sheet could not be read, by its position.
    pub refused: Vec<(u32, Refusal)>,
}

impl Loaded {
    fn imported(&self) -> impl Iterator<Item = &LoadedSheet> {
        self.read.iter().filter(|s| s.imported)
    }

    /// Every sheet's settings, for the page's forms to carry on.
    pub fn settings(&self) -> Vec<SheetChoice> {
        self.read.iter().map(|s| SheetChoice { mapping: encode_choice(&s.mapping), ..s.choice.clone() }).collect()
    }
}

/// A full mapping as the (column, field) pairs a `SheetChoice` keeps.
fn encode_choice(mapping: &[ColumnMapping]) -> Vec<(u32, Option<ImportField>)> {
    mapping.iter().map(|m| (m.column, m.field)).collect()
}

/// Reads a sheet off the async workers: parsing is CPU work.
async fn read_sheet(bytes: Arc<Vec<u8>>, choice: ReadChoice) -> Result<Result<SheetRead, Refusal>, AppError> {
    tokio::task::spawn_blocking(move || read_upload(&bytes, &choice, &Limits::default())).await.map_err(|e| {
        tracing::error!(error = %e, "import reader task failed");
        AppError::Internal
    })
}

/// Reads the shown sheet and every other sheet that is or may be imported,
/// and settles each one's settings: the admin's, else those of an earlier
/// import of a sheet of the same shape, else what was detected. A sheet is
/// imported by default when it is visible and has a header row.
pub async fn load(pool: &PgPool, bytes: Vec<u8>, choices: &ImportChoices) -> Result<Result<Loaded, Refusal>, AppError> {
    let bytes = Arc::new(bytes);
    let first = match read_sheet(bytes.clone(), choices.read_choice(choices.shown.as_deref(), None)).await? {
        Ok(read) => read,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let default_name =
        first.sheets.iter().find(|s| !s.hidden).map(|s| s.name.clone()).unwrap_or_else(|| first.sheet.clone());
    // A workbook may list any number of sheets: only the first ones are
    // offered, and all sheets read share one cell budget, so a preview costs
    // at most about twice what one sheet may.
    let mut sheets = first.sheets.clone();
    sheets.truncate(MAX_SHEETS);
    // Whole-file readers (xls, ods) parse every sheet on each read.
    let readable = if first.format.is_read_whole() { MAX_WHOLE_READ_SHEETS } else { MAX_SHEETS };
    let mut cells_left = Limits::default().max_cells;
    let mut reads = 1;
    let mut first = Some(first);
    let mut loaded = Loaded { sheets: sheets.clone(), read: Vec::new(), shown: 0, refused: Vec::new() };
    // The one visible sheet of a workbook is always imported: its problems say what is missing.
    let single = sheets.iter().filter(|s| !s.hidden).count() <= 1;
    for (index, info) in sheets.iter().enumerate() {
        let index = index as u32;
        let choice = choices.sheet(&info.name, &default_name);
        let is_shown = first.as_ref().is_some_and(|f| f.sheet == info.name);
        if info.hidden && choice.import != Some(true) && !is_shown {
            continue;
        }
        let mut read = match first.take_if(|f| f.sheet == info.name) {
            Some(read) => read,
            None if reads >= readable || cells_left == 0 => {
                loaded.refused.push((index, Refusal::TooManyCells));
                continue;
            }
            None => {
                reads += 1;
                match read_sheet(bytes.clone(), choices.read_choice(Some(&info.name), None)).await? {
                    Ok(read) => read,
                    Err(refusal) => {
                        loaded.refused.push((index, refusal));
                        continue;
                    }
                }
            }
        };
        let cells: usize = read.rows.iter().map(|r| r.cells.len()).sum();
        if cells > cells_left && !is_shown {
            loaded.refused.push((index, Refusal::TooManyCells));
            continue;
        }
        cells_left = cells_left.saturating_sub(cells);
        if choice.header_row.is_some() {
            super::read::set_header(&mut read, choice.header_row);
        }
        let (suggested, mapping_from) = match saved_mapping(pool, &read).await? {
            Some((file_name, saved)) => (saved.apply(&read.mapping), Some(file_name)),
            None => (read.mapping.clone(), None),
        };
        let mapping = choice.apply(&suggested);
        let imported = (single && !info.hidden) || choice.import.unwrap_or(!info.hidden && read.header.is_some());
        if is_shown {
            loaded.shown = loaded.read.len();
        }
        loaded.read.push(LoadedSheet {
            index,
            choice: SheetChoice { import: Some(imported), header_row: read.header.map(|h| h.number), ..choice },
            read,
            mapping,
            imported,
            mapping_from,
        });
    }
    // Without a choice, the page opens on the first sheet that is imported
    // (a workbook often starts with a cover or instructions sheet).
    if choices.shown.is_none() && loaded.read.get(loaded.shown).is_some_and(|s| !s.imported) {
        if let Some(first) = loaded.read.iter().position(|s| s.imported) {
            loaded.shown = first;
        }
    }
    Ok(Ok(loaded))
}

/// The header row's shape: the key under which a mapping is reused.
fn header_signature(read: &SheetRead) -> Option<String> {
    read.header?;
    let parts: Vec<String> =
        read.mapping.iter().map(|m| format!("{}:{}", m.column, super::read::normalise_header(&m.header))).collect();
    (!parts.is_empty()).then(|| parts.join("\u{1f}"))
}

/// The mapping of the latest finished import that had a sheet of the same
/// shape, and that file's name. Imports are few, so the search is a scan.
async fn saved_mapping(pool: &PgPool, read: &SheetRead) -> Result<Option<(String, SheetChoice)>, AppError> {
    let Some(signature) = header_signature(read) else { return Ok(None) };
    let wanted = serde_json::json!({ "sheets": [{ "signature": signature }] });
    let row = sqlx::query!(
        r#"select file_name, choices as "choices!" from imports
           where status in ('committed', 'undone') and choices @> $1
           order by created_at desc limit 1"#,
        wanted
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|r| {
        let choices: ImportChoices = serde_json::from_value(r.choices).ok()?;
        let sheet = choices.sheets.into_iter().find(|s| s.signature.as_deref() == Some(signature.as_str()))?;
        Some((r.file_name, sheet))
    }))
}

fn check_loaded(loaded: &Loaded, dir: &Directory) -> Checked {
    let inputs: Vec<SheetInput> =
        loaded.imported().map(|s| SheetInput { index: s.index, read: &s.read, mapping: &s.mapping }).collect();
    check_sheets(&inputs, dir)
}

/// The file read and checked with these choices.
pub async fn preview(pool: &PgPool, id: Uuid, choices: &ImportChoices, page: u32) -> Result<Preview, AppError> {
    let import = summary(pool, id).await?;
    let mut preview = Preview {
        import,
        refusal: None,
        format: None,
        sheets: Vec::new(),
        sheet: String::new(),
        shown: 0,
        settings: Vec::new(),
        csv: None,
        header: None,
        mapping: Vec::new(),
        mode: choices.mode,
        data_rows: 0,
        invalid_rows: 0,
        problem_count: 0,
        file_problems: Vec::new(),
        problems: Vec::new(),
        problem_page: page,
        sample: Vec::new(),
        can_commit: false,
        mapping_from: None,
    };
    let loaded = match load(pool, file(pool, id).await?, choices).await? {
        Ok(loaded) => loaded,
        Err(refusal) => {
            preview.refusal = Some(refusal);
            return Ok(preview);
        }
    };
    let checked = check_loaded(&loaded, &directory(pool).await?);
    if let Some(shown) = loaded.read.get(loaded.shown) {
        let read = &shown.read;
        let header_number = read.header.map(|h| h.number).unwrap_or(0);
        preview.sample =
            read.rows.iter().filter(|r| r.number > header_number && !r.is_blank()).take(5).cloned().collect();
        preview.format = Some(read.format);
        preview.sheet = read.sheet.clone();
        preview.shown = shown.index;
        preview.csv = read.csv.clone();
        preview.header = read.header;
        preview.mapping = shown.mapping.clone();
        preview.mapping_from = shown.mapping_from.clone();
    }
    // Per sheet: problems, and rows with one (counted in one pass).
    let mut per_sheet: std::collections::HashMap<u32, (u32, std::collections::HashSet<u32>)> =
        std::collections::HashMap::new();
    for p in &checked.problems {
        let entry = per_sheet.entry(p.sheet).or_default();
        entry.0 += 1;
        entry.1.insert(p.row);
    }
    preview.sheets = loaded
        .sheets
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let i = i as u32;
            let sheet = loaded.read.iter().find(|s| s.index == i);
            let (problems, invalid) = per_sheet.get(&i).map_or((0, 0), |(n, rows)| (*n, rows.len() as u32));
            let data_rows = sheet.map_or(0, |s| {
                let header = s.read.header.map_or(u32::MAX, |h| h.number);
                s.read.rows.iter().filter(|r| r.number > header && !r.is_blank()).count() as u32
            });
            SheetSummary {
                name: info.name.clone(),
                hidden: info.hidden,
                imported: sheet.is_some_and(|s| s.imported),
                header: sheet.and_then(|s| s.read.header),
                data_rows,
                invalid_rows: invalid,
                problems,
                refusal: loaded.refused.iter().find(|(s, _)| *s == i).map(|(_, r)| *r),
            }
        })
        .collect();
    preview.settings = loaded.settings();
    preview.data_rows = checked.data_rows;
    preview.invalid_rows = checked.invalid_rows;
    preview.problem_count = checked.problems.len() as u32;
    preview.can_commit = checked.file_problems.is_empty()
        && checked.rows.len() as u32 + checked.invalid_rows > 0
        && (checked.problems.is_empty() || choices.mode == ImportMode::SkipInvalid)
        && preview.import.status == ImportStatus::Uploaded;
    preview.file_problems = checked.file_problems;
    preview.problems =
        checked.problems.into_iter().skip(page as usize * PROBLEMS_PER_PAGE).take(PROBLEMS_PER_PAGE).collect();
    Ok(preview)
}

/// The admin commits: the import is queued with the choices it was previewed with.
pub async fn queue(pool: &PgPool, user: &CurrentUser, id: Uuid, choices: &ImportChoices) -> Result<(), AppError> {
    let json = serde_json::to_value(choices).map_err(|_| AppError::Internal)?;
    let queued = sqlx::query!(
        "update imports i set status = 'queued', choices = $2, mode = $3
         where i.id = $1 and i.status = 'uploaded'
           and exists (select 1 from users u where u.id = $4 and $5 = any(u.roles))",
        id,
        json,
        choices.mode.code(),
        user.id,
        ADMIN,
    )
    .execute(pool)
    .await?;
    if queued.rows_affected() == 1 {
        Ok(())
    } else {
        Err(AppError::field("", T::ImportAlreadyCommitted))
    }
}

/// Jobs whose instance stopped beating are marked failed (their transaction
/// died with the instance's connection, so nothing of them was written).
pub async fn fail_abandoned(pool: &PgPool) -> Result<u64, AppError> {
    let done = sqlx::query!(
        "update imports set status = 'failed', error = $1, finished_at = now()
         where status = 'running' and heartbeat_at < now() - make_interval(secs => $2)",
        key_name(T::ImportInterrupted),
        STALE_AFTER_SECS,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Rows read, checked and written so far, for the heartbeat to report.
#[derive(Debug, Default)]
pub struct Progress {
    pub read: AtomicI32,
    pub checked: AtomicI32,
    pub written: AtomicI32,
}

/// Claims the oldest queued import and runs it to the end. `None` when
/// there was nothing to run.
pub async fn run_next(pool: &PgPool, instance: &str) -> Result<Option<Uuid>, AppError> {
    fail_abandoned(pool).await?;
    let claimed = sqlx::query!(
        r#"update imports set status = 'running', claimed_by = $1, heartbeat_at = now(), started_at = now()
           where id = (select id from imports where status = 'queued' order by created_at
                       for update skip locked limit 1)
           returning id, choices as "choices!", created_by"#,
        instance,
    )
    .fetch_optional(pool)
    .await?;
    let Some(job) = claimed else { return Ok(None) };
    let choices: ImportChoices = serde_json::from_value(job.choices).unwrap_or_default();
    let progress = Arc::new(Progress::default());
    let heartbeat = {
        let (pool, progress, id) = (pool.clone(), progress.clone(), job.id);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(HEARTBEAT_EVERY);
            loop {
                every.tick().await;
                let beat = sqlx::query!(
                    "update imports set heartbeat_at = now(), rows_read = $2, rows_checked = $3, rows_written = $4
                     where id = $1 and status = 'running'",
                    id,
                    progress.read.load(Ordering::Relaxed),
                    progress.checked.load(Ordering::Relaxed),
                    progress.written.load(Ordering::Relaxed),
                )
                .execute(&pool)
                .await;
                if let Err(e) = beat {
                    tracing::warn!(error = %e, import = %id, "import heartbeat failed");
                }
            }
        })
    };
    // The job runs as a task of its own: should it panic, the heartbeat
    // still stops and the job is marked failed, and this worker goes on.
    let outcome = {
        let (pool, progress, id, actor) = (pool.clone(), progress.clone(), job.id, job.created_by);
        tokio::spawn(async move { run(&pool, id, actor, &choices, &progress).await }).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, import = %job.id, "import job panicked");
            Err(Failure::Message(T::ImportFailedInternal))
        })
    };
    heartbeat.abort();
    if let Err(failure) = outcome {
        let key = match failure {
            Failure::Message(t) => t,
            Failure::Error(e) => {
                tracing::error!(error = %e, import = %job.id, "import failed");
                T::ImportFailedInternal
            }
        };
        sqlx::query!(
            "update imports set status = 'failed', error = $2, finished_at = now() where id = $1 and status = 'running'",
            job.id,
            key_name(key),
        )
        .execute(pool)
        .await?;
    }
    Ok(Some(job.id))
}

enum Failure {
    /// Shown to the admin as is.
    Message(T),
    Error(AppError),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::Error(e)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Error(AppError::from(e))
    }
}

async fn run(
    pool: &PgPool,
    id: Uuid,
    actor: Uuid,
    choices: &ImportChoices,
    progress: &Progress,
) -> Result<(), Failure> {
    let loaded = load(pool, file(pool, id).await?, choices).await?.map_err(|r| Failure::Message(r.message()))?;
    // A sheet the admin chose to import that cannot be read fails the import.
    let wanted = |name: &str| choices.sheets.iter().any(|c| c.sheet == name && c.import == Some(true));
    if let Some((_, refusal)) =
        loaded.refused.iter().find(|(i, _)| loaded.sheets.get(*i as usize).is_some_and(|s| wanted(&s.name)))
    {
        return Err(Failure::Message(refusal.message()));
    }
    let rows_read: usize = loaded.imported().map(|s| s.read.rows.len()).sum();
    progress.read.store(rows_read as i32, Ordering::Relaxed);
    let mut checked = check_loaded(&loaded, &directory(pool).await?);
    progress.checked.store(checked.data_rows as i32, Ordering::Relaxed);
    if let Some(p) = checked.file_problems.first() {
        return Err(Failure::Message(p.problem));
    }
    let columns: Vec<LateColumns> = loaded
        .imported()
        .map(|s| {
            let column_of = |field: ImportField| s.mapping.iter().find(|m| m.field == Some(field)).map(|m| m.column);
            LateColumns {
                sheet: s.index,
                account: column_of(ImportField::BusinessNumber).or(column_of(ImportField::AccountName)).unwrap_or(0),
                deal_id: column_of(ImportField::DealId).unwrap_or(0),
                contract: column_of(ImportField::ContractNumber).unwrap_or(0),
            }
        })
        .collect();

    let mut tx = pool.begin().await?;
    // The pool's statement timeout guards requests; one statement of a large
    // import's merge can take longer, and it runs apart from any request.
    sqlx::query("set local statement_timeout = '15min'").execute(&mut *tx).await?;
    let late = merge(&mut tx, id, actor, &checked.rows, &columns, choices.mode).await?;
    if !late.is_empty() {
        checked.invalid_rows +=
            late.iter().map(|p| (p.sheet, p.row)).collect::<std::collections::HashSet<_>>().len() as u32;
        checked.problems.extend(late);
        checked.problems.sort_by_key(|p| (p.sheet, p.row, p.column));
    }
    // The settings as run, with each imported sheet's shape (a later file of
    // the same shape starts from these mappings) and the sheet names the
    // stored problems point at.
    let mut settled = choices.clone();
    settled.sheet_names = loaded.sheets.iter().map(|s| s.name.clone()).collect();
    settled.sheets = loaded
        .read
        .iter()
        .map(|s| SheetChoice {
            mapping: encode_choice(&s.mapping),
            signature: if s.imported { header_signature(&s.read) } else { None },
            ..s.choice.clone()
        })
        .collect();
    let settled = serde_json::to_value(&settled).map_err(|_| AppError::Internal)?;
    let problems = serde_json::to_value(&checked.problems).map_err(|_| AppError::Internal)?;
    if choices.mode == ImportMode::AllOrNothing && !checked.problems.is_empty() {
        // Nothing is written: the transaction is dropped, the problems kept.
        drop(tx);
        sqlx::query!(
            "update imports set status = 'failed', error = $2, problems = $3, skipped = $4, finished_at = now(),
                    choices = $5
             where id = $1 and status = 'running'",
            id,
            key_name(T::ImportHasProblems),
            problems,
            checked.invalid_rows as i32,
            settled,
        )
        .execute(pool)
        .await?;
        return Ok(());
    }
    let counts = counts(&mut tx).await?;
    let written: i64 = sqlx::query_scalar("select count(*) from import_rows").fetch_one(&mut *tx).await?;
    progress.written.store(written as i32, Ordering::Relaxed);
    let finished = sqlx::query!(
        "update imports set status = 'committed', counts = $2, problems = $3, skipped = $4, rows_written = $5,
                rows_read = $6, rows_checked = $7, finished_at = clock_timestamp(), heartbeat_at = now(),
                choices = $8
         where id = $1 and status = 'running'",
        id,
        serde_json::to_value(counts).map_err(|_| AppError::Internal)?,
        problems,
        checked.invalid_rows as i32,
        written as i32,
        rows_read as i32,
        checked.data_rows as i32,
        settled,
    )
    .execute(&mut *tx)
    .await?;
    if finished.rows_affected() != 1 {
        // Another instance gave up on this job meanwhile: write nothing.
        return Err(Failure::Message(T::ImportInterrupted));
    }
    tx.commit().await?;
    Ok(())
}

/// Where the problems only the database finds point, per sheet.
struct LateColumns {
    sheet: u32,
    account: u32,
    deal_id: u32,
    contract: u32,
}

/// One value in `COPY`'s text format.
fn copy_field(out: &mut String, value: Option<&str>) {
    match value {
        None => out.push_str("\\N"),
        Some(v) => {
            for c in v.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

fn copy_rows(rows: &[RowValues]) -> String {
    let mut out = String::with_capacity(rows.len() * 128);
    for r in rows {
        let fields: [Option<String>; 34] = [
            Some(r.order().to_string()),
            r.account_key(),
            r.account_name.clone(),
            r.business_number.clone(),
            r.industry.clone(),
            r.company_size.clone(),
            r.address.clone(),
            r.main_phone.clone(),
            r.website.clone(),
            r.notes.clone(),
            r.owner_id.map(|u| u.to_string()),
            r.contact_name.clone(),
            r.contact_title.clone(),
            r.department.clone(),
            r.email.clone(),
            r.phone.clone(),
            r.deal_id.map(|u| u.to_string()),
            r.deal_name.clone(),
            r.stage_id.clone(),
            r.amount.map(|a| a.to_string()),
            r.currency.clone(),
            r.probability.map(|p| p.to_string()),
            r.close_date.map(|d| d.to_string()),
            r.source.clone(),
            r.lost_reason.clone(),
            r.contract_title.clone(),
            r.contract_number.clone(),
            r.contract_start.map(|d| d.to_string()),
            r.contract_end.map(|d| d.to_string()),
            r.contract_amount.map(|a| a.to_string()),
            r.billing_period.clone(),
            r.auto_renew.map(|b| b.to_string()),
            r.notice_days.map(|d| d.to_string()),
            r.contract_state.clone(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push('\t');
            }
            copy_field(&mut out, f.as_deref());
        }
        out.push('\n');
    }
    out
}

const MERGE_SETUP: &str = "
create temp table import_rows (
    row_number bigint not null, account_key text not null, account_name text, business_number text,
    industry text, company_size text, address text, main_phone text, website text, notes text, owner_id uuid,
    contact_name text, contact_title text, department text, email text, phone text,
    deal_id uuid, deal_name text, stage_id text, amount numeric, currency text, probability int, close_date date,
    source text, lost_reason text,
    contract_title text, contract_number text, contract_start date, contract_end date, contract_amount numeric,
    billing_period text, auto_renew boolean, notice_days int, contract_state text,
    account_id uuid
) on commit drop";

const COPY_ROWS: &str = "copy import_rows (row_number, account_key, account_name, business_number, industry,
    company_size, address, main_phone, website, notes, owner_id, contact_name, contact_title, department,
    email, phone, deal_id, deal_name, stage_id, amount, currency, probability, close_date, source, lost_reason,
    contract_title, contract_number, contract_start, contract_end, contract_amount, billing_period, auto_renew,
    notice_days, contract_state)
    from stdin";

/// One statement per step, in order; `$1` is the import, `$2` the actor.
const ACCOUNT_STEPS: &[&str] = &[
    "create temp table import_accounts on commit drop as
     select distinct on (account_key) account_key, row_number, account_name as name, business_number, industry,
            company_size, address, main_phone, website, notes, owner_id,
            null::uuid as id, false as deleted, null::text as action
     from import_rows
     -- The owner comes from a row about the account alone where there is one
     -- (on a deal row the owner is the deal's); the other details are the
     -- same on every row of the account (`check::fill_account_fields`).
     order by account_key,
              (contact_name is not null or deal_name is not null or deal_id is not null), row_number",
    // Business number first (deleted accounts too: the number stays theirs) ...
    "update import_accounts s set id = a.id, deleted = a.deleted_at is not null
     from accounts a where s.business_number is not null and a.business_number = s.business_number",
    // ... then the exact name, where no business number contradicts it.
    "update import_accounts s set id = m.id
     from (select distinct on (name) id, name, business_number from accounts
           where deleted_at is null order by name, created_at, id) m
     where s.id is null and m.name = s.name and (s.business_number is null or m.business_number is null)",
];

const ACCOUNT_WRITE: &[&str] = &[
    "with new as (
         insert into accounts (name, business_number, industry, company_size, address, main_phone, website,
                               notes, owner_id, created_by, updated_by)
         select name, business_number, industry, company_size, address, main_phone, website, notes,
                coalesce(owner_id, $2), $2, $2
         from import_accounts where id is null order by row_number
         returning id, name, business_number, version, to_jsonb(accounts.*) as after
     ), tagged as (
         update import_accounts s set id = new.id, action = 'created' from new
         where s.id is null and s.account_key = coalesce('b:' || new.business_number, 'n:' || new.name)
     ), changes as (
         insert into import_changes (import_id, entity, entity_id, action, version_after)
         select $1, 'account', id, 'created', version from new
     )
     insert into audit_log (entity, entity_id, action, actor_id, after)
     select 'account', id, 'import', $2, after from new",
    "with target as (
         select distinct on (a.id) a.id, s.account_key, to_jsonb(a.*) as before
         from import_accounts s join accounts a on a.id = s.id
         where s.action is null and not s.deleted
           and (a.name, a.business_number, a.industry, a.company_size, a.address, a.main_phone, a.website,
                a.notes, a.owner_id)
               is distinct from
               (coalesce(s.name, a.name), coalesce(s.business_number, a.business_number),
                coalesce(s.industry, a.industry), coalesce(s.company_size, a.company_size),
                coalesce(s.address, a.address), coalesce(s.main_phone, a.main_phone),
                coalesce(s.website, a.website), coalesce(s.notes, a.notes), coalesce(s.owner_id, a.owner_id))
         order by a.id, s.row_number
     ), upd as (
         update accounts a set
             name = coalesce(s.name, a.name), business_number = coalesce(s.business_number, a.business_number),
             industry = coalesce(s.industry, a.industry), company_size = coalesce(s.company_size, a.company_size),
             address = coalesce(s.address, a.address), main_phone = coalesce(s.main_phone, a.main_phone),
             website = coalesce(s.website, a.website), notes = coalesce(s.notes, a.notes),
             owner_id = coalesce(s.owner_id, a.owner_id),
             version = a.version + 1, updated_by = $2, updated_at = now()
         from target t join import_accounts s on s.account_key = t.account_key
         where a.id = t.id
         returning a.id, a.version, t.before, to_jsonb(a.*) as after
     ), tagged as (
         update import_accounts s set action = 'updated' from upd where s.id = upd.id and s.action is null
     ), changes as (
         insert into import_changes (import_id, entity, entity_id, action, before, version_after)
         select $1, 'account', id, 'updated', before, version from upd
         on conflict do nothing
     )
     insert into audit_log (entity, entity_id, action, actor_id, before, after)
     select 'account', id, 'import', $2, before, after from upd",
    "update import_accounts set action = 'unchanged' where action is null",
    "update import_rows r set account_id = s.id from import_accounts s where s.account_key = r.account_key",
];

const CONTACT_STEPS: &[&str] = &[
    "create temp table import_contacts on commit drop as
     select distinct on (account_id, contact_key) * from (
         select account_id, coalesce(email, 'n:' || lower(contact_name)) as contact_key, row_number,
                contact_name as name, contact_title as title, department, email, phone,
                null::uuid as id, null::text as action
         from import_rows where contact_name is not null) c
     order by account_id, contact_key, row_number",
    "update import_contacts s set id = c.id
     from (select distinct on (account_id, lower(email)) id, account_id, lower(email) as email from contacts
           where deleted_at is null and email is not null order by account_id, lower(email), created_at, id) c
     where s.email is not null and c.account_id = s.account_id and c.email = lower(s.email)",
    "update import_contacts s set id = c.id
     from (select distinct on (account_id, lower(name)) id, account_id, lower(name) as name from contacts
           where deleted_at is null order by account_id, lower(name), created_at, id) c
     where s.id is null and c.account_id = s.account_id and c.name = lower(s.name)",
    "with new as (
         insert into contacts (account_id, name, title, department, email, phone, created_by, updated_by)
         select account_id, name, title, department, email, phone, $2, $2
         from import_contacts where id is null order by row_number
         returning id, account_id, name, email, version, to_jsonb(contacts.*) as after
     ), tagged as (
         update import_contacts s set id = new.id, action = 'created' from new
         where s.id is null and s.account_id = new.account_id
           and s.contact_key = coalesce(new.email, 'n:' || lower(new.name))
     ), changes as (
         insert into import_changes (import_id, entity, entity_id, action, version_after)
         select $1, 'contact', id, 'created', version from new
     )
     insert into audit_log (entity, entity_id, action, actor_id, after)
     select 'contact', id, 'import', $2, after from new",
    "with target as (
         select distinct on (c.id) c.id, s.account_id, s.contact_key, to_jsonb(c.*) as before
         from import_contacts s join contacts c on c.id = s.id
         where s.action is null
           and (c.name, c.title, c.department, c.email, c.phone) is distinct from
               (coalesce(s.name, c.name), coalesce(s.title, c.title), coalesce(s.department, c.department),
                coalesce(s.email, c.email), coalesce(s.phone, c.phone))
         order by c.id, s.row_number
     ), upd as (
         update contacts c set
             name = coalesce(s.name, c.name), title = coalesce(s.title, c.title),
             department = coalesce(s.department, c.department), email = coalesce(s.email, c.email),
             phone = coalesce(s.phone, c.phone),
             version = c.version + 1, updated_by = $2, updated_at = now()
         from target t join import_contacts s on s.account_id = t.account_id and s.contact_key = t.contact_key
         where c.id = t.id
         returning c.id, c.version, t.before, to_jsonb(c.*) as after
     ), tagged as (
         update import_contacts s set action = 'updated' from upd where s.id = upd.id and s.action is null
     ), changes as (
         insert into import_changes (import_id, entity, entity_id, action, before, version_after)
         select $1, 'contact', id, 'updated', before, version from upd
         on conflict do nothing
     )
     insert into audit_log (entity, entity_id, action, actor_id, before, after)
     select 'contact', id, 'import', $2, before, after from upd",
    "update import_contacts set action = 'unchanged' where action is null",
];

const DEAL_STEPS: &[&str] = &[
    // A deal is named by its id when the file has one, else by account and name.
    "create temp table import_deals on commit drop as
     select distinct on (coalesce(r.deal_id::text, r.account_id || '/' || lower(r.deal_name)))
            r.account_id, r.row_number, r.deal_id, r.deal_name as name,
            r.stage_id, r.amount, r.currency, r.probability, r.close_date, r.source, r.lost_reason,
            coalesce(r.owner_id, a.owner_id) as owner_id, r.owner_id as owner_given,
            r.deal_id as id, null::text as action
     from import_rows r join accounts a on a.id = r.account_id
     where r.deal_name is not null or r.deal_id is not null
     order by coalesce(r.deal_id::text, r.account_id || '/' || lower(r.deal_name)), r.row_number",
    // Temporary tables are never analysed by autovacuum: the planner needs
    // their size to join them well.
    "analyze import_deals",
    "update import_deals s set id = d.id
     from (select distinct on (account_id, lower(name)) id, account_id, lower(name) as name from deals
           where deleted_at is null order by account_id, lower(name), created_at, id) d
     where s.id is null and d.account_id = s.account_id and d.name = lower(s.name)",
    // A row matched by name to the deal another row names by id is that row's duplicate.
    "delete from import_deals s using import_deals o
     where s.deal_id is null and o.deal_id is not null and s.id = o.id",
    // New deals without a stage start at the first one, as on the form.
    "with first_stage as (select id, default_probability from stages order by position limit 1),
     new as (
         insert into deals (name, account_id, stage_id, amount, currency, probability, expected_close_date,
                            owner_id, source, lost_reason, created_by, updated_by)
         select s.name, s.account_id, coalesce(s.stage_id, f.id), s.amount, coalesce(s.currency, 'KRW'),
                coalesce(s.probability, st.default_probability, f.default_probability), s.close_date,
                s.owner_id, s.source, s.lost_reason, $2, $2
         from import_deals s cross join first_stage f left join stages st on st.id = s.stage_id
         where s.id is null order by s.row_number
         returning id, account_id, name, stage_id, version, to_jsonb(deals.*) as after
     ), tagged as (
         update import_deals s set id = new.id, action = 'created' from new
         where s.id is null and s.account_id = new.account_id and lower(s.name) = lower(new.name)
     ), history as (
         insert into deal_stage_history (deal_id, from_stage, to_stage, changed_by)
         select id, null, stage_id, $2 from new
     ), changes as (
         insert into import_changes (import_id, entity, entity_id, action, version_after)
         select $1, 'deal', id, 'created', version from new
     )
     insert into audit_log (entity, entity_id, action, actor_id, after)
     select 'deal', id, 'import', $2, after from new",
    "with target as (
         select distinct on (d.id) d.id, d.stage_id as old_stage, to_jsonb(d.*) as before
         from import_deals s join deals d on d.id = s.id
         where s.action is null
           and (d.name, d.stage_id, d.amount, d.currency, d.probability, d.expected_close_date, d.owner_id,
                d.source, d.lost_reason)
               is distinct from
               (coalesce(s.name, d.name), coalesce(s.stage_id, d.stage_id), coalesce(s.amount, d.amount),
                coalesce(s.currency, d.currency), coalesce(s.probability, d.probability),
                coalesce(s.close_date, d.expected_close_date), coalesce(s.owner_given, d.owner_id),
                coalesce(s.source, d.source), coalesce(s.lost_reason, d.lost_reason))
         order by d.id, s.row_number
     ), upd as (
         update deals d set
             name = coalesce(s.name, d.name), stage_id = coalesce(s.stage_id, d.stage_id),
             amount = coalesce(s.amount, d.amount), currency = coalesce(s.currency, d.currency),
             probability = coalesce(s.probability, d.probability),
             expected_close_date = coalesce(s.close_date, d.expected_close_date),
             owner_id = coalesce(s.owner_given, d.owner_id), source = coalesce(s.source, d.source),
             lost_reason = coalesce(s.lost_reason, d.lost_reason),
             stage_changed_at = case when coalesce(s.stage_id, d.stage_id) <> d.stage_id then now()
                                     else d.stage_changed_at end,
             version = d.version + 1, updated_by = $2, updated_at = now()
         from target t join import_deals s on s.id = t.id
         where d.id = t.id
         returning d.id, d.version, d.stage_id, t.old_stage, t.before, to_jsonb(d.*) as after
     ), tagged as (
         update import_deals s set action = 'updated' from upd where s.id = upd.id and s.action is null
     ), history as (
         insert into deal_stage_history (deal_id, from_stage, to_stage, changed_by)
         select id, old_stage, stage_id, $2 from upd where stage_id <> old_stage
     ), changes as (
         insert into import_changes (import_id, entity, entity_id, action, before, version_after)
         select $1, 'deal', id, 'updated', before, version from upd
         on conflict do nothing
     )
     insert into audit_log (entity, entity_id, action, actor_id, before, after)
     select 'deal', id, 'import', $2, before, after from upd",
    "update import_deals set action = 'unchanged' where action is null",
];

/// Contracts: by contract number when the file gives one, else by account
/// and title. New ones are signed unless the file says draft, billed monthly
/// unless it says otherwise; a terminated contract keeps its state.
const CONTRACT_STEPS: &[&str] = &[
    "create temp table import_contracts on commit drop as
     select distinct on (coalesce('n:' || lower(r.contract_number), r.account_id || '/' || lower(r.contract_title)))
            r.account_id, r.row_number, r.contract_title as title, r.contract_number as number,
            r.contract_start as start_date, r.contract_end as end_date, r.contract_amount as amount, r.currency,
            r.billing_period, r.auto_renew, r.notice_days, r.contract_state as state,
            coalesce(r.owner_id, a.owner_id) as owner_id, r.owner_id as owner_given,
            null::uuid as id, null::text as action
     from import_rows r join accounts a on a.id = r.account_id
     where r.contract_title is not null
     order by coalesce('n:' || lower(r.contract_number), r.account_id || '/' || lower(r.contract_title)),
              r.row_number",
    "update import_contracts s set id = c.id from contracts c
     where s.number is not null and lower(c.contract_number) = lower(s.number) and c.deleted_at is null",
    "update import_contracts s set id = m.id
     from (select distinct on (account_id, lower(title)) id, account_id, lower(title) as title, contract_number
           from contracts where deleted_at is null order by account_id, lower(title), created_at, id) m
     where s.id is null and m.account_id = s.account_id and m.title = lower(s.title)
       and (s.number is null or m.contract_number is null)",
    // A row matched by title to the contract another row names by number is that row's duplicate.
    "delete from import_contracts s using import_contracts o
     where s.number is null and o.number is not null and s.id = o.id",
    "with new as (
         insert into contracts (account_id, title, contract_number, state, start_date, end_date, amount, currency,
                                billing_period, auto_renew, notice_days, owner_id, created_by, updated_by)
         select account_id, title, number, coalesce(state, 'signed'), start_date, end_date, amount,
                coalesce(currency, 'KRW'), coalesce(billing_period, 'monthly'), coalesce(auto_renew, false),
                coalesce(notice_days, 0), owner_id, $2, $2
         from import_contracts where id is null order by row_number
         returning id, account_id, title, contract_number, version, to_jsonb(contracts.*) as after
     ), tagged as (
         update import_contracts s set id = new.id, action = 'created' from new
         where s.id is null and s.account_id = new.account_id and lower(s.title) = lower(new.title)
           and s.number is not distinct from new.contract_number
     ), changes as (
         insert into import_changes (import_id, entity, entity_id, action, version_after)
         select $1, 'contract', id, 'created', version from new
     )
     insert into audit_log (entity, entity_id, action, actor_id, after)
     select 'contract', id, 'import', $2, after from new",
    "with target as (
         select distinct on (c.id) c.id, to_jsonb(c.*) as before
         from import_contracts s join contracts c on c.id = s.id
         where s.action is null
           and (c.title, c.contract_number, c.state, c.start_date, c.end_date, c.amount, c.currency,
                c.billing_period, c.auto_renew, c.notice_days, c.owner_id)
               is distinct from
               (coalesce(s.title, c.title), coalesce(s.number, c.contract_number),
                case when c.state = 'terminated' then c.state else coalesce(s.state, c.state) end,
                coalesce(s.start_date, c.start_date), coalesce(s.end_date, c.end_date),
                coalesce(s.amount, c.amount), coalesce(s.currency, c.currency),
                coalesce(s.billing_period, c.billing_period), coalesce(s.auto_renew, c.auto_renew),
                coalesce(s.notice_days, c.notice_days), coalesce(s.owner_given, c.owner_id))
         order by c.id, s.row_number
     ), upd as (
         update contracts c set
             title = coalesce(s.title, c.title), contract_number = coalesce(s.number, c.contract_number),
             state = case when c.state = 'terminated' then c.state else coalesce(s.state, c.state) end,
             start_date = coalesce(s.start_date, c.start_date), end_date = coalesce(s.end_date, c.end_date),
             amount = coalesce(s.amount, c.amount), currency = coalesce(s.currency, c.currency),
             billing_period = coalesce(s.billing_period, c.billing_period),
             auto_renew = coalesce(s.auto_renew, c.auto_renew), notice_days = coalesce(s.notice_days, c.notice_days),
             owner_id = coalesce(s.owner_given, c.owner_id),
             version = c.version + 1, updated_by = $2, updated_at = now()
         from target t join import_contracts s on s.id = t.id
         where c.id = t.id
         returning c.id, c.version, t.before, to_jsonb(c.*) as after
     ), tagged as (
         update import_contracts s set action = 'updated' from upd where s.id = upd.id and s.action is null
     ), changes as (
         insert into import_changes (import_id, entity, entity_id, action, before, version_after)
         select $1, 'contract', id, 'updated', before, version from upd
         on conflict do nothing
     )
     insert into audit_log (entity, entity_id, action, actor_id, before, after)
     select 'contract', id, 'import', $2, before, after from upd",
    "update import_contracts set action = 'unchanged' where action is null",
];

async fn steps(tx: &mut PgConnection, steps: &[&str], id: Uuid, actor: Uuid) -> Result<(), sqlx::Error> {
    for step in steps {
        // Only the steps that name them get the parameters.
        let query = sqlx::query(step);
        let query = if step.contains("$2") { query.bind(id).bind(actor) } else { query };
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Writes the checked rows. Returns the problems only the database could
/// find (an account in the trash, a business number no account has and no
/// name to create it with); their rows are left out.
async fn merge(
    tx: &mut PgConnection,
    id: Uuid,
    actor: Uuid,
    rows: &[RowValues],
    columns: &[LateColumns],
    mode: ImportMode,
) -> Result<Vec<CellProblem>, Failure> {
    sqlx::query(MERGE_SETUP).execute(&mut *tx).await?;
    let mut copy = tx.copy_in_raw(COPY_ROWS).await?;
    copy.send(copy_rows(rows).into_bytes()).await?;
    copy.finish().await?;
    let late_problem = |order: i64, pick: fn(&LateColumns) -> u32, problem: T| {
        let (sheet, row) = RowValues::place(order);
        let column = columns.iter().find(|c| c.sheet == sheet).map_or(0, pick);
        CellProblem { sheet, row, column, problem }
    };
    // A deal id must name a deal that is there (not one in the trash).
    let unknown: Vec<i64> = sqlx::query_scalar(
        "select row_number from import_rows r
         where deal_id is not null
           and not exists (select 1 from deals d where d.id = r.deal_id and d.deleted_at is null)
         order by row_number",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut late: Vec<CellProblem> =
        unknown.into_iter().map(|order| late_problem(order, |c| c.deal_id, T::ImportUnknownDeal)).collect();
    if !late.is_empty() && mode == ImportMode::SkipInvalid {
        sqlx::query(
            "delete from import_rows r where deal_id is not null
               and not exists (select 1 from deals d where d.id = r.deal_id and d.deleted_at is null)",
        )
        .execute(&mut *tx)
        .await?;
    }
    // A contract number belongs to its contract even in the trash.
    let trashed: Vec<i64> = sqlx::query_scalar(
        "select row_number from import_rows r
         where contract_number is not null
           and exists (select 1 from contracts c where lower(c.contract_number) = lower(r.contract_number)
                       and c.deleted_at is not null)
         order by row_number",
    )
    .fetch_all(&mut *tx)
    .await?;
    late.extend(trashed.into_iter().map(|order| late_problem(order, |c| c.contract, T::ImportContractDeleted)));
    if !late.is_empty() && mode == ImportMode::SkipInvalid {
        sqlx::query(
            "delete from import_rows r where contract_number is not null
               and exists (select 1 from contracts c where lower(c.contract_number) = lower(r.contract_number)
                           and c.deleted_at is not null)",
        )
        .execute(&mut *tx)
        .await?;
    }
    steps(tx, ACCOUNT_STEPS, id, actor).await?;
    let accounts: Vec<(i64, bool)> = sqlx::query_as(
        "select r.row_number, s.deleted from import_rows r join import_accounts s using (account_key)
         where s.deleted or (s.id is null and s.name is null) order by r.row_number",
    )
    .fetch_all(&mut *tx)
    .await?;
    late.extend(accounts.into_iter().map(|(order, deleted)| {
        late_problem(order, |c| c.account, if deleted { T::ImportAccountDeleted } else { T::ImportAccountNeedsName })
    }));
    if !late.is_empty() {
        if mode == ImportMode::AllOrNothing {
            return Ok(late);
        }
        sqlx::query(
            "delete from import_rows r using import_accounts s
             where s.account_key = r.account_key and (s.deleted or (s.id is null and s.name is null))",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query("delete from import_accounts where deleted or (id is null and name is null)")
            .execute(&mut *tx)
            .await?;
    }
    steps(tx, ACCOUNT_WRITE, id, actor).await?;
    steps(tx, CONTACT_STEPS, id, actor).await?;
    steps(tx, DEAL_STEPS, id, actor).await?;
    steps(tx, CONTRACT_STEPS, id, actor).await?;
    Ok(late)
}

async fn counts(tx: &mut PgConnection) -> Result<ImportCounts, sqlx::Error> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "select 'account', action, count(distinct id) from import_accounts group by action
         union all select 'contact', action, count(distinct id) from import_contacts group by action
         union all select 'deal', action, count(distinct id) from import_deals group by action
         union all select 'contract', action, count(distinct id) from import_contracts group by action",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut counts = ImportCounts::default();
    for (entity, action, n) in rows {
        let of = match entity.as_str() {
            "account" => &mut counts.account,
            "contact" => &mut counts.contact,
            "contract" => &mut counts.contract,
            _ => &mut counts.deal,
        };
        match action.as_str() {
            "created" => of.created = n,
            "updated" => of.updated = n,
            _ => of.unchanged = n,
        }
    }
    Ok(counts)
}

/// Records this import wrote that were changed since (or that other records
/// now depend on): undo leaves them alone and names them instead.
pub async fn edited_since(conn: &mut PgConnection, id: Uuid) -> Result<Vec<EditedSince>, AppError> {
    let rows = sqlx::query!(
        r#"select c.entity as "entity!", c.entity_id as "id!",
                  coalesce(a.name, ct.name, d.name, k.title, '') as "name!"
           from import_changes c
           left join accounts a on c.entity = 'account' and a.id = c.entity_id
           left join contacts ct on c.entity = 'contact' and ct.id = c.entity_id
           left join deals d on c.entity = 'deal' and d.id = c.entity_id
           left join contracts k on c.entity = 'contract' and k.id = c.entity_id
           where c.import_id = $1
             and (coalesce(a.version, ct.version, d.version, k.version) is distinct from c.version_after
                  or coalesce(a.deleted_at, ct.deleted_at, d.deleted_at, k.deleted_at) is not null
                  or (c.action = 'created' and (
                        exists (select 1 from activities x
                                where x.account_id = c.entity_id or x.deal_id = c.entity_id
                                   or x.contract_id = c.entity_id)
                     -- contracts another hand filed under a created deal or account
                     or exists (select 1 from contracts x
                                where (x.deal_id = c.entity_id or x.account_id = c.entity_id)
                                  and not exists (select 1 from import_changes m where m.import_id = $1
                                                  and m.entity = 'contract' and m.entity_id = x.id
                                                  and m.action = 'created'))
                     or (c.entity = 'account' and (
                           exists (select 1 from contacts x where x.account_id = c.entity_id
                                   and not exists (select 1 from import_changes m where m.import_id = $1
                                                   and m.entity = 'contact' and m.entity_id = x.id
                                                   and m.action = 'created'))
                        or exists (select 1 from deals x where x.account_id = c.entity_id
                                   and not exists (select 1 from import_changes m where m.import_id = $1
                                                   and m.entity = 'deal' and m.entity_id = x.id
                                                   and m.action = 'created')))))))
           order by c.entity, 3
           limit 50"#,
        id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|r| EditedSince { entity: r.entity, id: r.id, name: r.name }).collect())
}

/// Undoes a committed import: updated records get their before-state back,
/// created ones are removed, in one transaction. Refused (nothing changes)
/// when a record was edited since; the refusal lists them.
pub async fn undo(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<Vec<EditedSince>, AppError> {
    let mut tx = pool.begin().await?;
    let status = sqlx::query_scalar!(
        "select i.status from imports i where i.id = $1
           and exists (select 1 from users u where u.id = $2 and $3 = any(u.roles))
         for update",
        id,
        user.id,
        ADMIN,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if status != ImportStatus::Committed.code() {
        return Err(AppError::field("", T::ImportNotUndoable));
    }
    let edited = edited_since(&mut tx, id).await?;
    if !edited.is_empty() {
        return Ok(edited);
    }
    for step in UNDO_STEPS {
        sqlx::query(step).bind(id).bind(user.id).execute(&mut *tx).await?;
    }
    sqlx::query!("update imports set status = 'undone', undone_by = $2, undone_at = now() where id = $1", id, user.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Vec::new())
}

/// Undo, in order: restore updated deals, contacts, accounts from their
/// before-state; then remove created deals, contacts, accounts (children
/// first). Each step writes its audit rows.
const UNDO_STEPS: &[&str] = &[
    "with cur as (
         select x.id, to_jsonb(x.*) as cur_row
         from contracts x join import_changes c on c.entity_id = x.id
         where c.import_id = $1 and c.entity = 'contract' and c.action = 'updated'
     ), upd as (
         update contracts t set
             (title, contract_number, state, start_date, end_date, amount, currency, billing_period, auto_renew,
              notice_days, owner_id) =
             (select b.title, b.contract_number, b.state, b.start_date, b.end_date, b.amount, b.currency,
                     b.billing_period, b.auto_renew, b.notice_days, b.owner_id
              from jsonb_populate_record(null::contracts, c.before) b),
             version = t.version + 1, updated_by = $2, updated_at = now()
         from import_changes c, cur
         where c.import_id = $1 and c.entity = 'contract' and c.action = 'updated' and t.id = c.entity_id
           and cur.id = t.id
         returning t.id, cur.cur_row, to_jsonb(t.*) as after
     )
     insert into audit_log (entity, entity_id, action, actor_id, before, after)
     select 'contract', id, 'undo-import', $2, cur_row, after from upd",
    "with gone as (
         delete from contracts t using import_changes c
         where c.import_id = $1 and c.entity = 'contract' and c.action = 'created' and t.id = c.entity_id
         returning t.id, to_jsonb(t.*) as before
     )
     insert into audit_log (entity, entity_id, action, actor_id, before)
     select 'contract', id, 'undo-import', $2, before from gone",
    "with cur as (
         select d.id, d.stage_id as cur_stage, to_jsonb(d.*) as cur_row
         from deals d join import_changes c on c.entity_id = d.id
         where c.import_id = $1 and c.entity = 'deal' and c.action = 'updated'
     ), upd as (
         update deals d set
             (name, stage_id, amount, currency, probability, expected_close_date, owner_id, source,
              lost_reason, stage_changed_at) =
             (select b.name, b.stage_id, b.amount, b.currency, b.probability, b.expected_close_date,
                     b.owner_id, b.source, b.lost_reason, b.stage_changed_at
              from jsonb_populate_record(null::deals, c.before) b),
             version = d.version + 1, updated_by = $2, updated_at = now()
         from import_changes c, cur
         where c.import_id = $1 and c.entity = 'deal' and c.action = 'updated' and d.id = c.entity_id
           and cur.id = d.id
         returning d.id, d.stage_id, cur.cur_stage, cur.cur_row, to_jsonb(d.*) as after
     ), history as (
         insert into deal_stage_history (deal_id, from_stage, to_stage, changed_by)
         select id, cur_stage, stage_id, $2 from upd where stage_id <> cur_stage
     )
     insert into audit_log (entity, entity_id, action, actor_id, before, after)
     select 'deal', id, 'undo-import', $2, cur_row, after from upd",
    "with cur as (
         select x.id, to_jsonb(x.*) as cur_row
         from contacts x join import_changes c on c.entity_id = x.id
         where c.import_id = $1 and c.entity = 'contact' and c.action = 'updated'
     ), upd as (
         update contacts t set
             (name, title, department, email, phone) =
             (select b.name, b.title, b.department, b.email, b.phone
              from jsonb_populate_record(null::contacts, c.before) b),
             version = t.version + 1, updated_by = $2, updated_at = now()
         from import_changes c, cur
         where c.import_id = $1 and c.entity = 'contact' and c.action = 'updated' and t.id = c.entity_id
           and cur.id = t.id
         returning t.id, cur.cur_row, to_jsonb(t.*) as after
     )
     insert into audit_log (entity, entity_id, action, actor_id, before, after)
     select 'contact', id, 'undo-import', $2, cur_row, after from upd",
    "with cur as (
         select x.id, to_jsonb(x.*) as cur_row
         from accounts x join import_changes c on c.entity_id = x.id
         where c.import_id = $1 and c.entity = 'account' and c.action = 'updated'
     ), upd as (
         update accounts a set
             (name, business_number, industry, company_size, address, main_phone, website, notes, owner_id) =
             (select b.name, b.business_number, b.industry, b.company_size, b.address, b.main_phone,
                     b.website, b.notes, b.owner_id
              from jsonb_populate_record(null::accounts, c.before) b),
             version = a.version + 1, updated_by = $2, updated_at = now()
         from import_changes c, cur
         where c.import_id = $1 and c.entity = 'account' and c.action = 'updated' and a.id = c.entity_id
           and cur.id = a.id
         returning a.id, cur.cur_row, to_jsonb(a.*) as after
     )
     insert into audit_log (entity, entity_id, action, actor_id, before, after)
     select 'account', id, 'undo-import', $2, cur_row, after from upd",
    "delete from deal_stage_history h using import_changes c
     where c.import_id = $1 and c.entity = 'deal' and c.action = 'created' and h.deal_id = c.entity_id
       and $2::uuid is not null",
    "with gone as (
         delete from deals d using import_changes c
         where c.import_id = $1 and c.entity = 'deal' and c.action = 'created' and d.id = c.entity_id
         returning d.id, to_jsonb(d.*) as before
     )
     insert into audit_log (entity, entity_id, action, actor_id, before)
     select 'deal', id, 'undo-import', $2, before from gone",
    "with gone as (
         delete from contacts t using import_changes c
         where c.import_id = $1 and c.entity = 'contact' and c.action = 'created' and t.id = c.entity_id
         returning t.id, to_jsonb(t.*) as before
     )
     insert into audit_log (entity, entity_id, action, actor_id, before)
     select 'contact', id, 'undo-import', $2, before from gone",
    "with gone as (
         delete from accounts a using import_changes c
         where c.import_id = $1 and c.entity = 'account' and c.action = 'created' and a.id = c.entity_id
         returning a.id, to_jsonb(a.*) as before
     )
     insert into audit_log (entity, entity_id, action, actor_id, before)
     select 'account', id, 'undo-import', $2, before from gone",
];

/// The error report of a finished import: the header row, then every row
/// left out, as the file had it, with the reasons in a last column. Cells are
/// written as values (text stays text, so `=…` is never a formula).
pub async fn error_report(pool: &PgPool, id: Uuid, lang: crate::i18n::Lang) -> Result<Vec<u8>, AppError> {
    let stored = sqlx::query!("select choices, problems from imports where id = $1", id)
        .fetch_optional(pool)
        .await?
        .ok_or(AppError::NotFound)?;
    let problems: Vec<CellProblem> = serde_json::from_value(stored.problems).unwrap_or_default();
    let choices: ImportChoices = stored.choices.and_then(|c| serde_json::from_value(c).ok()).unwrap_or_default();
    let loaded = load(pool, file(pool, id).await?, &choices).await?.map_err(|_| AppError::NotFound)?;
    tokio::task::spawn_blocking(move || write_report(&loaded, &problems, lang))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "error report task failed");
            AppError::Internal
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "error report not written");
            AppError::Internal
        })
}

/// One worksheet per sheet with rows left out, named as the sheet was.
fn write_report(
    loaded: &Loaded,
    problems: &[CellProblem],
    lang: crate::i18n::Lang,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use std::collections::BTreeMap;
    let mut by_row: BTreeMap<(u32, u32), Vec<String>> = BTreeMap::new();
    for p in problems {
        by_row.entry((p.sheet, p.row)).or_default().push(format!(
            "{}: {}",
            column_name(p.column),
            p.problem.text(lang)
        ));
    }
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let mut used_names: Vec<String> = Vec::new();
    for loaded_sheet in &loaded.read {
        let of_sheet: Vec<(u32, &Vec<String>)> =
            by_row.range((loaded_sheet.index, 0)..=(loaded_sheet.index, u32::MAX)).map(|((_, r), v)| (*r, v)).collect();
        if of_sheet.is_empty() {
            continue;
        }
        let read = &loaded_sheet.read;
        let name = report_sheet_name(&read.sheet, loaded_sheet.index, &used_names);
        used_names.push(name.to_lowercase());
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        let header = read.header.and_then(|h| read.rows.iter().find(|r| r.number == h.number));
        let width = read.rows.iter().map(|r| r.cells.len()).max().unwrap_or(0).min(200) as u16;
        sheet.write_string_with_format(0, 0, T::ImportRow.text(lang), &bold)?;
        if let Some(header) = header {
            for (c, cell) in header.cells.iter().enumerate().take(200) {
                sheet.write_string_with_format(0, c as u16 + 1, cell.to_text(), &bold)?;
            }
        }
        sheet.write_string_with_format(0, width + 1, T::ImportProblem.text(lang), &bold)?;
        let rows: std::collections::HashMap<u32, &SheetRow> = read.rows.iter().map(|r| (r.number, r)).collect();
        for (i, (number, reasons)) in of_sheet.iter().enumerate() {
            let out = i as u32 + 1;
            sheet.write_number(out, 0, f64::from(*number))?;
            if let Some(row) = rows.get(number) {
                for (c, cell) in row.cells.iter().enumerate().take(200) {
                    let col = c as u16 + 1;
                    match cell {
                        CellValue::Empty => {}
                        CellValue::Number(n) => {
                            sheet.write_number(out, col, *n)?;
                        }
                        CellValue::Bool(b) => {
                            sheet.write_boolean(out, col, *b)?;
                        }
                        CellValue::Date(d) => {
                            use chrono::Datelike;
                            let day = rust_xlsxwriter::ExcelDateTime::from_ymd(
                                d.year() as u16,
                                d.month() as u8,
                                d.day() as u8,
                            )?;
                            sheet.write_datetime_with_format(out, col, day, &date)?;
                        }
                        other => {
                            sheet.write_string(out, col, other.to_text())?;
                        }
                    }
                }
            }
            sheet.write_string(out, width + 1, reasons.join("; "))?;
        }
    }
    if loaded.read.is_empty() || by_row.is_empty() {
        workbook.add_worksheet();
    }
    workbook.save_to_buffer()
}

/// A report sheet named as the file's sheet, within Excel's rules (at most 31
/// UTF-16 units, none of `[]:*?/\`, no leading or trailing apostrophe) and
/// unique regardless of case; `Sheet<n>` when nothing of the name is left.
fn report_sheet_name(original: &str, index: u32, used: &[String]) -> String {
    let clean = |name: &str, room: usize| -> String {
        let mut out = String::new();
        let mut units = 0;
        for c in name.chars().filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') && !c.is_control()) {
            units += c.len_utf16();
            if units > room {
                break;
            }
            out.push(c);
        }
        out.trim_matches('\'').trim().to_string()
    };
    let base = match clean(original, 31) {
        b if b.is_empty() => format!("Sheet{}", index + 1),
        b => b,
    };
    let taken = |n: &str| used.iter().any(|u| *u == n.to_lowercase());
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|k| {
            let suffix = format!(" ({k})");
            format!("{}{suffix}", clean(&base, 31 - suffix.len()))
        })
        .find(|n| !taken(n))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::report_sheet_name;

    #[test]
    fn report_sheets_keep_their_names_within_excels_rules() {
        assert_eq!(report_sheet_name("영업기회", 0, &[]), "영업기회");
        assert_eq!(report_sheet_name("'Q1: 매출/비용'", 0, &[]), "Q1 매출비용");
        assert_eq!(report_sheet_name("[]", 2, &[]), "Sheet3");
        let long = "가".repeat(40);
        assert_eq!(report_sheet_name(&long, 0, &[]).chars().count(), 31);
        // Emoji take two UTF-16 units each.
        assert_eq!(report_sheet_name(&"😀".repeat(20), 0, &[]).chars().count(), 15);
        let used = vec!["sheet1".to_string()];
        assert_eq!(report_sheet_name("Sheet1", 0, &used), "Sheet1 (2)");
        let used = vec![long.chars().take(31).collect::<String>().to_lowercase()];
        let second = report_sheet_name(&long, 1, &used);
        assert!(second.ends_with(" (2)") && second.encode_utf16().count() <= 31, "{second}");
    }
}
