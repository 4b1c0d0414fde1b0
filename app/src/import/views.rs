//! Import screens, rendered on the server only and working without
//! JavaScript: the history with the upload form, and one import's page
//! (preview with mapping and problems, then progress, then the result with
//! undo). No island: these pages add nothing to any page's WASM.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::*;
use super::*;
use crate::i18n::{format_datetime, format_integer, Lang, T};
use crate::ui::{ErrorBox, LoadError};

fn size_label(bytes: i32) -> String {
    let bytes = f64::from(bytes.max(0));
    if bytes >= 1024.0 * 1024.0 {
        format!("{:.1} MB", bytes / (1024.0 * 1024.0))
    } else {
        format!("{:.0} KB", (bytes / 1024.0).ceil())
    }
}

fn duration_label(import: &ImportSummary) -> String {
    match (import.started_at, import.finished_at) {
        (Some(s), Some(f)) => {
            let ms = (f - s).num_milliseconds().max(0);
            format!("{:.1} s", ms as f64 / 1000.0)
        }
        _ => String::new(),
    }
}

fn counts_line(c: &ChangeCounts, lang: Lang) -> String {
    format!(
        "{} {} · {} {} · {} {}",
        T::ImportCreated.text(lang),
        format_integer(c.created),
        T::ImportUpdated.text(lang),
        format_integer(c.updated),
        T::ImportUnchanged.text(lang),
        format_integer(c.unchanged),
    )
}

#[component]
pub fn ImportsPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let imports = Resource::new(|| (), |_| list_imports());
    let query = use_query_map();
    let refused = move || query.read().get("refused").as_deref().and_then(super::Refusal::from_code);
    view! {
        <div class="page-head">
            <h1>{T::ImportTitle.text(lang)}</h1>
        </div>
        {move || refused().map(|r| view! { <p class="error-box" role="alert">{r.message().text(lang)}</p> })}
        <form class="record-form upload-form" method="post" action="/import/upload" enctype="multipart/form-data">
            <label>
                <span>{T::ImportChooseFile.text(lang)}</span>
                <input
                    type="file"
                    name="file"
                    required
                    accept=".xlsx,.xlsm,.xlsb,.xls,.ods,.csv,.tsv,.txt"
                    data-testid="import-file"
                />
            </label>
            <p class="hint">{T::ImportUploadHint.text(lang)}</p>
            <button type="submit">{T::ImportUpload.text(lang)}</button>
        </form>
        <h2>{T::ImportHistory.text(lang)}</h2>
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                match imports.await {
                    Ok(list) if list.is_empty() => {
                        view! { <p class="empty">{T::ImportNone.text(lang)}</p> }.into_any()
                    }
                    Ok(list) => view! { <ImportTable list /> }.into_any(),
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ImportTable(list: Vec<ImportSummary>) -> impl IntoView {
    let lang = crate::ui::lang();
    view! {
        <table class="list" data-testid="import-history">
            <thead>
                <tr>
                    <th>{T::ImportFile.text(lang)}</th>
                    <th>{T::ImportBy.text(lang)}</th>
                    <th>{T::ImportWhen.text(lang)}</th>
                    <th>{T::ImportStatus.text(lang)}</th>
                    <th>{T::ImportResult.text(lang)}</th>
                    <th>{T::ImportDuration.text(lang)}</th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|i| {
                        let total = |f: fn(&ChangeCounts) -> i64| {
                            f(&i.counts.account) + f(&i.counts.contact) + f(&i.counts.deal) + f(&i.counts.contract)
                        };
                        let result = format!(
                            "{} {} · {} {} · {} {}",
                            T::ImportCreated.text(lang),
                            format_integer(total(|c| c.created)),
                            T::ImportUpdated.text(lang),
                            format_integer(total(|c| c.updated)),
                            T::ImportSkipped.text(lang),
                            format_integer(i64::from(i.skipped)),
                        );
                        view! {
                            <tr>
                                <td>
                                    <a href=format!("/import/{}", i.id)>{i.file_name.clone()}</a>
                                    " "
                                    <small>{size_label(i.file_size)}</small>
                                </td>
                                <td>{i.created_by.clone()}</td>
                                <td>{format_datetime(i.created_at, lang)}</td>
                                <td>{i.status.label().text(lang)}</td>
                                <td>{result}</td>
                                <td>{duration_label(&i)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// The page's query: the admin's choices and the problem page.
#[derive(Clone, Default, PartialEq)]
struct PageQuery {
    params: ImportParams,
    page: String,
    undo_refused: bool,
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let params = use_params_map();
    let query_map = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let query = move || {
        let q = query_map.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        // The mapping selects are one field per column (`c0`, `c1`, …); the
        // commit form carries them joined.
        let mut mapping = get("mapping");
        // The reader keeps at most 200 columns.
        let columns: Vec<String> =
            (0..200u32).filter_map(|c| q.get(&format!("c{c}")).map(|v| format!("{c}={v}"))).collect();
        if !columns.is_empty() {
            mapping = columns.join(";");
        }
        PageQuery {
            params: ImportParams {
                sheet: get("sheet"),
                shown: get("shown"),
                sheets: get("sheets"),
                use_sheet: get("use"),
                header: get("header"),
                enc: get("enc"),
                delim: get("delim"),
                mapping,
                mode: get("mode"),
            },
            page: get("page"),
            undo_refused: get("undo") == "refused",
        }
    };
    let preview = Resource::new(move || (id(), query()), |(id, q)| preview_import(id, q.params, q.page));
    view! {
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let q = query();
                match preview.await {
                    Ok(p) => view! { <ImportView p q /> }.into_any(),
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ImportView(p: Preview, q: PageQuery) -> impl IntoView {
    let lang = crate::ui::lang();
    let status = p.import.status;
    let id = p.import.id.to_string();
    view! {
        <div class="page-head">
            <h1>{p.import.file_name.clone()}</h1>
            <a href="/import">{T::ImportHistory.text(lang)}</a>
        </div>
        <p data-testid="import-status">
            {T::ImportStatus.text(lang)} ": " <strong>{status.label().text(lang)}</strong> " · "
            {size_label(p.import.file_size)} " · " {p.import.created_by.clone()} " · "
            {format_datetime(p.import.created_at, lang)}
        </p>
        {match status {
            ImportStatus::Uploaded => view! { <PreviewView p /> }.into_any(),
            ImportStatus::Queued | ImportStatus::Running => view! { <ProgressView import=p.import /> }.into_any(),
            _ => view! { <ResultView import=p.import undo_refused=q.undo_refused id /> }.into_any(),
        }}
    }
}

#[component]
fn ProgressView(import: ImportSummary) -> impl IntoView {
    let lang = crate::ui::lang();
    let total = import.rows_read.max(1);
    let done = import.rows_written.max(import.rows_checked / 2);
    view! {
        // Refreshes itself without JavaScript until the job is done.
        <meta http-equiv="refresh" content="2" />
        <div data-testid="import-progress">
            <progress max=total value=done></progress>
            <p>
                {T::ImportRowsRead.text(lang)} " " {format_integer(i64::from(import.rows_read))} " · "
                {T::ImportRowsChecked.text(lang)} " " {format_integer(i64::from(import.rows_checked))} " · "
                {T::ImportRowsWritten.text(lang)} " " {format_integer(i64::from(import.rows_written))}
            </p>
        </div>
    }
}

#[component]
fn ResultView(import: ImportSummary, undo_refused: bool, id: String) -> impl IntoView {
    let lang = crate::ui::lang();
    let undo = ServerAction::<UndoImport>::new();
    let problems = Resource::new(
        {
            let id = id.clone();
            move || id.clone()
        },
        import_problems,
    );
    let edited = Resource::new(
        {
            let id = id.clone();
            move || id.clone()
        },
        move |id| async move {
            if undo_refused {
                import_edited_since(id).await
            } else {
                Ok(Vec::new())
            }
        },
    );
    let committed = import.status == ImportStatus::Committed;
    let id_for_report = id.clone();
    view! {
        {import.error.map(|t| view! { <p class="error-box" role="alert" data-testid="import-error">{t.text(lang)}</p> })}
        {(import.status == ImportStatus::Undone)
            .then(|| {
                view! {
                    <p class="notice" role="status">
                        {T::ImportUndoneBy.text(lang)} " " {import.undone_by.clone().unwrap_or_default()}
                    </p>
                }
            })}
        {(committed || import.status == ImportStatus::Undone)
            .then(|| {
                view! {
                    <table class="list" data-testid="import-counts">
                        <tbody>
                            <tr>
                                <th>{T::NavAccounts.text(lang)}</th>
                                <td>{counts_line(&import.counts.account, lang)}</td>
                            </tr>
                            <tr>
                                <th>{T::NavContacts.text(lang)}</th>
                                <td>{counts_line(&import.counts.contact, lang)}</td>
                            </tr>
                            <tr>
                                <th>{T::NavDeals.text(lang)}</th>
                                <td>{counts_line(&import.counts.deal, lang)}</td>
                            </tr>
                            <tr>
                                <th>{T::NavContracts.text(lang)}</th>
                                <td>{counts_line(&import.counts.contract, lang)}</td>
                            </tr>
                            <tr>
                                <th>{T::ImportSkipped.text(lang)}</th>
                                <td>{format_integer(i64::from(import.skipped))}</td>
                            </tr>
                        </tbody>
                    </table>
                    <p>{T::ImportDuration.text(lang)} " " {duration_label(&import)}</p>
                }
            })}
        {committed
            .then(|| {
                view! {
                    <ActionForm action=undo attr:class="inline">
                        <input type="hidden" name="id" value=id.clone() />
                        <button type="submit" class="danger" data-testid="import-undo">
                            {T::ImportUndo.text(lang)}
                        </button>
                    </ActionForm>
                }
            })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let edited = edited.await.unwrap_or_default();
                (!edited.is_empty())
                    .then(|| {
                        view! {
                            <div class="error-box" role="alert" data-testid="import-undo-refused">
                                <p>{T::ImportUndoEdited.text(lang)}</p>
                                <ul>
                                    {edited
                                        .into_iter()
                                        .map(|e| {
                                            let href = format!("/{}s/{}", e.entity, e.id);
                                            view! {
                                                <li>
                                                    <a href=href>{e.name}</a>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </div>
                        }
                    })
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new({
                let id = id_for_report.clone();
                async move {
                let StoredProblems { problems, sheet_names } = problems.await.unwrap_or_default();
                let report = format!("/import/{id}/report.xlsx");
                (!problems.is_empty())
                    .then(|| {
                        view! {
                            <p>
                                <a href=report rel="external" download data-testid="import-report">
                                    {T::ImportErrorReport.text(lang)}
                                </a>
                            </p>
                            <ProblemTable problems headers=Vec::new() sheet_names shown=0 />
                        }
                    })
                }
            })}
        </Suspense>
    }
}

/// The problems by row and column; with several sheets, by sheet too.
/// `headers` are the shown sheet's, to name its columns.
#[component]
fn ProblemTable(
    problems: Vec<CellProblem>,
    headers: Vec<ColumnMapping>,
    sheet_names: Vec<String>,
    shown: u32,
) -> impl IntoView {
    let lang = crate::ui::lang();
    let by_sheet = sheet_names.len() > 1;
    view! {
        <table class="list" data-testid="import-problems">
            <thead>
                <tr>
                    {by_sheet.then(|| view! { <th>{T::ImportSheet.text(lang)}</th> })}
                    <th>{T::ImportRow.text(lang)}</th>
                    <th>{T::ImportColumn.text(lang)}</th>
                    <th>{T::ImportProblem.text(lang)}</th>
                </tr>
            </thead>
            <tbody>
                {problems
                    .into_iter()
                    .map(|p| {
                        let header = headers
                            .iter()
                            .filter(|_| p.sheet == shown)
                            .find(|m| m.column == p.column)
                            .map(|m| format!(" ({})", m.header))
                            .unwrap_or_default();
                        let sheet = sheet_names.get(p.sheet as usize).cloned().unwrap_or_default();
                        view! {
                            <tr>
                                {by_sheet.then(|| view! { <td>{sheet}</td> })}
                                <td>{p.row}</td>
                                <td>{format!("{}{header}", column_name(p.column))}</td>
                                <td>{p.problem.text(lang)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// A link to this preview with every sheet's settings carried over.
fn preview_link(id: &str, p: &Preview, sheet: &str, page: u32) -> String {
    let pairs = [
        ("sheet", sheet.to_string()),
        ("sheets", encode_sheets(&p.settings)),
        ("enc", p.csv.as_ref().map(|c| c.encoding.label().to_string()).unwrap_or_default()),
        ("delim", p.csv.as_ref().map(|c| c.delimiter.code().to_string()).unwrap_or_default()),
        ("mode", p.mode.code().to_string()),
    ];
    let mut query: Vec<String> =
        pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", crate::ui::encode(v))).collect();
    if page > 0 {
        query.push(format!("page={page}"));
    }
    format!("/import/{id}?{}", query.join("&"))
}

#[component]
fn SheetTable(p: Preview, id: String) -> impl IntoView {
    let lang = crate::ui::lang();
    view! {
        <p class="hint">{T::ImportSheetsHint.text(lang)}</p>
        <table class="list" data-testid="import-sheets">
            <thead>
                <tr>
                    <th>{T::ImportSheet.text(lang)}</th>
                    <th>{T::ImportUseSheet.text(lang)}</th>
                    <th>{T::ImportHeaderRow.text(lang)}</th>
                    <th>{T::ImportDataRows.text(lang)}</th>
                    <th>{T::ImportProblems.text(lang)}</th>
                </tr>
            </thead>
            <tbody>
                {p
                    .sheets
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let shown = i as u32 == p.shown;
                        // A sheet that could not be read has nothing to show.
                        let name = if shown || s.refusal.is_some() {
                            view! { <strong aria-current="true">{s.name.clone()}</strong> }.into_any()
                        } else {
                            view! { <a href=preview_link(&id, &p, &s.name, 0)>{s.name.clone()}</a> }.into_any()
                        };
                        let state = match (s.refusal, s.imported) {
                            (Some(r), _) => r.message().text(lang),
                            (None, true) => T::Yes.text(lang),
                            (None, false) => T::ImportSheetNotImported.text(lang),
                        };
                        view! {
                            <tr data-testid=format!("import-sheet-{i}")>
                                <td>{name}</td>
                                <td>{state}</td>
                                <td>{s.header.map(|h| h.number.to_string()).unwrap_or_default()}</td>
                                <td>{format_integer(i64::from(s.data_rows))}</td>
                                <td>{format_integer(i64::from(s.problems))}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn PreviewView(p: Preview) -> impl IntoView {
    let lang = crate::ui::lang();
    let id = p.import.id.to_string();
    if let Some(refusal) = p.refusal {
        return view! {
            <p class="error-box" role="alert" data-testid="import-refused">{refusal.message().text(lang)}</p>
        }
        .into_any();
    }
    let commit = ServerAction::<CommitImport>::new();
    let multi = p.sheets.len() > 1;
    let sheet_names: Vec<String> = if multi { p.sheets.iter().map(|s| s.name.clone()).collect() } else { Vec::new() };
    let header_value = p.header.map(|h| h.number.to_string()).unwrap_or_default();
    let shown_imported = p.sheets.get(p.shown as usize).is_none_or(|s| s.imported);
    let csv = p.csv.clone();
    let settings = encode_sheets(&p.settings);
    let mode = p.mode;
    let sample = p.sample.clone();
    let problem_page = p.problem_page;
    let pages = (p.problem_count as usize).div_ceil(PROBLEMS_PER_PAGE) as u32;
    let page_link = {
        let (id, p) = (id.clone(), p.clone());
        move |page: u32| preview_link(&id, &p, &p.sheet, page)
    };
    view! {
        {multi.then(|| view! { <SheetTable p=p.clone() id=id.clone() /> })}
        <form method="get" action=format!("/import/{id}") class="record-form" data-testid="import-settings">
            // The fields below belong to the shown sheet; `sheets` carries the others.
            <input type="hidden" name="shown" value=p.sheet.clone() />
            <input type="hidden" name="sheets" value=settings.clone() />
            {multi
                .then(|| {
                    view! {
                        <label>
                            <span>{T::ImportSheet.text(lang)}</span>
                            <select name="sheet" data-testid="import-sheet">
                                {p
                                    .sheets
                                    .iter()
                                    .map(|s| {
                                        let selected = s.name == p.sheet;
                                        view! {
                                            <option value=s.name.clone() selected=selected>
                                                {s.name.clone()}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </label>
                        <label>
                            <span>{T::ImportUseSheet.text(lang)}</span>
                            <select name="use" data-testid="import-use-sheet">
                                <option value="yes" selected=shown_imported>{T::Yes.text(lang)}</option>
                                <option value="no" selected=!shown_imported>{T::No.text(lang)}</option>
                            </select>
                        </label>
                    }
                })}
            <label>
                <span>{T::ImportHeaderRow.text(lang)}</span>
                <input type="number" name="header" min="1" value=header_value data-testid="import-header-row" />
            </label>
            {csv
                .map(|c| {
                    let enc = c.encoding.label().to_string();
                    view! {
                        <label>
                            <span>{T::ImportEncoding.text(lang)}</span>
                            <select name="enc">
                                {["UTF-8", "EUC-KR", "UTF-16LE", "UTF-16BE"]
                                    .into_iter()
                                    .map(|e| view! { <option value=e selected=e == enc>{e}</option> })
                                    .collect_view()}
                            </select>
                        </label>
                        <label>
                            <span>{T::ImportDelimiter.text(lang)}</span>
                            <select name="delim">
                                {Delimiter::ALL
                                    .into_iter()
                                    .map(|d| {
                                        let shown = match d {
                                            Delimiter::Comma => ",",
                                            Delimiter::Tab => "Tab",
                                            Delimiter::Semicolon => ";",
                                            Delimiter::Pipe => "|",
                                        };
                                        view! {
                                            <option value=d.code() selected=d == c.delimiter>
                                                {shown}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </label>
                    }
                })}
            <label>
                <span>{T::ImportMode.text(lang)}</span>
                <select name="mode" data-testid="import-mode">
                    <option value=ImportMode::AllOrNothing.code() selected=mode == ImportMode::AllOrNothing>
                        {T::ImportModeAllOrNothing.text(lang)}
                    </option>
                    <option value=ImportMode::SkipInvalid.code() selected=mode == ImportMode::SkipInvalid>
                        {T::ImportModeSkipInvalid.text(lang)}
                    </option>
                </select>
            </label>
            <table class="list mapping" data-testid="import-mapping">
                <thead>
                    <tr>
                        <th>{T::ImportColumn.text(lang)}</th>
                        <th>{T::ImportHeader.text(lang)}</th>
                        <th>{T::ImportField.text(lang)}</th>
                        <th>{T::ImportSample.text(lang)}</th>
                    </tr>
                </thead>
                <tbody>
                    {p
                        .mapping
                        .iter()
                        .map(|m| {
                            let samples = sample
                                .iter()
                                .filter_map(|r| r.cells.get(m.column as usize).map(CellValue::to_text))
                                .filter(|t| !t.trim().is_empty())
                                .take(3)
                                .map(|t| t.chars().take(40).collect::<String>())
                                .collect::<Vec<_>>()
                                .join(" · ");
                            let field = m.field;
                            view! {
                                <tr>
                                    <td>{column_name(m.column)}</td>
                                    <td>{m.header.clone()}</td>
                                    <td>
                                        <select
                                            name=format!("c{}", m.column)
                                            data-testid=format!("import-map-{}", column_name(m.column))
                                        >
                                            <option value="" selected=field.is_none()>
                                                {T::ImportIgnoreColumn.text(lang)}
                                            </option>
                                            {ImportField::ALL
                                                .into_iter()
                                                .map(|f| {
                                                    view! {
                                                        <option value=f.code() selected=field == Some(f)>
                                                            {f.label().text(lang)}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()}
                                        </select>
                                    </td>
                                    <td>
                                        <small>{samples}</small>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <button type="submit" data-testid="import-apply">{T::ImportApply.text(lang)}</button>
        </form>
        {p
            .mapping_from
            .clone()
            .map(|f| {
                view! {
                    <p class="notice" role="status" data-testid="import-mapping-from">
                        {T::ImportMappingReused.text(lang)} " " {f}
                    </p>
                }
            })}
        <p data-testid="import-summary">
            {T::ImportDataRows.text(lang)} " " {format_integer(i64::from(p.data_rows))} " · "
            {T::ImportInvalidRows.text(lang)} " " {format_integer(i64::from(p.invalid_rows))} " · "
            {T::ImportProblems.text(lang)} " " {format_integer(i64::from(p.problem_count))}
        </p>
        {p
            .file_problems
            .iter()
            .map(|fp| {
                let sheet = sheet_names.get(fp.sheet as usize).map(|n| format!("{n}: ")).unwrap_or_default();
                view! { <p class="error-box" role="alert">{sheet} {fp.problem.text(lang)}</p> }
            })
            .collect_view()}
        {(!p.problems.is_empty())
            .then(|| {
                let headers = p.mapping.clone();
                view! {
                    <ProblemTable problems=p.problems.clone() headers sheet_names=sheet_names.clone() shown=p.shown />
                    <nav class="pager">
                        {(problem_page > 0)
                            .then(|| {
                                view! { <a href=page_link(problem_page - 1)>{T::PrevPage.text(lang)}</a> }
                            })}
                        " " {format!("{} / {}", problem_page + 1, pages.max(1))} " "
                        {(problem_page + 1 < pages)
                            .then(|| view! { <a href=page_link(problem_page + 1)>{T::NextPage.text(lang)}</a> })}
                    </nav>
                }
            })}
        // Every sheet's settings as the preview above used them.
        <ActionForm action=commit attr:class="record-form" attr:data-testid="import-commit-form">
            <input type="hidden" name="id" value=id.clone() />
            <input type="hidden" name="params[sheet]" value=p.sheet.clone() />
            <input type="hidden" name="params[sheets]" value=settings />
            <input type="hidden" name="params[enc]" value=p.csv.as_ref().map(|c| c.encoding.label().to_string()).unwrap_or_default() />
            <input type="hidden" name="params[delim]" value=p.csv.as_ref().map(|c| c.delimiter.code()).unwrap_or_default() />
            <input type="hidden" name="params[mode]" value=mode.code() />
            {(!p.can_commit).then(|| view! { <p class="hint">{T::ImportCannotCommit.text(lang)}</p> })}
            <button type="submit" disabled=!p.can_commit data-testid="import-commit">
                {T::ImportCommit.text(lang)}
            </button>
            {move || commit.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorBox error=e /> })}
        </ActionForm>
    }
    .into_any()
}
