//! The dashboard page: filters, then each panel as an SVG chart (drawn here,
//! on the server: no chart library, no font, no script) with its figures in
//! a table. Charts are `role="img"` with a title and a description; bars
//! carry their exact figures in a `<title>` (the browser shows it on hover);
//! series differ by fill and outline as well as colour.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::api::get_dashboard;
use super::*;
use crate::auth::api::list_owners;
use crate::i18n::{format_integer, format_money, Lang, T};
use crate::ui::{LoadError, Notice};

fn money(amount: Decimal, currency: &str, lang: Lang) -> String {
    format_money(amount, currency, lang)
}

fn ratio(part: Decimal, whole: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    if whole.is_zero() {
        0.0
    } else {
        (part / whole).to_f64().unwrap_or(0.0).clamp(0.0, 1.0)
    }
}

fn month_label(month: NaiveDate, lang: Lang) -> String {
    use chrono::Datelike;
    match lang {
        Lang::Ko => format!("{}.{:02}", month.year() % 100, month.month()),
        Lang::En => format!("{:02}/{}", month.month(), month.year() % 100),
    }
}

fn rate_text(rate: Option<Decimal>) -> String {
    rate.map(|r| format!("{r}%")).unwrap_or_else(|| "–".into())
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let lang = crate::ui::lang();
    let query_map = use_query_map();
    let query = move || {
        let q = query_map.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        DashboardQuery { owner: get("owner"), currency: get("currency"), period: get("period"), stale: get("stale") }
    };
    let data = Resource::new(query, get_dashboard);
    let owners = Resource::new(|| (), |_| list_owners());
    view! {
        <div class="page-head">
            <h1>{T::DashboardTitle.text(lang)}</h1>
        </div>
        <Notice />
        <Suspense fallback=move || view! { <p>{T::Loading.text(lang)}</p> }>
            {move || Suspend::new(async move {
                let q = query();
                let owners = owners.await.unwrap_or_default();
                match data.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(d) => {
                        let period = if q.period.is_empty() { "quarter".to_string() } else { q.period.clone() };
                        view! {
                            <Form method="GET" action="/dashboard" attr:class="filters" attr:role="search">
                                {d.can_filter_owner.then(|| view! { <crate::ui::OwnerFilter owners selected=q.owner.clone() /> })}
                                <crate::ui::CurrencyFilter selected=q.currency.clone() />
                                <select name="period" aria-label=T::DashboardPeriod.text(lang)>
                                    {PERIODS.iter().map(|(code, label)| {
                                        let selected = *code == period;
                                        view! { <option value=*code selected=selected>{label.text(lang)}</option> }
                                    }).collect_view()}
                                </select>
                                <label>
                                    {T::DashboardStaleAfter.text(lang)} " "
                                    <input type="number" name="stale" min="7" max="365" value=d.stale_days.to_string() class="short" />
                                </label>
                                <button type="submit">{T::Filter.text(lang)}</button>
                            </Form>
                            <DashboardView d />
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn DashboardView(d: Dashboard) -> impl IntoView {
    let lang = crate::ui::lang();
    let currencies: Vec<String> = {
        let mut c: Vec<String> = d
            .by_stage
            .iter()
            .map(|s| s.currency.clone())
            .chain(d.forecast.iter().map(|m| m.currency.clone()))
            .chain(d.win_rate.iter().map(|w| w.currency.clone()))
            .collect();
        c.sort();
        c.dedup();
        c
    };
    let stage_name = {
        let stages = d.stages.clone();
        move |id: &str| stages.iter().find(|s| s.id == id).map(|s| s.name(lang).to_string()).unwrap_or_default()
    };
    view! {
        {currencies.is_empty().then(|| view! { <p class="empty">{T::DashboardEmpty.text(lang)}</p> })}
        <section data-testid="panel-pipeline">
            <h2>{T::DashboardPipeline.text(lang)}</h2>
            {currencies.iter().map(|cur| {
                let rows: Vec<StageFigure> = d.by_stage.iter().filter(|s| &s.currency == cur).cloned().collect();
                view! { <StageChart rows currency=cur.clone() stage_name=stage_name.clone() /> }
            }).collect_view()}
        </section>
        <section data-testid="panel-forecast">
            <h2>{T::DashboardForecast.text(lang)}</h2>
            <p class="hint">{T::DashboardForecastHint.text(lang)}</p>
            {currencies.iter().map(|cur| {
                let rows: Vec<MonthFigure> = d.forecast.iter().filter(|m| &m.currency == cur).cloned().collect();
                view! { <ForecastChart rows currency=cur.clone() /> }
            }).collect_view()}
        </section>
        <section data-testid="panel-win-rate">
            <h2>{T::DashboardWinRate.text(lang)}</h2>
            <table class="list">
                <thead><tr>
                    <th>{T::Currency.text(lang)}</th>
                    <th class="num">{T::DashboardWon.text(lang)}</th>
                    <th class="num">{T::DashboardLost.text(lang)}</th>
                    <th class="num">{T::DashboardByCount.text(lang)}</th>
                    <th class="num">{T::DashboardByValue.text(lang)}</th>
                </tr></thead>
                <tbody>
                    {d.win_rate.iter().map(|w| view! {
                        <tr>
                            <td>{w.currency.clone()}</td>
                            <td class="num">{format!("{} · {}", format_integer(w.won_count), money(w.won_amount, &w.currency, lang))}</td>
                            <td class="num">{format!("{} · {}", format_integer(w.lost_count), money(w.lost_amount, &w.currency, lang))}</td>
                            <td class="num">{rate_text(w.by_count())}</td>
                            <td class="num">{rate_text(w.by_value())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section data-testid="panel-leaderboard">
            <h2>{T::DashboardLeaderboard.text(lang)}</h2>
            <table class="list">
                <thead><tr>
                    <th>{T::Owner.text(lang)}</th>
                    <th>{T::Currency.text(lang)}</th>
                    <th class="num">{T::DashboardOpen.text(lang)}</th>
                    <th class="num">{T::Weighted.text(lang)}</th>
                    <th class="num">{T::DashboardWonInPeriod.text(lang)}</th>
                    <th class="num">{T::DashboardByCount.text(lang)}</th>
                    <th class="num">{T::DashboardDaysToClose.text(lang)}</th>
                </tr></thead>
                <tbody>
                    {d.leaderboard.iter().map(|o| view! {
                        <tr>
                            <td>{o.owner_name.clone()}</td>
                            <td>{o.currency.clone()}</td>
                            <td class="num">{money(o.open_amount, &o.currency, lang)}</td>
                            <td class="num">{money(o.weighted, &o.currency, lang)}</td>
                            <td class="num">{money(o.won_amount, &o.currency, lang)}</td>
                            <td class="num">{rate_text(o.rate.by_count())}</td>
                            <td class="num">{days_text(o.days_to_close, lang)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section data-testid="panel-stage-time">
            <h2>{T::DashboardStageTime.text(lang)}</h2>
            <p class="hint">{T::DashboardStageTimeHint.text(lang)}</p>
            {if d.stage_time.is_empty() {
                view! { <p class="empty">{T::DashboardNoStageTime.text(lang)}</p> }.into_any()
            } else {
                view! { <StageTimeChart rows=d.stage_time.clone() stage_name=stage_name.clone() /> }.into_any()
            }}
        </section>
        <section data-testid="panel-stale">
            <h2>{T::DashboardStale.text(lang)} " (" {d.stale_days} " " {T::Days.text(lang)} ")"</h2>
            {if d.stale.is_empty() {
                view! { <p class="empty">{T::DashboardNoStale.text(lang)}</p> }.into_any()
            } else {
                view! {
                    <table class="list">
                        <thead><tr>
                            <th>{T::DealName.text(lang)}</th>
                            <th>{T::Stage.text(lang)}</th>
                            <th>{T::Owner.text(lang)}</th>
                            <th class="num">{T::DashboardIdle.text(lang)}</th>
                        </tr></thead>
                        <tbody>
                            {d.stale.iter().map(|s| view! {
                                <tr>
                                    <td><a href=crate::record::Entity::Deal.path(s.id)>{s.name.clone()}</a></td>
                                    <td>{stage_name(&s.stage_id)}</td>
                                    <td>{s.owner_name.clone()}</td>
                                    <td class="num">{format!("{} {}", format_integer(s.idle_days), T::Days.text(lang))}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        {d.renewals.map(|r| view! {
            <section data-testid="panel-renewals">
                <h2>{T::RenewalsTitle.text(lang)}</h2>
                <ul class="figures">
                    {r.due.iter().map(|(days, count)| view! {
                        <li><a href=format!("/renewals?within={days}")>{format!("{} {}: {}", days, T::Days.text(lang), format_integer(*count))}</a></li>
                    }).collect_view()}
                </ul>
                <p>
                    {T::MonthlyValueTotal.text(lang)} ": "
                    {r.monthly.iter().map(|(c, m)| money(*m, c, lang)).collect::<Vec<_>>().join(" · ")}
                </p>
            </section>
        })}
    }
}

fn days_text(days: Option<Decimal>, lang: Lang) -> String {
    days.map(|d| format!("{} {}", d.normalize(), T::Days.text(lang))).unwrap_or_else(|| "–".into())
}

/// Days in each stage: the bar is the average, the tick the median (told
/// apart by shape, not only colour).
#[component]
fn StageTimeChart(rows: Vec<StageTime>, stage_name: impl Fn(&str) -> String + 'static) -> impl IntoView {
    let lang = crate::ui::lang();
    let max = rows.iter().map(|r| r.average.max(r.median)).max().unwrap_or_default();
    let height = rows.len().max(1) * BAR_H + 10;
    let span = (CHART_W - LABEL_W - 110) as f64;
    let title = T::DashboardStageTime.text(lang);
    let line = |r: &StageTime| {
        format!(
            "{}: {} {}, {} {}",
            stage_name(&r.stage_id),
            T::DashboardAverage.text(lang),
            days_text(Some(r.average), lang),
            T::DashboardMedian.text(lang),
            days_text(Some(r.median), lang)
        )
    };
    let desc = rows.iter().map(&line).collect::<Vec<_>>().join("; ");
    view! {
        <figure class="chart">
            <svg role="img" viewBox=format!("0 0 {CHART_W} {height}") width="100%" data-testid="chart-stage-time">
                <title>{title}</title>
                <desc>{desc}</desc>
                {rows.iter().enumerate().map(|(i, r)| {
                    let y = i * BAR_H + 4;
                    let w = ratio(r.average, max) * span;
                    let m = LABEL_W as f64 + ratio(r.median, max) * span;
                    view! {
                        <g>
                            <title>{line(r)}</title>
                            <text x="0" y=y + 16 font-size="13">{stage_name(&r.stage_id)}</text>
                            <rect x=LABEL_W y=y width=format!("{w:.1}") height=BAR_H - 8 class="bar-total" />
                            <rect x=format!("{:.1}", m - 1.5) y=y - 2 width="3" height=BAR_H - 4 class="tick-median" />
                            <text x=format!("{:.1}", LABEL_W as f64 + w.max(m - LABEL_W as f64) + 6.0) y=y + 15 font-size="12">
                                {days_text(Some(r.average), lang)}
                            </text>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption>
                {title} " — " <span class="legend-average">{T::DashboardAverage.text(lang)}</span> " · "
                <span class="legend-median">{T::DashboardMedian.text(lang)}</span>
            </figcaption>
        </figure>
        <table class="list">
            <thead><tr>
                <th>{T::Stage.text(lang)}</th>
                <th class="num">{T::DashboardStays.text(lang)}</th>
                <th class="num">{T::DashboardAverage.text(lang)}</th>
                <th class="num">{T::DashboardMedian.text(lang)}</th>
            </tr></thead>
            <tbody>
                {rows.iter().map(|r| view! {
                    <tr data-stage=r.stage_id.clone()>
                        <td>{stage_name(&r.stage_id)}</td>
                        <td class="num">{format_integer(r.stays)}</td>
                        <td class="num">{days_text(Some(r.average), lang)}</td>
                        <td class="num">{days_text(Some(r.median), lang)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

const BAR_H: usize = 26;
const LABEL_W: usize = 120;
const CHART_W: usize = 640;

/// Open pipeline per stage in one currency: the bar is the value, the
/// darker inner bar its probability-weighted part.
#[component]
fn StageChart(
    rows: Vec<StageFigure>,
    currency: String,
    stage_name: impl Fn(&str) -> String + 'static,
) -> impl IntoView {
    let lang = crate::ui::lang();
    let max = rows.iter().map(|r| r.amount).max().unwrap_or_default();
    let height = (rows.len().max(1)) * BAR_H + 10;
    let span = (CHART_W - LABEL_W - 110) as f64;
    let title = format!("{} ({currency})", T::DashboardPipeline.text(lang));
    let desc = rows
        .iter()
        .map(|r| {
            format!(
                "{}: {} / {} {}",
                stage_name(&r.stage_id),
                money(r.amount, &currency, lang),
                T::Weighted.text(lang),
                money(r.weighted, &currency, lang)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    view! {
        <figure class="chart">
            <svg role="img" viewBox=format!("0 0 {CHART_W} {height}") width="100%" data-testid=format!("chart-pipeline-{currency}")>
                <title>{title.clone()}</title>
                <desc>{desc}</desc>
                {rows.iter().enumerate().map(|(i, r)| {
                    let y = i * BAR_H + 4;
                    let left = LABEL_W as f64;
                    let w = ratio(r.amount, max) * span;
                    let ww = ratio(r.weighted, max) * span;
                    let name = stage_name(&r.stage_id);
                    let tip = format!("{name}: {} ({} {}), {} {}", money(r.amount, &currency, lang), format_integer(r.count), T::CountSuffix.text(lang), T::Weighted.text(lang), money(r.weighted, &currency, lang));
                    view! {
                        <g>
                            <title>{tip}</title>
                            <text x="0" y=y + 16 font-size="13">{name}</text>
                            // Centred, so the stages read as a funnel.
                            <rect x=format!("{:.1}", left + (span - w) / 2.0) y=y width=format!("{w:.1}") height=BAR_H - 8 class="bar-total" />
                            <rect x=format!("{:.1}", left + (span - ww) / 2.0) y=y + 5 width=format!("{ww:.1}") height=BAR_H - 18 class="bar-weighted" />
                            <text x=format!("{:.1}", left + (span + w) / 2.0 + 6.0) y=y + 15 font-size="12">{compact_amount(r.amount, &currency, lang)}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption>{title}</figcaption>
        </figure>
        <table class="list">
            <thead><tr>
                <th>{T::Stage.text(lang)}</th>
                <th class="num">{T::Count.text(lang)}</th>
                <th class="num">{T::Amount.text(lang)}</th>
                <th class="num">{T::Weighted.text(lang)}</th>
            </tr></thead>
            <tbody>
                {rows.iter().map(|r| view! {
                    <tr data-stage=r.stage_id.clone()>
                        <td>{stage_name(&r.stage_id)}</td>
                        <td class="num">{format_integer(r.count)}</td>
                        <td class="num">{money(r.amount, &r.currency, lang)}</td>
                        <td class="num">{money(r.weighted, &r.currency, lang)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Twelve months back (won, solid bars) and twelve ahead (weighted forecast,
/// outlined bars) in one currency.
#[component]
fn ForecastChart(rows: Vec<MonthFigure>, currency: String) -> impl IntoView {
    let lang = crate::ui::lang();
    let max = rows.iter().map(|m| m.won.max(m.weighted)).max().unwrap_or_default();
    let slot = 26usize;
    let height = 180usize;
    let width = rows.len().max(1) * slot + 20;
    let title = format!("{} ({currency})", T::DashboardForecast.text(lang));
    let desc = rows
        .iter()
        .map(|m| {
            format!(
                "{}: {} {}, {} {}",
                month_label(m.month, lang),
                T::DashboardWon.text(lang),
                money(m.won, &currency, lang),
                T::DashboardExpected.text(lang),
                money(m.weighted, &currency, lang)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let forecast_line = rows
        .iter()
        .enumerate()
        .filter(|(_, m)| m.won.is_zero() && !m.weighted.is_zero())
        .map(|(i, m)| {
            let x = (10 + i * slot) as f64 + (slot - 6) as f64 / 2.0;
            let y = height as f64 - ratio(m.weighted, max) * (height as f64 - 10.0);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <figure class="chart">
            <svg role="img" viewBox=format!("0 0 {width} {}", height + 24) width="100%" data-testid=format!("chart-forecast-{currency}")>
                <title>{title.clone()}</title>
                <desc>{desc}</desc>
                {rows.iter().enumerate().map(|(i, m)| {
                    let x = 10 + i * slot;
                    let won = m.won > Decimal::ZERO;
                    let value = if won { m.won } else { m.weighted };
                    let h = ratio(value, max) * (height as f64 - 10.0);
                    let class = if won { "bar-won" } else { "bar-forecast" };
                    let what = if won { T::DashboardWon } else { T::DashboardExpected };
                    let tip = format!("{}: {} {}", month_label(m.month, lang), what.text(lang), money(value, &currency, lang));
                    view! {
                        <g>
                            <title>{tip}</title>
                            <rect x=x y=format!("{:.1}", height as f64 - h) width=slot - 6 height=format!("{h:.1}") class=class />
                            <text x=x y=height + 16 font-size="10">{month_label(m.month, lang)}</text>
                        </g>
                    }
                }).collect_view()}
                // The weighted forecast as a line over the months ahead.
                <polyline class="line-forecast" fill="none" points=forecast_line />
            </svg>
            <figcaption>
                {title} " — " <span class="legend-won">{T::DashboardWon.text(lang)}</span> " · "
                <span class="legend-forecast">{T::DashboardExpected.text(lang)}</span>
            </figcaption>
        </figure>
        <table class="list">
            <thead><tr>
                <th>{T::DashboardMonth.text(lang)}</th>
                <th class="num">{T::DashboardWon.text(lang)}</th>
                <th class="num">{T::DashboardExpected.text(lang)}</th>
            </tr></thead>
            <tbody>
                {rows.iter().map(|m| view! {
                    <tr data-month=m.month.to_string()>
                        <td>{month_label(m.month, lang)}</td>
                        <td class="num">{money(m.won, &m.currency, lang)}</td>
                        <td class="num">{money(m.weighted, &m.currency, lang)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
