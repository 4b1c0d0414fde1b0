//! The timeline and the form that adds to it.

use leptos::prelude::*;

use super::api::{AddActivity, SetActivityDone};
use super::{Activity, KINDS};
use crate::i18n::{format_date, format_datetime, T};
use crate::record::{label_of, Entity};
use crate::ui::{field_error, ErrorBox};

/// The timeline and its forms, hydrated on its own (an island): a refused note
/// shows its error in place; a saved one leads back to the record's page.
#[island]
pub fn Timeline(target: Entity, target_id: String, activities: Vec<Activity>, can_add: bool) -> impl IntoView {
    let lang = crate::ui::lang();
    let add = ServerAction::<AddActivity>::new();
    let done = ServerAction::<SetActivityDone>::new();
    let kind_label = move |k: &str| label_of(KINDS, k).map(|t| t.text(lang)).unwrap_or("");
    let form = can_add.then(|| {
        let errors = move || match add.value().get() {
            Some(Err(e)) => (Some(e.clone()), e.field_errors().to_vec()),
            _ => (None, vec![]),
        };
        view! {
            <ActionForm action=add attr:class="activity-form" attr:data-testid="activity-form">
                <input type="hidden" name="form[target]" value=target.code() />
                <input type="hidden" name="form[target_id]" value=target_id.clone() />
                {move || errors().0.map(|e| view! { <ErrorBox error=e /> })}
                <div class="row">
                    <label>
                        {T::ActivityKind.text(lang)}
                        <select name="form[kind]" id="activity-kind">
                            {KINDS.iter().map(|(code, t)| view! { <option value=*code>{t.text(lang)}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="grow">
                        {T::Subject.text(lang)}
                        <input name="form[subject]" id="activity-subject" required maxlength="200" />
                        <small class="field-error">{move || field_error(&errors().1, "subject").map(|t| t.text(lang))}</small>
                    </label>
                    <label>
                        {T::DueDate.text(lang)}
                        <input type="date" name="form[due_date]" id="activity-due" />
                    </label>
                </div>
                <label>
                    {T::Body.text(lang)}
                    <textarea name="form[body]" id="activity-body" rows="2" maxlength="4000"></textarea>
                </label>
                <button type="submit" class="primary">{T::AddActivity.text(lang)}</button>
            </ActionForm>
        }
    });
    view! {
        <section id="timeline">
            <h2>{T::Activities.text(lang)}</h2>
            {form}
            {if activities.is_empty() {
                view! { <p class="empty">{T::NoActivities.text(lang)}</p> }.into_any()
            } else {
                view! {
                    <ol class="timeline" data-testid="timeline">
                        {activities
                            .into_iter()
                            .map(|a| {
                                let id = a.id.to_string();
                                let is_task = a.kind == "task";
                                view! {
                                    <li class=format!("activity {}", a.kind) class:done=a.done>
                                        <span class="kind">{kind_label(&a.kind)}</span>
                                        <strong class="subject">{a.subject.clone()}</strong>
                                        {a.deal_name.clone().map(|d| view! { <span class="deal-ref">" · " {d}</span> })}
                                        <div class="meta">
                                            {format_datetime(a.occurred_at, lang)} " · " {a.created_by.clone()}
                                            {a.due_date.map(|d| view! { " · " {T::DueDate.text(lang)} " " {format_date(d, lang)} })}
                                        </div>
                                        {a.body.clone().map(|b| view! { <p class="body">{b}</p> })}
                                        {(is_task && can_add).then(|| view! {
                                            <ActionForm action=done attr:class="inline">
                                                <input type="hidden" name="id" value=id.clone() />
                                                <input type="hidden" name="done" value=(!a.done).to_string() />
                                                <button type="submit" class="link">
                                                    {if a.done { T::MarkOpen.text(lang) } else { T::MarkDone.text(lang) }}
                                                </button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                    .into_any()
            }}
        </section>
    }
}
