//! What every record page shares: the delete/restore island, the edit form's
//! frame, the deleted banner and the change history.

use super::api::{DeleteRecord, RestoreRecord};
use super::{AuditAction, Entity, HistoryEntry};
use crate::error::AppError;
use crate::i18n::{format_datetime, T};
use crate::ui::{lang, ErrorBox};
use leptos::prelude::*;

/// What an empty list says. With a search or a filter: that nothing
/// matches, and a way back to the whole list. Without: that there is
/// nothing yet, and (for someone who may add one) where to start.
#[component]
pub fn EmptyList(
    filtered: bool,
    list_path: &'static str,
    nothing_yet: T,
    create: Option<(String, T)>,
) -> impl IntoView {
    let lang = lang();
    if filtered {
        view! {
            <p class="empty" role="status">{T::NoResults.text(lang)}</p>
            <p class="next-step"><a href=list_path>{T::ClearFilters.text(lang)}</a></p>
        }
        .into_any()
    } else {
        view! {
            <p class="empty" role="status">{nothing_yet.text(lang)}</p>
            {create.map(|(href, label)| view! { <p class="next-step"><a class="button" href=href>{label.text(lang)}</a></p> })}
        }
        .into_any()
    }
}

/// Links that take the list, as filtered, searched and sorted in the
/// address, out to a file (plain links: the server writes the file).
#[component]
pub fn ExportLinks(list: &'static str) -> impl IntoView {
    let lang = lang();
    let search = leptos_router::hooks::use_location().search.get_untracked();
    // The export starts at the first row whatever page is shown.
    let kept: Vec<&str> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("after=") && !p.starts_with("before="))
        .collect();
    let href = |format: &str| {
        let mut href = format!("/export/{list}?format={format}");
        for p in &kept {
            href.push('&');
            href.push_str(p);
        }
        href
    };
    view! {
        <p class="export-links">
            {T::ExportList.text(lang)}": "
            <a href=href("xlsx")>"Excel (.xlsx)"</a>
            " · "
            <a href=href("csv")>"CSV"</a>
        </p>
    }
}

/// Edit, delete and restore over a record of any kind, hydrated on its own
/// (an island): sent without a reload, a refusal shown right here.
#[island]
pub fn RecordActions(kind: Entity, id: String, version: i32, can_edit: bool, can_restore: bool) -> impl IntoView {
    let lang = lang();
    let delete = ServerAction::<DeleteRecord>::new();
    let restore = ServerAction::<RestoreRecord>::new();
    let error = move || match (delete.value().get(), restore.value().get()) {
        (Some(Err(e)), _) | (_, Some(Err(e))) => Some(view! { <ErrorBox error=e /> }),
        _ => None,
    };
    let edit_href = format!("{}/{id}/edit", kind.list_path());
    let (id_delete, id_restore) = (id.clone(), id);
    view! {
        <div class="actions">
            {can_edit.then(|| view! { <a class="button" href=edit_href>{T::Edit.text(lang)}</a> })}
            {can_edit.then(|| view! {
                <ActionForm action=delete attr:class="inline">
                    <input type="hidden" name="kind" value=kind.code() />
                    <input type="hidden" name="id" value=id_delete />
                    <input type="hidden" name="version" value=version.to_string() />
                    <button type="submit" class="danger">{T::Delete.text(lang)}</button>
                </ActionForm>
            })}
            {can_restore.then(|| view! {
                <ActionForm action=restore attr:class="inline">
                    <input type="hidden" name="kind" value=kind.code() />
                    <input type="hidden" name="id" value=id_restore />
                    <button type="submit">{T::Restore.text(lang)}</button>
                </ActionForm>
            })}
        </div>
        {error}
    }
}

/// The top of an edit form: the version the edit is based on (the echoed one
/// after a refusal, so a resubmission still conflicts), the error, and after a
/// conflict a link to the latest version of the record.
#[component]
pub fn EditFormHead(err: Option<AppError>, record_version: i32, reload: String) -> impl IntoView {
    let lang = lang();
    let version = err
        .as_ref()
        .and_then(|e| e.echoed("version"))
        .map(str::to_string)
        .unwrap_or_else(|| record_version.to_string());
    let conflict = matches!(err, Some(AppError::Conflict { .. }));
    view! {
        <input type="hidden" name="version" value=version />
        {err.map(|e| view! { <ErrorBox error=e /> })}
        {conflict.then(|| view! { <p><a href=reload rel="external">{T::ReloadLatest.text(lang)}</a></p> })}
    }
}

/// Save (disabled while the form is being sent) and Cancel back to `back`.
#[component]
pub fn FormButtons(#[prop(into)] pending: Signal<bool>, back: String) -> impl IntoView {
    let lang = lang();
    view! {
        <div class="actions">
            <button type="submit" class="primary" disabled=move || pending.get()>{T::Save.text(lang)}</button>
            <a href=back>{T::Cancel.text(lang)}</a>
        </div>
    }
}

/// Shown on a soft-deleted record.
#[component]
pub fn DeletedBanner() -> impl IntoView {
    view! { <p class="deleted-banner" role="status">{T::DeletedBanner.text(lang())}</p> }
}

#[component]
pub fn HistoryTable(entries: Vec<HistoryEntry>) -> impl IntoView {
    let lang = lang();
    if entries.is_empty() {
        return view! { <p class="empty">{T::NoHistory.text(lang)}</p> }.into_any();
    }
    view! {
        <ol class="history" data-testid="history">
            {entries
                .into_iter()
                .map(|e| {
                    let changes = e
                        .changes
                        .iter()
                        .filter(|_| e.action == AuditAction::Update)
                        .map(|c| {
                            view! {
                                <li>
                                    <code>{c.field.clone()}</code>
                                    ": "
                                    <del>{c.before.clone()}</del>
                                    " → "
                                    <ins>{c.after.clone()}</ins>
                                </li>
                            }
                        })
                        .collect_view();
                    view! {
                        <li>
                            <strong>{e.action.label().text(lang)}</strong>
                            " · "
                            {e.actor.clone()}
                            " · "
                            <time>{format_datetime(e.at, lang)}</time>
                            <ul>{changes}</ul>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}
