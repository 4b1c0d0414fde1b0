//! The pipeline board. Server-rendered columns with a stage selector per card
//! (works without JavaScript); hydrated, cards can be dragged between columns or
//! moved with the keyboard, moving at once and moving back if the server refuses.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_location, use_query_map};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::api::{get_board, MoveDeal};
use super::views::money;
use super::*;
use crate::auth::api::list_owners;
use crate::i18n::{format_date, format_integer, T};
use crate::ui::{query_string, ErrorBox, LoadError, Notice};

#[component]
pub fn PipelinePage() -> impl IntoView {
    let lang = crate::ui::lang();
    let query_map = use_query_map();
    let query = move || {
        let q = query_map.read();
        BoardQuery {
            owner: q.get("owner").unwrap_or_default(),
            period: q.get("period").unwrap_or_default(),
            currency: q.get("currency").unwrap_or_default(),
        }
    };
    let board = Resource::new(query, get_board);
    let owners = Resource::new(|| (), |_| list_owners());
    let location = use_location();
    let back = move || {
        let search = location.search.get();
        if search.is_empty() {
            "/pipeline".to_string()
        } else {
            format!("/pipeline?{search}")
        }
    };
    view! {
        <div class="page-head">
            <h1>{T::Pipeline.text(lang)}</h1>
            <a class="button" href="/deals">{T::DealsTitle.text(lang)}</a>
        </div>
        <Notice />
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let q = query();
                let f = q.clone();
                let owners = owners.await.unwrap_or_default();
                let result = board.await;
                view! {
                    <Form method="GET" action="/pipeline" attr:class="filters" attr:role="search">
                        <crate::ui::OwnerFilter owners selected=f.owner.clone() />
                        <select name="period" aria-label=T::ClosePeriod.text(lang)>
                            {PERIODS.iter().map(|(code, label)| {
                                let selected = *code == f.period;
                                view! { <option value=*code selected=selected>{label.text(lang)}</option> }
                            }).collect_view()}
                        </select>
                        <crate::ui::CurrencyFilter selected=f.currency.clone() />
                        <button type="submit">{T::Filter.text(lang)}</button>
                    </Form>
                    {match result {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(b) => view! { <BoardView board=b query=q back=back() /> }.into_any(),
                    }}
                }
            })}
        </Suspense>
    }
}

/// Moves a card between columns in local state and adjusts both columns' totals.
fn move_card(columns: &mut [BoardColumn], id: Uuid, to_stage: &str) -> Option<(DealCard, i32)> {
    let from_idx = columns.iter().position(|c| c.cards.iter().any(|d| d.id == id))?;
    let to_idx = columns.iter().position(|c| c.stage.id == to_stage)?;
    if from_idx == to_idx {
        return None;
    }
    let pos = columns[from_idx].cards.iter().position(|d| d.id == id)?;
    let mut card = columns[from_idx].cards.remove(pos);
    let old_probability = card.probability;
    let new_probability = columns[to_idx].stage.default_probability;
    let amount = card.amount.unwrap_or_default();
    adjust(
        &mut columns[from_idx],
        &card.currency,
        -1,
        -amount,
        -(amount * Decimal::from(old_probability) / Decimal::from(100)),
    );
    adjust(
        &mut columns[to_idx],
        &card.currency,
        1,
        amount,
        amount * Decimal::from(new_probability) / Decimal::from(100),
    );
    card.probability = new_probability;
    let version = card.version;
    columns[to_idx].cards.insert(0, card.clone());
    Some((card, version))
}

fn adjust(column: &mut BoardColumn, currency: &str, count: i64, sum: Decimal, weighted: Decimal) {
    column.count += count;
    match column.totals.iter_mut().find(|t| t.currency == currency) {
        Some(t) => {
            t.count += count;
            t.sum += sum;
            t.weighted += weighted;
        }
        None => column.totals.push(CurrencyTotal { currency: currency.to_string(), count, sum, weighted }),
    }
    column.totals.retain(|t| t.count > 0);
}

/// The board itself, hydrated on its own (an island): cards move at once and
/// move back, with the server's reason above the board, if it refuses.
#[island]
fn BoardView(board: Board, query: BoardQuery, back: String) -> impl IntoView {
    let lang = crate::ui::lang();
    let move_action = ServerAction::<MoveDeal>::new();
    let back = StoredValue::new(back);
    let columns = RwSignal::new(board.columns.clone());
    let snapshot = StoredValue::new(board.columns);
    let dragging = RwSignal::new(None::<Uuid>);
    let can_move = board.can_move;
    // A refused move puts the board back as it was; the reason is shown above it.
    // After any accepted move the board is read again from the server.
    let filters = StoredValue::new(query.clone());
    Effect::new(move |_| match move_action.value().get() {
        Some(Err(_)) => columns.set(snapshot.get_value()),
        Some(Ok(())) => leptos::task::spawn_local(async move {
            if let Ok(fresh) = get_board(filters.get_value()).await {
                snapshot.set_value(fresh.columns.clone());
                columns.set(fresh.columns);
            }
        }),
        None => {}
    });
    let stage_ids: Vec<String> = columns.get_untracked().iter().map(|c| c.stage.id.clone()).collect();
    let stage_ids = StoredValue::new(stage_ids);
    let do_move = move |id: Uuid, to: String| {
        let mut next = columns.get_untracked();
        if let Some((_, version)) = move_card(&mut next, id, &to) {
            snapshot.set_value(columns.get_untracked());
            columns.set(next);
            move_action.dispatch(MoveDeal { id: id.to_string(), version: version.to_string(), stage: to, back: None });
        }
    };
    let rest_link = move |stage: &str| {
        format!("/deals?{}", query_string(&[("stage", stage), ("owner", &query.owner), ("currency", &query.currency)]))
    };
    view! {
        {move || match move_action.value().get() {
            Some(Err(e)) => Some(view! { <div data-testid="board-error"><ErrorBox error=e /></div> }),
            _ => None,
        }}
        <div class="board" data-testid="board">
            <For each=move || columns.get() key=|c| (c.stage.id.clone(), c.count, c.cards.len(), c.totals.iter().map(|t| t.sum.to_string()).collect::<Vec<_>>().join("/")) let:column>
                {
                    let stage_id = column.stage.id.clone();
                    let drop_stage = stage_id.clone();
                    let shown = column.cards.len() as i64;
                    let more = (column.count > shown).then(|| rest_link(&stage_id));
                    view! {
                        <section
                            class="column"
                            data-testid=format!("column-{stage_id}")
                            on:dragover=move |ev| ev.prevent_default()
                            on:drop=move |ev| {
                                ev.prevent_default();
                                if let Some(id) = dragging.get_untracked() {
                                    dragging.set(None);
                                    do_move(id, drop_stage.clone());
                                }
                            }
                        >
                            <header>
                                <h2>{column.stage.name(lang).to_string()}</h2>
                                <p class="count" data-testid="column-count">{format_integer(column.count)} {T::CountSuffix.text(lang)}</p>
                                {column.totals.iter().map(|t| view! {
                                    <p class="total" data-testid=format!("column-total-{}", t.currency)>
                                        {money(Some(t.sum), &t.currency, lang)}
                                        <small data-testid=format!("column-weighted-{}", t.currency)>
                                            {T::Weighted.text(lang)} " " {money(Some(t.weighted), &t.currency, lang)}
                                        </small>
                                    </p>
                                }).collect_view()}
                            </header>
                            <ol class="cards">
                                {column.cards.into_iter().map(|card| {
                                    let id = card.id;
                                    let here = stage_id.clone();
                                    let key_stage = stage_id.clone();
                                    view! {
                                        <li
                                            class="card"
                                            tabindex="0"
                                            data-testid="deal-card"
                                            data-deal-id=id.to_string()
                                            draggable=can_move.then_some("true")
                                            aria-label=card.name.clone()
                                            on:dragstart=move |_| dragging.set(Some(id))
                                            on:keydown=move |ev| {
                                                if !can_move { return; }
                                                let step: i32 = match ev.key().as_str() {
                                                    "ArrowLeft" => -1,
                                                    "ArrowRight" => 1,
                                                    _ => return,
                                                };
                                                ev.prevent_default();
                                                let ids = stage_ids.get_value();
                                                let pos = ids.iter().position(|s| *s == key_stage).unwrap_or(0) as i32;
                                                if let Some(target) = ids.get((pos + step).max(0) as usize) {
                                                    do_move(id, target.clone());
                                                }
                                            }
                                        >
                                            <a href=format!("/deals/{id}") class="card-name">{card.name.clone()}</a>
                                            <span class="card-account">{card.account_name.clone()}</span>
                                            <span class="card-amount">{money(card.amount, &card.currency, lang)}</span>
                                            <span class="card-meta">
                                                {format!("{}%", card.probability)}
                                                {card.expected_close_date.map(|d| format!(" · {}", format_date(d, lang)))}
                                                " · " {card.owner_name.clone()}
                                            </span>
                                            {can_move.then(|| view! {
                                                <ActionForm action=move_action attr:class="move-form">
                                                    <input type="hidden" name="id" value=id.to_string() />
                                                    <input type="hidden" name="version" value=card.version.to_string() />
                                                    <input type="hidden" name="back" value=back.get_value() />
                                                    <select name="stage" aria-label=T::Stage.text(lang)>
                                                        {columns.get_untracked().iter().map(|c| {
                                                            let selected = c.stage.id == here;
                                                            view! { <option value=c.stage.id.clone() selected=selected>{c.stage.name(lang).to_string()}</option> }
                                                        }).collect_view()}
                                                    </select>
                                                    <button type="submit">{T::Move.text(lang)}</button>
                                                </ActionForm>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                            {more.map(|href| view! { <a class="more" href=href>{T::MoreDeals.text(lang)}</a> })}
                        </section>
                    }
                }
            </For>
        </div>
    }
}
