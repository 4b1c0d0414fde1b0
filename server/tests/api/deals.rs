//! Deals (영업기회) through their server functions: the stage rules on every
//! path that changes a stage (create, edit form, board move), the stage
//! history, the pipeline board and its trigger-kept totals in two currencies,
//! who sees and changes which deal, bad input, optimistic locking, activities
//! and the audit trail.

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::http::StatusCode;
use base64::Engine;
use chrono::{Datelike, Duration, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::helpers::*;
use app::deals::{Board, DealDetail};
use app::error::AppError;
use app::i18n::T;

// --- small helpers

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A date `days` from today, as a date input sends it.
fn in_days(days: i64) -> String {
    (today() + Duration::days(days)).to_string()
}

fn in_months(months: u32) -> String {
    today().checked_add_months(Months::new(months)).expect("date").to_string()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn borrowed(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// `base` with `changes` applied (a change replaces the field or adds it).
fn with(base: &[(&str, &str)], changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = owned(base);
    for (k, v) in changes {
        match out.iter_mut().find(|(f, _)| f == k) {
            Some(slot) => slot.1 = v.to_string(),
            None => out.push((k.to_string(), v.to_string())),
        }
    }
    out
}

/// The edit form as the deal screen fills it from the stored deal (an
/// unchanged stage default shown empty, as `DealForm::from_deal` does), with
/// `changes` applied, and the version it was read at.
async fn edit_form(app: &TestApp, id: Uuid, changes: &[(&str, &str)]) -> (i32, Vec<(String, String)>) {
    #[allow(clippy::type_complexity)]
    let row: (i32, String, String, String, String, String, String, String, String, String, String) = sqlx::query_as(
        "select d.version, d.name, d.account_id::text, d.stage_id, coalesce(d.amount::text, ''), d.currency,
                case when d.probability = s.default_probability then '' else d.probability::text end,
                coalesce(d.expected_close_date::text, ''), d.owner_id::text, coalesce(d.source, ''),
                coalesce(d.lost_reason, '')
         from deals d join stages s on s.id = d.stage_id where d.id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .expect("deal for the edit form");
    let base = [
        ("name", row.1.as_str()),
        ("account_id", row.2.as_str()),
        ("stage_id", row.3.as_str()),
        ("amount", row.4.as_str()),
        ("currency", row.5.as_str()),
        ("probability", row.6.as_str()),
        ("expected_close_date", row.7.as_str()),
        ("owner_id", row.8.as_str()),
        ("source", row.9.as_str()),
        ("lost_reason", row.10.as_str()),
    ];
    (row.0, with(&base, changes))
}

/// Saves the edit form of the deal's current version with `changes`.
async fn edit(app: &TestApp, who: &Client<'_>, id: Uuid, changes: &[(&str, &str)]) -> Resp {
    let (version, form) = edit_form(app, id, changes).await;
    who.update_deal(id, version, &borrowed(&form)).await
}

/// Moves the deal from its current version, as the board does.
async fn move_to(app: &TestApp, who: &Client<'_>, id: Uuid, stage: &str) -> Resp {
    who.move_deal(id, app.version("deals", id).await, stage).await
}

/// A complete create form on `account`; `changes` override it.
fn deal_form(account: Uuid, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let account = account.to_string();
    let close = in_days(30);
    with(
        &[
            ("name", "Azure 전환 사업"),
            ("account_id", &account),
            ("stage_id", "proposal"),
            ("amount", "12000000"),
            ("currency", "KRW"),
            ("probability", ""),
            ("expected_close_date", &close),
            ("owner_id", ""),
            ("source", ""),
            ("lost_reason", ""),
        ],
        changes,
    )
}

async fn new_deal(who: &Client<'_>, account: Uuid, changes: &[(&str, &str)]) -> Uuid {
    who.create_deal(&borrowed(&deal_form(account, changes))).await
}

async fn try_new_deal(who: &Client<'_>, account: Uuid, changes: &[(&str, &str)]) -> Resp {
    who.try_create_deal(&borrowed(&deal_form(account, changes))).await
}

async fn stage_of(app: &TestApp, id: Uuid) -> (String, i32) {
    let row = app.row("deals", id).await;
    (row["stage_id"].as_str().expect("stage").to_string(), row["probability"].as_i64().expect("probability") as i32)
}

/// The one validation error a refused stage change answers with.
#[track_caller]
fn rule_error(res: &Resp) -> (String, T) {
    let errors = res.field_errors();
    assert_eq!(errors.len(), 1, "one error: {errors:?}");
    errors.into_iter().next().expect("one error")
}

/// (stage, currency) → (count, sum, weighted).
type Totals = BTreeMap<(String, String), (i64, Decimal, Decimal)>;

fn board_totals(board: &Board) -> Totals {
    let mut out = Totals::new();
    for column in &board.columns {
        let currencies: Vec<&str> = column.totals.iter().map(|t| t.currency.as_str()).collect();
        let mut unique = currencies.clone();
        unique.dedup();
        assert_eq!(unique, currencies, "{}: one total per currency", column.stage.id);
        assert_eq!(column.count, column.totals.iter().map(|t| t.count).sum::<i64>(), "{}: count", column.stage.id);
        if column.count <= app::deals::CARDS_PER_COLUMN {
            assert_eq!(column.cards.len() as i64, column.count, "{}: every card shown", column.stage.id);
        }
        for t in &column.totals {
            out.insert((column.stage.id.clone(), t.currency.clone()), (t.count, t.sum, t.weighted));
        }
    }
    out
}

/// The same totals computed directly from the live deals.
async fn sql_totals(app: &TestApp, owner: Option<Uuid>, currency: Option<&str>) -> Totals {
    let rows: Vec<(String, String, i64, Decimal, Decimal)> = sqlx::query_as(
        "select stage_id, currency, count(*), coalesce(sum(amount), 0), round(coalesce(sum(amount * probability / 100), 0), 2)
         from deals where deleted_at is null and ($1::uuid is null or owner_id = $1) and ($2::text is null or currency = $2)
         group by stage_id, currency",
    )
    .bind(owner)
    .bind(currency)
    .fetch_all(&app.pool)
    .await
    .expect("sql totals");
    rows.into_iter().map(|(s, c, n, sum, w)| ((s, c), (n, sum, w))).collect()
}

fn key(stage: &str, currency: &str) -> (String, String) {
    (stage.to_string(), currency.to_string())
}

fn card_ids(board: &Board) -> Vec<Uuid> {
    board.columns.iter().flat_map(|c| c.cards.iter().map(|card| card.id)).collect()
}

fn column<'b>(board: &'b Board, stage: &str) -> &'b app::deals::BoardColumn {
    board.columns.iter().find(|c| c.stage.id == stage).unwrap_or_else(|| panic!("no {stage} column"))
}

// --- creating

#[tokio::test]
async fn create_takes_the_stage_default_probability_and_writes_one_history_and_one_audit_row() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let close = in_days(30);

    let res = try_new_deal(&rep, account, &[("amount", "₩12,000,000"), ("source", "소개")]).await;
    let id: String = res.ok();
    let id: Uuid = id.parse().expect("the new id");
    assert_eq!(res.location(), Some(format!("/deals/{id}?notice=created").as_str()));

    let res = rep.get_deal(id).await;
    // Amounts travel as exact decimal strings.
    assert!(res.body.contains(r#""amount":"12000000""#), "{}", res.body);
    let detail: DealDetail = res.ok();
    let d = &detail.deal;
    assert_eq!(d.name, "Azure 전환 사업");
    assert_eq!((d.account_id, d.account_name.as_str()), (account, "구름클라우드"));
    assert_eq!((d.stage_id.as_str(), d.probability), ("proposal", 40));
    assert_eq!((d.amount, d.currency.as_str()), (Some(dec("12000000")), "KRW"));
    assert_eq!(d.expected_close_date.map(|x| x.to_string()), Some(close));
    assert_eq!((d.owner.id, d.owner.display_name.as_str()), (rep.id, "김민준"));
    assert_eq!((d.source.as_deref(), d.lost_reason.as_deref()), (Some("소개"), None));
    assert_eq!((d.version, d.updated_by.as_str()), (1, "김민준"));
    assert!(d.deleted_at.is_none() && d.last_activity_at.is_none());
    assert!(detail.can.edit && !detail.can.restore && !detail.can.reassign);
    assert_eq!(
        detail.stages.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
    );
    assert_eq!(detail.stages.iter().map(|s| s.default_probability).collect::<Vec<_>>(), [10, 20, 40, 70, 100, 0]);

    assert_eq!(detail.stage_history.len(), 1);
    let span = &detail.stage_history[0];
    assert_eq!(
        (span.from_stage.as_deref(), span.to_stage.as_str(), span.changed_by.as_str()),
        (None, "proposal", "김민준")
    );
    assert_eq!(app.stage_history(id).await, [(None, "proposal".to_string(), rep.id)]);

    let audit = app.audit(id).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!((audit[0].entity.as_str(), audit[0].action.as_str(), audit[0].actor_id), ("deal", "create", rep.id));
    assert!(audit[0].before.is_none());
    assert_eq!(audit[0].after.as_ref().expect("after")["stage_id"], "proposal");
    assert_eq!(detail.history.len(), 1);
    assert_eq!((detail.history[0].action.code(), detail.history[0].actor.as_str()), ("create", "김민준"));

    // An explicit probability overrides the default; USD keeps its cents.
    let usd = new_deal(
        &rep,
        account,
        &[("name", "백업 서비스"), ("amount", "$1,234.50"), ("currency", "usd"), ("probability", "35%")],
    )
    .await;
    let res = rep.get_deal(usd).await;
    assert!(res.body.contains(r#""amount":"1234.5""#), "{}", res.body);
    let d = res.ok::<DealDetail>().deal;
    assert_eq!((d.amount, d.currency.as_str(), d.probability), (Some(dec("1234.50")), "USD", 35));

    // No amount and no date are fine on an open stage.
    let bare = new_deal(
        &rep,
        account,
        &[("name", "초기 문의"), ("stage_id", "lead"), ("amount", ""), ("expected_close_date", "")],
    )
    .await;
    let d = rep.deal(bare).await.deal;
    assert_eq!((d.amount, d.expected_close_date, d.probability), (None, None, 10));

    let list = rep.list_deals(&[]).await;
    assert_eq!(
        list.page.rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["Azure 전환 사업", "백업 서비스", "초기 문의"]
    );
    assert_eq!(list.stages.len(), 6);
    let stages: Vec<app::deals::StageInfo> = rep.post_fn("/api/deals/stages", &[]).await.ok();
    assert_eq!(stages, list.stages);
}

// --- the stage rules, on every path

#[tokio::test]
async fn stage_rules_hold_on_create_and_a_refusal_writes_nothing() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let close = in_days(10);
    let before = app.deal_fingerprint().await;
    let accounts_before = app.fingerprint().await;

    let cases: Vec<(Vec<(&str, &str)>, (&str, T))> = vec![
        (
            vec![("stage_id", "won"), ("amount", ""), ("expected_close_date", &close)],
            ("amount", T::WonNeedsAmountAndDate),
        ),
        (
            vec![("stage_id", "won"), ("amount", "5000000"), ("expected_close_date", "")],
            ("amount", T::WonNeedsAmountAndDate),
        ),
        (vec![("stage_id", "won"), ("amount", ""), ("expected_close_date", "")], ("amount", T::WonNeedsAmountAndDate)),
        (vec![("stage_id", "lost"), ("lost_reason", "")], ("lost_reason", T::LostNeedsReason)),
        (vec![("stage_id", "lost"), ("lost_reason", "   ")], ("lost_reason", T::LostNeedsReason)),
    ];
    for who in [&rep, &manager] {
        for (changes, (field, message)) in &cases {
            let res = try_new_deal(who, account, changes).await;
            assert_eq!(rule_error(&res), (field.to_string(), *message), "{}: {changes:?}", who.name);
            let submitted = res.error().submitted().cloned().unwrap_or_default();
            assert!(submitted.contains(&("name".into(), "Azure 전환 사업".into())), "input kept: {submitted:?}");
        }
    }
    assert_eq!(app.deal_fingerprint().await, before, "refused creates write nothing");
    assert_eq!(app.fingerprint().await, accounts_before);

    // Complete, they are accepted, with the closed stages' probabilities.
    let won =
        new_deal(&rep, account, &[("stage_id", "won"), ("amount", "5000000"), ("expected_close_date", &close)]).await;
    assert_eq!(stage_of(&app, won).await, ("won".into(), 100));
    assert_eq!(app.stage_history(won).await, [(None, "won".to_string(), rep.id)]);
    let lost = new_deal(&rep, account, &[("stage_id", "lost"), ("lost_reason", "가격 경쟁에서 밀림")]).await;
    assert_eq!(stage_of(&app, lost).await, ("lost".into(), 0));
    assert_eq!(rep.deal(lost).await.deal.lost_reason.as_deref(), Some("가격 경쟁에서 밀림"));
}

#[tokio::test]
async fn stage_rules_hold_on_the_edit_form() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let id = new_deal(&rep, account, &[("amount", ""), ("expected_close_date", "")]).await;
    let close = in_days(20);

    let before = app.deal_fingerprint().await;
    let refused: Vec<(Vec<(&str, &str)>, (&str, T))> = vec![
        (vec![("stage_id", "won")], ("amount", T::WonNeedsAmountAndDate)),
        (vec![("stage_id", "won"), ("amount", "50000000")], ("amount", T::WonNeedsAmountAndDate)),
        (vec![("stage_id", "won"), ("expected_close_date", &close)], ("amount", T::WonNeedsAmountAndDate)),
        (vec![("stage_id", "lost")], ("lost_reason", T::LostNeedsReason)),
        (vec![("stage_id", "lost"), ("lost_reason", " ")], ("lost_reason", T::LostNeedsReason)),
    ];
    for (changes, (field, message)) in &refused {
        let res = edit(&app, &rep, id, changes).await;
        assert_eq!(rule_error(&res), (field.to_string(), *message), "{changes:?}");
        assert!(res.error().submitted().is_some_and(|s| s.contains(&("stage_id".into(), changes[0].1.into()))));
    }
    assert_eq!(app.deal_fingerprint().await, before, "refused edits write nothing");

    // Won with an amount and a date: the form left the probability empty, so it takes the new default.
    edit(&app, &rep, id, &[("stage_id", "won"), ("amount", "50,000,000"), ("expected_close_date", &close)])
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(stage_of(&app, id).await, ("won".into(), 100));
    assert_eq!(app.version("deals", id).await, 2);

    // Closed: a rep cannot reopen it, nor turn it into a lost deal; the won rule still holds.
    let before = app.deal_fingerprint().await;
    for (changes, (field, message)) in [
        (vec![("stage_id", "negotiation")], ("stage_id", T::OnlyManagerReopens)),
        (vec![("stage_id", "lead")], ("stage_id", T::OnlyManagerReopens)),
        (vec![("stage_id", "lost"), ("lost_reason", "예산 삭감")], ("stage_id", T::OnlyManagerReopens)),
        (vec![("amount", "")], ("amount", T::WonNeedsAmountAndDate)),
        (vec![("expected_close_date", "")], ("amount", T::WonNeedsAmountAndDate)),
    ] {
        let res = edit(&app, &rep, id, &changes).await;
        assert_eq!(rule_error(&res), (field.to_string(), message), "{changes:?}");
    }
    assert_eq!(app.deal_fingerprint().await, before, "refused edits write nothing");

    // Editing a closed deal without changing its stage is fine and writes no history.
    edit(&app, &rep, id, &[("name", "Azure 전환 사업 (계약)")]).await.assert_status(StatusCode::OK);
    assert_eq!(app.stage_history(id).await.len(), 2);

    // A manager reopens it, then closes it as lost.
    edit(&app, &manager, id, &[("stage_id", "negotiation")]).await.assert_status(StatusCode::OK);
    assert_eq!(stage_of(&app, id).await, ("negotiation".into(), 70));
    edit(&app, &manager, id, &[("stage_id", "lost"), ("lost_reason", "가격")]).await.assert_status(StatusCode::OK);
    assert_eq!(stage_of(&app, id).await, ("lost".into(), 0));
    // A lost deal is closed as well.
    let res = edit(&app, &rep, id, &[("stage_id", "proposal")]).await;
    assert_eq!(rule_error(&res), ("stage_id".into(), T::OnlyManagerReopens));
    // And a manager cannot close it as lost without a reason either.
    let res = edit(&app, &manager, id, &[("stage_id", "lost"), ("lost_reason", "")]).await;
    assert_eq!(rule_error(&res), ("lost_reason".into(), T::LostNeedsReason));

    assert_eq!(
        app.stage_history(id).await,
        [
            (None, "proposal".to_string(), rep.id),
            (Some("proposal".to_string()), "won".to_string(), rep.id),
            (Some("won".to_string()), "negotiation".to_string(), manager.id),
            (Some("negotiation".to_string()), "lost".to_string(), manager.id),
        ]
    );
}

#[tokio::test]
async fn stage_rules_hold_on_the_board_move() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let id = new_deal(&rep, account, &[("stage_id", "lead"), ("amount", ""), ("expected_close_date", "")]).await;

    let before = app.deal_fingerprint().await;
    let res = move_to(&app, &rep, id, "won").await;
    assert_eq!(rule_error(&res), (String::new(), T::WonNeedsAmountAndDate));
    let res = move_to(&app, &manager, id, "won").await;
    assert_eq!(rule_error(&res), (String::new(), T::WonNeedsAmountAndDate));
    let res = move_to(&app, &rep, id, "lost").await;
    assert_eq!(rule_error(&res), (String::new(), T::LostNeedsReason));
    assert_eq!(app.deal_fingerprint().await, before, "refused moves write nothing");

    // An open move takes the new stage's default probability, even over an override.
    edit(&app, &rep, id, &[("probability", "35")]).await.assert_status(StatusCode::OK);
    move_to(&app, &rep, id, "qualified").await.assert_status(StatusCode::OK);
    assert_eq!(stage_of(&app, id).await, ("qualified".into(), 20));

    // With an amount but no date it is still refused.
    edit(&app, &rep, id, &[("amount", "30000000")]).await.assert_status(StatusCode::OK);
    let before = app.deal_fingerprint().await;
    let res = move_to(&app, &rep, id, "won").await;
    assert_eq!(rule_error(&res), (String::new(), T::WonNeedsAmountAndDate));
    assert_eq!(app.deal_fingerprint().await, before);

    let close = in_days(5);
    edit(&app, &rep, id, &[("expected_close_date", &close)]).await.assert_status(StatusCode::OK);
    move_to(&app, &rep, id, "won").await.assert_status(StatusCode::OK);
    assert_eq!(stage_of(&app, id).await, ("won".into(), 100));

    // Closed: only a manager moves it out.
    let before = app.deal_fingerprint().await;
    for stage in ["negotiation", "lead", "lost"] {
        let res = move_to(&app, &rep, id, stage).await;
        assert_eq!(rule_error(&res), (String::new(), T::OnlyManagerReopens), "won → {stage}");
    }
    assert_eq!(app.deal_fingerprint().await, before, "refused moves write nothing");
    move_to(&app, &manager, id, "proposal").await.assert_status(StatusCode::OK);
    assert_eq!(stage_of(&app, id).await, ("proposal".into(), 40));

    // Lost through the board once a reason is on record; then closed again for the rep.
    edit(&app, &rep, id, &[("lost_reason", "경쟁사 선택")]).await.assert_status(StatusCode::OK);
    move_to(&app, &rep, id, "lost").await.assert_status(StatusCode::OK);
    assert_eq!(stage_of(&app, id).await, ("lost".into(), 0));
    let before = app.deal_fingerprint().await;
    let res = move_to(&app, &rep, id, "proposal").await;
    assert_eq!(rule_error(&res), (String::new(), T::OnlyManagerReopens));
    assert_eq!(app.deal_fingerprint().await, before);

    // Moving to the stage it is already in changes nothing at all.
    move_to(&app, &rep, id, "lost").await.assert_status(StatusCode::OK);
    assert_eq!(app.deal_fingerprint().await, before, "a move to the same stage writes nothing");

    let stages: Vec<(Option<String>, String)> =
        app.stage_history(id).await.into_iter().map(|(f, t, _)| (f, t)).collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        stages,
        [
            (None, s("lead")),
            (Some(s("lead")), s("qualified")),
            (Some(s("qualified")), s("won")),
            (Some(s("won")), s("proposal")),
            (Some(s("proposal")), s("lost")),
        ]
    );
}

#[tokio::test]
async fn the_no_script_stage_selector_goes_back_to_a_same_site_page_with_its_confirmation_or_error() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let id = new_deal(&rep, account, &[]).await;
    let board = format!("{ORIGIN}/deals/board");
    // As a browser without JavaScript posts the board's stage selector.
    let post = |version: i32, stage: &'static str, back: &'static str| {
        let (rep, board) = (&rep, board.clone());
        let body =
            fields(&[("id", &id.to_string()), ("version", &version.to_string()), ("stage", stage), ("back", back)]);
        async move {
            rep.post_with("/api/deals/move", &body, &[("origin", ORIGIN), ("accept", "text/html"), ("referer", &board)])
                .await
        }
    };

    let res = post(1, "negotiation", "/deals/board?owner=").await;
    res.assert_status(StatusCode::FOUND);
    assert_eq!(res.location(), Some("/deals/board?owner="));
    assert_eq!(stage_of(&app, id).await, ("negotiation".into(), 70));

    // Another site is never a destination: the move is refused, with the
    // reason, back on the page the browser came from, and nothing changes.
    let before = app.deal_fingerprint().await;
    for back in [
        "//evil.example/deals",
        "//evil",
        "https://evil.example/",
        "https://evil",
        "/\\evil.example",
        "/%0d%0aSet-Cookie",
        "/\t/evil.example",
    ] {
        let res = post(2, "qualified", back).await;
        res.assert_status(StatusCode::FOUND);
        let location = res.location().unwrap_or_default();
        assert!(location.starts_with(&board) && !location.contains("evil"), "{back}: redirected to {location}");
        let location = url::Url::parse(location).expect("absolute URL");
        assert_eq!(kept_refusal(&app, &location).await, AppError::field("back", T::InvalidReturnAddress), "{back}");
        assert_eq!(app.deal_fingerprint().await, before, "{back}: nothing changed");
    }
    // The app's own client (JSON) gets the same refusal.
    let body =
        fields(&[("id", &id.to_string()), ("version", "2"), ("stage", "qualified"), ("back", "/\\evil.example")]);
    let res = rep.post_fn("/api/deals/move", &body).await;
    assert_eq!(res.field_errors(), vec![("back".to_string(), T::InvalidReturnAddress)]);
    assert_eq!(app.deal_fingerprint().await, before);
    assert_eq!(app.version("deals", id).await, 2);

    // A refused move comes back to the board with the reason, and changes nothing.
    let before = app.deal_fingerprint().await;
    let res = post(2, "lost", "/deals/board").await;
    res.assert_status(StatusCode::FOUND);
    let location = url::Url::parse(res.location().expect("a redirect")).expect("absolute URL");
    assert!(location.as_str().starts_with(&board), "{location}");
    assert_eq!(kept_refusal(&app, &location).await, AppError::field("", T::LostNeedsReason));
    assert_eq!(app.deal_fingerprint().await, before);
}

/// The refusal a no-JavaScript redirect leads back with: kept on the server
/// behind the one-time id in the URL (server/src/echo.rs), never in the URL.
async fn kept_refusal(app: &TestApp, location: &url::Url) -> AppError {
    let echo = location.query_pairs().find(|(k, _)| k == "__echo").map(|(_, v)| v.into_owned()).expect("__echo");
    assert!(location.query_pairs().all(|(k, _)| k != "__err"), "no error in the URL: {location}");
    let (encoded,): (String,) = sqlx::query_as("select error from form_echoes where id = $1")
        .bind(&echo)
        .fetch_one(&app.pool)
        .await
        .expect("the kept refusal");
    let json = base64::engine::general_purpose::URL_SAFE.decode(&encoded).expect("base64");
    serde_json::from_slice(&json).expect("an AppError")
}

// --- the stage history

#[tokio::test]
async fn every_stage_change_writes_exactly_one_history_row_in_the_same_transaction() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;

    /// The newest history row was written with the deal's change: same `now()`.
    async fn same_transaction(app: &TestApp, id: Uuid) {
        let (same,): (bool,) = sqlx::query_as(
            "select h.changed_at = d.stage_changed_at and d.stage_changed_at = d.updated_at
             from deal_stage_history h join deals d on d.id = h.deal_id where h.deal_id = $1 order by h.id desc limit 1",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("history");
        assert!(same, "the history row and the deal change share one transaction");
    }

    let id = new_deal(&rep, account, &[("stage_id", "lead")]).await;
    assert_eq!(app.stage_history(id).await, [(None, "lead".to_string(), rep.id)]);
    same_transaction(&app, id).await;
    let stage_changed_at = app.row("deals", id).await["stage_changed_at"].clone();

    // An edit without a stage change: no row, the stage clock keeps running.
    edit(&app, &rep, id, &[("name", "이름만 바꿈"), ("amount", "13000000")]).await.assert_status(StatusCode::OK);
    assert_eq!(app.stage_history(id).await.len(), 1);
    assert_eq!(app.row("deals", id).await["stage_changed_at"], stage_changed_at);

    // An edit with a stage change: one row.
    edit(&app, &rep, id, &[("stage_id", "qualified")]).await.assert_status(StatusCode::OK);
    assert_eq!(app.stage_history(id).await.len(), 2);
    assert_eq!(app.stage_history(id).await[1], (Some("lead".to_string()), "qualified".to_string(), rep.id));
    same_transaction(&app, id).await;

    // A move: one row, by whoever moved it.
    move_to(&app, &manager, id, "negotiation").await.assert_status(StatusCode::OK);
    assert_eq!(app.stage_history(id).await.len(), 3);
    assert_eq!(app.stage_history(id).await[2], (Some("qualified".to_string()), "negotiation".to_string(), manager.id));
    same_transaction(&app, id).await;

    // A refused move, a stale move, a delete and a restore: none.
    move_to(&app, &rep, id, "lost").await.assert_status(StatusCode::BAD_REQUEST);
    rep.move_deal(id, 1, "proposal").await.assert_status(StatusCode::CONFLICT);
    rep.delete_deal(id, app.version("deals", id).await).await.assert_status(StatusCode::OK);
    manager.restore_deal(id).await.assert_status(StatusCode::OK);
    assert_eq!(app.stage_history(id).await.len(), 3);

    // The detail page shows the same history, oldest first, with names and days.
    let detail = rep.deal(id).await;
    let spans: Vec<(Option<&str>, &str, &str)> = detail
        .stage_history
        .iter()
        .map(|s| (s.from_stage.as_deref(), s.to_stage.as_str(), s.changed_by.as_str()))
        .collect();
    assert_eq!(
        spans,
        [(None, "lead", "김민준"), (Some("lead"), "qualified", "김민준"), (Some("qualified"), "negotiation", "박지훈")]
    );
    assert!(detail.stage_history.windows(2).all(|w| w[0].changed_at <= w[1].changed_at));
    assert!(detail.stage_history.iter().all(|s| s.days == 0), "all today: {:?}", detail.stage_history);
}

#[tokio::test]
async fn simultaneous_moves_from_the_same_version_write_one_change() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let id = new_deal(&rep, account, &[]).await;

    let (a, b) = tokio::join!(rep.move_deal(id, 1, "negotiation"), manager.move_deal(id, 1, "qualified"));
    let (winner_stage, loser, winner) = match (a.status, b.status) {
        (StatusCode::OK, StatusCode::CONFLICT) => ("negotiation", b, "김민준"),
        (StatusCode::CONFLICT, StatusCode::OK) => ("qualified", a, "박지훈"),
        other => panic!("expected one move and one conflict, got {other:?}: {} / {}", a.body, b.body),
    };
    assert!(matches!(loser.error(), AppError::Conflict { changed_by, .. } if changed_by == winner));
    assert_eq!(stage_of(&app, id).await.0, winner_stage);
    assert_eq!(app.stage_history(id).await.len(), 2);
    assert_eq!(app.version("deals", id).await, 2);
    let actions: Vec<String> = app.audit(id).await.into_iter().map(|a| a.action).collect();
    assert_eq!(actions, ["create", "stage"]);
    assert_eq!(board_totals(&manager.board(&[]).await), sql_totals(&app, None, None).await);
}

// --- the board

#[tokio::test]
async fn board_totals_keep_currencies_apart_and_follow_every_change() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;

    let a = new_deal(&rep, account, &[("name", "A"), ("amount", "12,000,000")]).await;
    let b = new_deal(&rep, account, &[("name", "B"), ("amount", "12345"), ("probability", "15")]).await;
    let c = new_deal(&rep, account, &[("name", "C"), ("amount", "1234.56"), ("currency", "USD")]).await;
    let d =
        new_deal(&rep, account, &[("name", "D"), ("amount", "100"), ("currency", "USD"), ("stage_id", "negotiation")])
            .await;
    let e = new_deal(&manager, account, &[("name", "E"), ("amount", "")]).await;

    let check = |expected: Vec<((&str, &str), (i64, &str, &str))>| {
        let expected: Totals =
            expected.into_iter().map(|((s, c), (n, sum, w))| (key(s, c), (n, dec(sum), dec(w)))).collect();
        let (app, manager) = (&app, &manager);
        async move {
            let board = manager.board(&[]).await;
            let shown = board_totals(&board);
            assert_eq!(shown, expected, "board totals");
            assert_eq!(shown, sql_totals(app, None, None).await, "board totals = SQL over the live deals");
            board
        }
    };

    let board = check(vec![
        // 12,000,000 × 40% + 12,345 × 15% + nothing: never added to the dollars.
        (("proposal", "KRW"), (3, "12012345", "4801851.75")),
        // 1,234.56 × 40% = 493.824
        (("proposal", "USD"), (1, "1234.56", "493.82")),
        (("negotiation", "USD"), (1, "100", "70")),
    ])
    .await;
    assert!(board.can_move);
    assert_eq!(column(&board, "proposal").count, 4);
    assert_eq!(column(&board, "negotiation").count, 1);
    assert!(column(&board, "won").totals.is_empty() && column(&board, "won").cards.is_empty());
    let proposal_cards: Vec<Uuid> = column(&board, "proposal").cards.iter().map(|c| c.id).collect();
    for id in [a, b, c, e] {
        assert!(proposal_cards.contains(&id));
    }
    let card = column(&board, "negotiation").cards.iter().find(|x| x.id == d).expect("card D");
    assert_eq!((card.amount, card.currency.as_str(), card.probability, card.version), (Some(dec("100")), "USD", 70, 1));

    // A move: the dollars follow, the column without dollars has no dollar total.
    move_to(&app, &rep, c, "negotiation").await.assert_status(StatusCode::OK);
    check(vec![
        (("proposal", "KRW"), (3, "12012345", "4801851.75")),
        // 100 × 70% + 1,234.56 × 70% = 934.192
        (("negotiation", "USD"), (2, "1334.56", "934.19")),
    ])
    .await;

    // An edit of amount and probability.
    edit(&app, &rep, a, &[("amount", "20000000"), ("probability", "50")]).await.assert_status(StatusCode::OK);
    check(vec![
        (("proposal", "KRW"), (3, "20012345", "10001851.75")),
        (("negotiation", "USD"), (2, "1334.56", "934.19")),
    ])
    .await;

    // An edit of the currency moves the deal to the other total.
    edit(&app, &rep, b, &[("amount", "12.34"), ("currency", "USD")]).await.assert_status(StatusCode::OK);
    check(vec![
        (("proposal", "KRW"), (2, "20000000", "10000000")),
        // 12.34 × 15% = 1.851
        (("proposal", "USD"), (1, "12.34", "1.85")),
        (("negotiation", "USD"), (2, "1334.56", "934.19")),
    ])
    .await;

    // A delete and a restore.
    rep.delete_deal(a, app.version("deals", a).await).await.assert_status(StatusCode::OK);
    check(vec![
        (("proposal", "KRW"), (1, "0", "0")),
        (("proposal", "USD"), (1, "12.34", "1.85")),
        (("negotiation", "USD"), (2, "1334.56", "934.19")),
    ])
    .await;
    manager.restore_deal(a).await.assert_status(StatusCode::OK);
    check(vec![
        (("proposal", "KRW"), (2, "20000000", "10000000")),
        (("proposal", "USD"), (1, "12.34", "1.85")),
        (("negotiation", "USD"), (2, "1334.56", "934.19")),
    ])
    .await;

    // Winning: the whole amount is weighted.
    let close = in_days(3);
    edit(&app, &rep, d, &[("stage_id", "won"), ("expected_close_date", &close)]).await.assert_status(StatusCode::OK);
    // The largest amount allowed does not break the sums.
    let big = new_deal(&manager, account, &[("name", "F"), ("amount", "10000000000000"), ("probability", "15")]).await;
    let board = check(vec![
        (("proposal", "KRW"), (3, "10000020000000", "1500010000000")),
        (("proposal", "USD"), (1, "12.34", "1.85")),
        (("negotiation", "USD"), (1, "1234.56", "864.19")),
        (("won", "USD"), (1, "100", "100")),
    ])
    .await;
    assert!(card_ids(&board).contains(&big));

    // A reassignment moves the deal between owners' totals.
    edit(&app, &manager, e, &[("owner_id", &rep.id.to_string()), ("amount", "7")]).await.assert_status(StatusCode::OK);
    let rep_board = rep.board(&[]).await;
    assert_eq!(board_totals(&rep_board), sql_totals(&app, Some(rep.id), None).await);
    assert!(card_ids(&rep_board).contains(&e) && !card_ids(&rep_board).contains(&big));
    assert_eq!(board_totals(&manager.board(&[]).await), sql_totals(&app, None, None).await);
}

#[tokio::test]
async fn board_filters_by_owner_currency_and_close_period() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let lee = app.rep("이서연").await;
    let manager = app.manager("박지훈").await;
    let account = kim.create_account(&[("name", "구름클라우드")]).await;

    let now = today().to_string();
    let later = in_months(8);
    let now_krw = new_deal(&kim, account, &[("name", "이번 달 원화"), ("expected_close_date", &now)]).await;
    let now_usd = new_deal(
        &kim,
        account,
        &[("name", "이번 달 달러"), ("currency", "USD"), ("amount", "5000.25"), ("expected_close_date", &now)],
    )
    .await;
    let later_krw = new_deal(&kim, account, &[("name", "8개월 뒤"), ("expected_close_date", &later)]).await;
    let undated = new_deal(&kim, account, &[("name", "날짜 없음"), ("expected_close_date", "")]).await;
    let lee_deal =
        new_deal(&lee, account, &[("name", "이서연 건"), ("amount", "3000000"), ("expected_close_date", &now)]).await;
    let all = [now_krw, now_usd, later_krw, undated, lee_deal];

    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    let ids = |v: &[Uuid]| sorted(v.to_vec());

    // Everything, for the manager.
    let board = manager.board(&[]).await;
    assert_eq!(sorted(card_ids(&board)), ids(&all));
    assert_eq!(board_totals(&board), sql_totals(&app, None, None).await);

    // One owner.
    let board = manager.board(&[("owner", &lee.id.to_string())]).await;
    assert_eq!(card_ids(&board), [lee_deal]);
    assert_eq!(board_totals(&board), sql_totals(&app, Some(lee.id), None).await);
    let board = manager.board(&[("owner", &kim.id.to_string())]).await;
    assert_eq!(sorted(card_ids(&board)), ids(&[now_krw, now_usd, later_krw, undated]));
    assert_eq!(board_totals(&board), sql_totals(&app, Some(kim.id), None).await);

    // One currency.
    let board = manager.board(&[("currency", "USD")]).await;
    assert_eq!(card_ids(&board), [now_usd]);
    assert_eq!(board_totals(&board), sql_totals(&app, None, Some("USD")).await);
    assert_eq!(board_totals(&board).get(&key("proposal", "USD")), Some(&(1, dec("5000.25"), dec("2000.1"))));
    let board = manager.board(&[("currency", "KRW"), ("owner", &kim.id.to_string())]).await;
    assert_eq!(sorted(card_ids(&board)), ids(&[now_krw, later_krw, undated]));
    assert_eq!(board_totals(&board), sql_totals(&app, Some(kim.id), Some("KRW")).await);

    // Close periods: this month has today's deals, never the one in eight months nor the undated one.
    let board = manager.board(&[("period", "month")]).await;
    assert_eq!(sorted(card_ids(&board)), ids(&[now_krw, now_usd, lee_deal]));
    assert_eq!(
        board_totals(&board),
        BTreeMap::from([
            (key("proposal", "KRW"), (2, dec("15000000"), dec("6000000"))),
            (key("proposal", "USD"), (1, dec("5000.25"), dec("2000.1"))),
        ])
    );
    let board = manager.board(&[("period", "month"), ("owner", &kim.id.to_string()), ("currency", "KRW")]).await;
    assert_eq!(card_ids(&board), [now_krw]);
    assert_eq!(board_totals(&board), BTreeMap::from([(key("proposal", "KRW"), (1, dec("12000000"), dec("4800000")))]));

    let board = manager.board(&[("period", "quarter")]).await;
    assert_eq!(sorted(card_ids(&board)), ids(&[now_krw, now_usd, lee_deal]));
    let board = manager.board(&[("period", "next-quarter")]).await;
    assert!(card_ids(&board).is_empty() && board_totals(&board).is_empty());
    let board = manager.board(&[("period", "year")]).await;
    let later_this_year = today().year() == today().checked_add_months(Months::new(8)).expect("date").year();
    let mut expected = vec![now_krw, now_usd, lee_deal];
    if later_this_year {
        expected.push(later_krw);
    }
    assert_eq!(sorted(card_ids(&board)), sorted(expected));
    // An unknown period means any time.
    assert_eq!(sorted(card_ids(&manager.board(&[("period", "decade")]).await)), ids(&all));

    // A deal closing at the start of next quarter is in "next-quarter" and not in "quarter".
    let t = today();
    let quarter_start = NaiveDate::from_ymd_opt(t.year(), (t.month0() / 3) * 3 + 1, 1).expect("date");
    let next_quarter = quarter_start.checked_add_months(Months::new(3)).expect("date").to_string();
    let nq = new_deal(&lee, account, &[("name", "다음 분기"), ("expected_close_date", &next_quarter)]).await;
    assert_eq!(card_ids(&manager.board(&[("period", "next-quarter")]).await), [nq]);
    assert!(!card_ids(&manager.board(&[("period", "quarter")]).await).contains(&nq));

    // A rep's board is his own, whatever owner he asks for.
    let board = kim.board(&[("owner", &lee.id.to_string())]).await;
    assert_eq!(sorted(card_ids(&board)), ids(&[now_krw, now_usd, later_krw, undated]));
    assert_eq!(board_totals(&board), sql_totals(&app, Some(kim.id), None).await);
    let board = lee.board(&[("period", "month")]).await;
    assert_eq!(card_ids(&board), [lee_deal]);
    assert_eq!(board_totals(&board), BTreeMap::from([(key("proposal", "KRW"), (1, dec("3000000"), dec("1200000")))]));

    // Moving a close date into this month moves the deal's totals with it.
    edit(&app, &kim, later_krw, &[("expected_close_date", &now), ("amount", "1000000")])
        .await
        .assert_status(StatusCode::OK);
    let board = manager.board(&[("period", "month"), ("currency", "KRW")]).await;
    assert_eq!(sorted(card_ids(&board)), ids(&[now_krw, later_krw, lee_deal]));
    assert_eq!(board_totals(&board), BTreeMap::from([(key("proposal", "KRW"), (3, dec("16000000"), dec("6400000")))]));
    assert!(!card_ids(&manager.board(&[("period", "next-quarter")]).await).contains(&later_krw));
}

// --- who sees and changes what

/// The people of the matrix, in the order of the expectation columns.
const WHO: [&str; 7] = ["owning rep", "other rep", "manager", "viewer", "admin", "no-role user", "anonymous"];
//                                    owner other manager viewer admin no-role anonymous
const READ: [u16; 7] = /*         */ [200, 200, 200, 200, 200, 403, 401];
const GET: [u16; 7] = /*          */ [200, 404, 200, 200, 200, 403, 401];
const SEES: [bool; 7] = /*        */ [true, false, true, true, true, false, false];
const CREATE: [u16; 7] = /*       */ [200, 200, 200, 403, 200, 403, 401];
const EDIT: [u16; 7] = /*         */ [200, 404, 200, 403, 200, 403, 401];
const RESTORE: [u16; 7] = /*      */ [403, 403, 200, 403, 200, 403, 401];
const GET_DELETED: [u16; 7] = /*  */ [404, 404, 200, 404, 200, 403, 401];

enum Effect {
    None,
    Audited(Uuid),
    Activity,
}

/// Checks one call's answer: a refusal says why and changes nothing; an
/// allowed change writes exactly what it should.
async fn verdict(app: &TestApp, label: &str, expected: u16, res: &Resp, before: DealFingerprint, effect: Effect) {
    assert_eq!(res.status.as_u16(), expected, "{label}: {}", res.body);
    match expected {
        401 => assert_eq!(res.error(), AppError::Unauthenticated, "{label}"),
        403 => assert_eq!(res.error(), AppError::Forbidden, "{label}"),
        404 => assert_eq!(res.error(), AppError::NotFound, "{label}"),
        _ => {}
    }
    let after = app.deal_fingerprint().await;
    match (expected, effect) {
        (200, Effect::Audited(actor)) => {
            assert_eq!(after.audit_log.0, before.audit_log.0 + 1, "{label}: one audit row");
            let (actor_id,): (Uuid,) = sqlx::query_as("select actor_id from audit_log order by id desc limit 1")
                .fetch_one(&app.pool)
                .await
                .expect("audit");
            assert_eq!(actor_id, actor, "{label}: audited as the caller");
        }
        (200, Effect::Activity) => {
            assert_eq!(after.activities.0, before.activities.0 + 1, "{label}: one activity");
            assert_eq!(after.deal_stage_history, before.deal_stage_history, "{label}");
        }
        _ => assert_eq!(after, before, "{label}: must change nothing"),
    }
}

#[tokio::test]
async fn deal_functions_follow_the_role_matrix() {
    let app = TestApp::spawn().await;
    let cast = [
        app.rep("김민준").await,
        app.rep("이서연").await,
        app.manager("박지훈").await,
        app.viewer("최유나").await,
        app.admin("정관리").await,
        app.no_role("한손님").await,
        app.anonymous(),
    ];
    let owner = &cast[0];
    let account = owner.create_account(&[("name", "구름클라우드")]).await;
    for (i, user) in cast.iter().enumerate() {
        let who = WHO[i];
        let live = new_deal(owner, account, &[("name", &format!("영업기회 {i}"))]).await;
        let to_delete = new_deal(owner, account, &[("name", &format!("삭제할 영업기회 {i}"))]).await;
        let deleted = new_deal(owner, account, &[("name", &format!("삭제된 영업기회 {i}"))]).await;
        owner.delete_deal(deleted, 1).await.assert_status(StatusCode::OK);

        let before = app.deal_fingerprint().await;
        let res = user.try_list_deals(&[]).await;
        verdict(&app, &format!("{who} → list"), READ[i], &res, before, Effect::None).await;
        if res.status == StatusCode::OK {
            let rows = res.ok::<app::deals::DealList>().page.rows;
            assert_eq!(rows.iter().any(|r| r.id == live), SEES[i], "{who}: list shows the deal");
            assert!(!rows.iter().any(|r| r.id == deleted), "{who}: deleted deals are not listed");
            let deleted_rows = user.list_deals(&[("deleted", "true")]).await.page.rows;
            assert_eq!(deleted_rows.iter().any(|r| r.id == deleted), GET_DELETED[i] == 200, "{who}: deleted list");
        }

        let before = app.deal_fingerprint().await;
        let res = user.try_board(&[]).await;
        verdict(&app, &format!("{who} → board"), READ[i], &res, before, Effect::None).await;
        if res.status == StatusCode::OK {
            let board: Board = res.ok();
            assert_eq!(card_ids(&board).contains(&live), SEES[i], "{who}: board shows the deal");
            assert!(!card_ids(&board).contains(&deleted));
            let visible_owner = if SEES[i] { None } else { Some(user.id) };
            assert_eq!(board_totals(&board), sql_totals(&app, visible_owner, None).await, "{who}: board totals");
            assert_eq!(board.can_move, CREATE[i] == 200, "{who}: can_move");
        }

        let before = app.deal_fingerprint().await;
        let res = user.post_fn("/api/deals/stages", &[]).await;
        verdict(&app, &format!("{who} → stages"), READ[i], &res, before, Effect::None).await;

        let before = app.deal_fingerprint().await;
        let res = user.get_deal(live).await;
        verdict(&app, &format!("{who} → get"), GET[i], &res, before, Effect::None).await;
        if res.status == StatusCode::OK {
            let detail: DealDetail = res.ok();
            assert_eq!(detail.can.edit, EDIT[i] == 200, "{who}: can_edit");
            assert_eq!(detail.can.reassign, RESTORE[i] == 200, "{who}: can_reassign");
            assert!(!detail.can.restore);
        }

        let before = app.deal_fingerprint().await;
        let res = user.get_deal(deleted).await;
        verdict(&app, &format!("{who} → get (deleted)"), GET_DELETED[i], &res, before, Effect::None).await;
        if res.status == StatusCode::OK {
            assert!(res.ok::<DealDetail>().can.restore, "{who}: can_restore");
        }

        let before = app.deal_fingerprint().await;
        let res = try_new_deal(user, account, &[("name", &format!("새 영업기회 {i}"))]).await;
        verdict(&app, &format!("{who} → create"), CREATE[i], &res, before, Effect::Audited(user.id)).await;
        if res.status == StatusCode::OK {
            let id: Uuid = res.ok::<String>().parse().expect("id");
            assert_eq!(app.row("deals", id).await["owner_id"], user.id.to_string(), "{who}: the creator owns it");
        }

        let before = app.deal_fingerprint().await;
        let res = edit(&app, user, live, &[("name", &format!("고친 영업기회 {i}"))]).await;
        verdict(&app, &format!("{who} → update"), EDIT[i], &res, before, Effect::Audited(user.id)).await;

        let before = app.deal_fingerprint().await;
        let res = move_to(&app, user, live, "negotiation").await;
        verdict(&app, &format!("{who} → move"), EDIT[i], &res, before, Effect::Audited(user.id)).await;

        let before = app.deal_fingerprint().await;
        let res = user
            .add_activity(&[
                ("target", "deal"),
                ("target_id", &live.to_string()),
                ("kind", "note"),
                ("subject", "통화 메모"),
            ])
            .await;
        verdict(&app, &format!("{who} → add activity"), EDIT[i], &res, before, Effect::Activity).await;

        let before = app.deal_fingerprint().await;
        let res = user.delete_deal(to_delete, 1).await;
        verdict(&app, &format!("{who} → delete"), EDIT[i], &res, before, Effect::Audited(user.id)).await;

        let before = app.deal_fingerprint().await;
        let res = user.restore_deal(deleted).await;
        verdict(&app, &format!("{who} → restore"), RESTORE[i], &res, before, Effect::Audited(user.id)).await;
    }
}

#[tokio::test]
async fn a_rep_sees_and_changes_only_his_own_deals_and_a_manager_all() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let lee = app.rep("이서연").await;
    let manager = app.manager("박지훈").await;
    let viewer = app.viewer("최유나").await;
    let account = kim.create_account(&[("name", "구름클라우드")]).await;
    let mine = new_deal(&kim, account, &[("name", "김민준 건")]).await;
    let theirs = new_deal(&lee, account, &[("name", "이서연 건"), ("amount", "7000000")]).await;

    assert_eq!(kim.deal_names(&[]).await, ["김민준 건"]);
    assert_eq!(lee.deal_names(&[]).await, ["이서연 건"]);
    // Asking for another owner, or for the deal by name or account, shows nothing more.
    assert!(kim.deal_names(&[("owner", &lee.id.to_string())]).await.is_empty());
    assert!(kim.deal_names(&[("q", "이서연")]).await.is_empty());
    assert_eq!(kim.deal_names(&[("account", &account.to_string())]).await, ["김민준 건"]);
    // The account page lists only the deals he may see.
    let on_account: Vec<String> = kim.account(account).await.deals.into_iter().map(|d| d.name).collect();
    assert_eq!(on_account, ["김민준 건"]);
    let on_account: Vec<String> = lee.account(account).await.deals.into_iter().map(|d| d.name).collect();
    assert_eq!(on_account, ["이서연 건"]);

    let board = kim.board(&[]).await;
    assert_eq!(card_ids(&board), [mine]);
    assert_eq!(board_totals(&board), BTreeMap::from([(key("proposal", "KRW"), (1, dec("12000000"), dec("4800000")))]));

    // Another rep's deal does not exist for him.
    let before = app.deal_fingerprint().await;
    assert_eq!(kim.get_deal(theirs).await.error(), AppError::NotFound);
    let (version, form) = edit_form(&app, theirs, &[("name", "가로채기")]).await;
    let res = kim.update_deal(theirs, version, &borrowed(&form)).await;
    res.assert_status(StatusCode::NOT_FOUND);
    kim.move_deal(theirs, version, "negotiation").await.assert_status(StatusCode::NOT_FOUND);
    kim.delete_deal(theirs, version).await.assert_status(StatusCode::NOT_FOUND);
    kim.restore_deal(theirs).await.assert_status(StatusCode::FORBIDDEN);
    // Nor can he hand his own deal to someone else, or create one in another's name.
    let res = edit(&app, &kim, mine, &[("owner_id", &lee.id.to_string())]).await;
    assert_eq!(rule_error(&res), ("owner_id".into(), T::OwnerOnlyManagers));
    let res = try_new_deal(&kim, account, &[("owner_id", &lee.id.to_string())]).await;
    assert_eq!(rule_error(&res), ("owner_id".into(), T::OwnerOnlyManagers));
    assert_eq!(app.deal_fingerprint().await, before, "nothing changed");

    // The manager and the viewer see both; the manager edits both.
    assert_eq!(manager.deal_names(&[]).await, ["김민준 건", "이서연 건"]);
    assert_eq!(viewer.deal_names(&[]).await, ["김민준 건", "이서연 건"]);
    assert_eq!(manager.deal_names(&[("owner", &lee.id.to_string())]).await, ["이서연 건"]);
    assert_eq!(viewer.deal(theirs).await.deal.name, "이서연 건");
    assert_eq!(board_totals(&manager.board(&[]).await).get(&key("proposal", "KRW")).map(|t| t.0), Some(2));
    assert_eq!(board_totals(&viewer.board(&[]).await), sql_totals(&app, None, None).await);
    assert!(!viewer.board(&[]).await.can_move);

    edit(&app, &manager, theirs, &[("name", "이서연 건 (팀장 검토)")]).await.assert_status(StatusCode::OK);
    move_to(&app, &manager, theirs, "negotiation").await.assert_status(StatusCode::OK);
    assert_eq!(
        app.audit(theirs).await.last().map(|a| (a.action.clone(), a.actor_id)),
        Some(("stage".into(), manager.id))
    );

    // A manager hands it to Kim, who then sees and edits it; Lee no longer does.
    edit(&app, &manager, theirs, &[("owner_id", &kim.id.to_string())]).await.assert_status(StatusCode::OK);
    assert_eq!(kim.deal_names(&[]).await, ["김민준 건", "이서연 건 (팀장 검토)"]);
    assert!(lee.deal_names(&[]).await.is_empty());
    lee.get_deal(theirs).await.assert_status(StatusCode::NOT_FOUND);
    edit(&app, &kim, theirs, &[("amount", "8000000")]).await.assert_status(StatusCode::OK);
    assert_eq!(board_totals(&kim.board(&[]).await), sql_totals(&app, Some(kim.id), None).await);

    // Owners must hold an owning role.
    let res = edit(&app, &manager, mine, &[("owner_id", &viewer.id.to_string())]).await;
    assert_eq!(rule_error(&res), ("owner_id".into(), T::InvalidChoice));
    let res = try_new_deal(&manager, account, &[("owner_id", &Uuid::new_v4().to_string())]).await;
    assert_eq!(rule_error(&res), ("owner_id".into(), T::InvalidChoice));
}

#[tokio::test]
async fn delete_hides_a_deal_everywhere_and_restore_brings_it_back() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    let viewer = app.viewer("최유나").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let id = new_deal(&rep, account, &[]).await;
    new_deal(&rep, account, &[("name", "남는 건"), ("currency", "USD"), ("amount", "10")]).await;

    let res = rep.delete_deal(id, 1).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.location(), Some("/deals?notice=deleted"));
    let row = app.row("deals", id).await;
    assert!(!row["deleted_at"].is_null());
    assert_eq!(row["deleted_by"], rep.id.to_string());

    assert_eq!(rep.deal_names(&[]).await, ["남는 건"]);
    assert_eq!(rep.get_deal(id).await.error(), AppError::NotFound);
    assert_eq!(viewer.get_deal(id).await.error(), AppError::NotFound);
    assert!(!card_ids(&rep.board(&[]).await).contains(&id));
    assert_eq!(board_totals(&manager.board(&[]).await), sql_totals(&app, None, None).await);
    assert!(!board_totals(&manager.board(&[]).await).contains_key(&key("proposal", "KRW")));
    // Gone means gone for changes too.
    let before = app.deal_fingerprint().await;
    rep.delete_deal(id, 2).await.assert_status(StatusCode::NOT_FOUND);
    let res = edit(&app, &manager, id, &[("name", "삭제된 건 수정")]).await;
    res.assert_status(StatusCode::NOT_FOUND);
    manager.move_deal(id, 2, "negotiation").await.assert_status(StatusCode::NOT_FOUND);
    let res = rep
        .add_activity(&[("target", "deal"), ("target_id", &id.to_string()), ("kind", "note"), ("subject", "메모")])
        .await;
    res.assert_status(StatusCode::NOT_FOUND);
    rep.restore_deal(id).await.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.deal_fingerprint().await, before);

    // The manager still sees it, and restores it.
    let detail = manager.deal(id).await;
    assert!(detail.deal.deleted_at.is_some() && detail.can.restore && !detail.can.edit);
    assert_eq!(manager.deal_names(&[("deleted", "true")]).await, ["Azure 전환 사업"]);
    assert!(rep.deal_names(&[("deleted", "true")]).await.iter().all(|n| n != "Azure 전환 사업"));
    let res = manager.restore_deal(id).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.location(), Some(format!("/deals/{id}?notice=restored").as_str()));
    assert_eq!(rep.deal_names(&[]).await, ["Azure 전환 사업", "남는 건"]);
    assert!(rep.deal(id).await.deal.deleted_at.is_none());
    assert_eq!(
        board_totals(&manager.board(&[]).await).get(&key("proposal", "KRW")),
        Some(&(1, dec("12000000"), dec("4800000")))
    );
    // Restoring a live deal finds nothing to restore.
    manager.restore_deal(id).await.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(app.version("deals", id).await, 3);
}

// --- bad input

#[tokio::test]
async fn invalid_input_is_refused_with_the_field_named_and_nothing_written() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let existing = new_deal(&rep, account, &[("name", "기존 건")]).await;
    let deleted_account = rep.create_account(&[("name", "없어진 회사")]).await;
    rep.delete_account(deleted_account, 1).await.assert_status(StatusCode::OK);

    let twenty_years = in_months(12 * 20);
    let ten_years_ago = today().checked_sub_months(Months::new(12 * 10)).expect("date").to_string();
    let long_name = "가".repeat(201);
    let long_reason = "가".repeat(501);
    let nowhere = Uuid::new_v4().to_string();
    let gone = deleted_account.to_string();
    let cases: Vec<(Vec<(&str, &str)>, (&str, T))> = vec![
        (vec![("stage_id", "closing")], ("stage_id", T::InvalidStage)),
        (vec![("stage_id", "")], ("stage_id", T::InvalidStage)),
        (vec![("stage_id", "WON")], ("stage_id", T::InvalidStage)),
        (vec![("currency", "EUR")], ("currency", T::InvalidCurrency)),
        (vec![("currency", "")], ("currency", T::InvalidCurrency)),
        (vec![("amount", "-5")], ("amount", T::AmountNegative)),
        (vec![("amount", "-0.01"), ("currency", "USD")], ("amount", T::AmountNegative)),
        (vec![("amount", "1000.5")], ("amount", T::AmountNoDecimalsKrw)),
        (vec![("amount", "12,000,000.50원")], ("amount", T::AmountNoDecimalsKrw)),
        (vec![("amount", "10.123"), ("currency", "USD")], ("amount", T::AmountTwoDecimals)),
        (vec![("amount", "10000000000001")], ("amount", T::AmountTooLarge)),
        (vec![("amount", "10000000000000.01"), ("currency", "USD")], ("amount", T::AmountTooLarge)),
        (vec![("amount", "99999999999999999999999")], ("amount", T::AmountTooLarge)),
        (vec![("amount", "1e9")], ("amount", T::InvalidAmount)),
        (vec![("amount", "일억")], ("amount", T::InvalidAmount)),
        (vec![("probability", "101")], ("probability", T::InvalidProbability)),
        (vec![("probability", "-1")], ("probability", T::InvalidProbability)),
        (vec![("probability", "12.5")], ("probability", T::InvalidProbability)),
        (vec![("probability", "high")], ("probability", T::InvalidProbability)),
        (vec![("expected_close_date", &twenty_years)], ("expected_close_date", T::DateOutOfRange)),
        (vec![("expected_close_date", &ten_years_ago)], ("expected_close_date", T::DateOutOfRange)),
        (vec![("expected_close_date", "2026-02-30")], ("expected_close_date", T::InvalidDate)),
        (vec![("expected_close_date", "next week")], ("expected_close_date", T::InvalidDate)),
        (vec![("name", "")], ("name", T::Required)),
        (vec![("name", &long_name)], ("name", T::TooLong)),
        (vec![("name", "구름\u{7}")], ("name", T::ControlCharacters)),
        (vec![("lost_reason", &long_reason)], ("lost_reason", T::TooLong)),
        (vec![("account_id", "not-a-uuid")], ("account_id", T::AccountNotFound)),
        (vec![("account_id", &nowhere)], ("account_id", T::AccountNotFound)),
        (vec![("account_id", &gone)], ("account_id", T::AccountNotFound)),
        (vec![("owner_id", "someone")], ("owner_id", T::InvalidChoice)),
    ];

    let before = app.deal_fingerprint().await;
    let accounts_before = app.fingerprint().await;
    for (changes, (field, message)) in &cases {
        let res = try_new_deal(&rep, account, changes).await;
        assert_eq!(res.field_errors(), vec![(field.to_string(), *message)], "create with {changes:?}");
        let submitted = res.error().submitted().cloned().unwrap_or_default();
        assert!(
            submitted.contains(&(changes[0].0.to_string(), changes[0].1.to_string())),
            "{changes:?}: {submitted:?}"
        );
    }
    // The edit form refuses the same input (its account is fixed, so those cases are skipped).
    for (changes, (field, message)) in cases.iter().filter(|(c, _)| c[0].0 != "account_id") {
        let res = edit(&app, &rep, existing, changes).await;
        assert_eq!(res.field_errors(), vec![(field.to_string(), *message)], "update with {changes:?}");
    }
    // Several problems are reported together.
    let res = try_new_deal(&rep, account, &[("name", ""), ("currency", "EUR"), ("probability", "101")]).await;
    let mut fields: Vec<String> = res.field_errors().into_iter().map(|(f, _)| f).collect();
    fields.sort();
    assert_eq!(fields, ["currency", "name", "probability"]);
    // The board refuses an unknown stage.
    for stage in ["closing", "", "won'; --"] {
        let res = rep.move_deal(existing, 1, stage).await;
        assert_eq!(res.field_errors(), vec![("stage_id".to_string(), T::InvalidStage)], "move to {stage:?}");
    }
    assert_eq!(app.deal_fingerprint().await, before, "refused input writes nothing");
    assert_eq!(app.fingerprint().await, accounts_before);

    // The limits themselves are allowed.
    let nine_years = in_months(12 * 9);
    let four_years_ago = today().checked_sub_months(Months::new(12 * 4)).expect("date").to_string();
    let dotted = (today() + Duration::days(40)).format("%Y.%m.%d").to_string();
    for changes in [
        vec![("amount", "10000000000000")],
        vec![("amount", "10,000,000,000,000.00"), ("currency", "USD")],
        vec![("amount", "0.01"), ("currency", "USD")],
        vec![("amount", "0"), ("probability", "0")],
        vec![("probability", "100")],
        vec![("probability", "0.4")],
        vec![("expected_close_date", &nine_years)],
        vec![("expected_close_date", &four_years_ago)],
        vec![("expected_close_date", &dotted)],
        vec![("name", &"가".repeat(200))],
    ] {
        try_new_deal(&rep, account, &changes).await.assert_status(StatusCode::OK);
    }
}

#[tokio::test]
async fn a_stale_save_names_who_changed_the_deal_and_keeps_the_input() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let park = app.manager("박지훈").await;
    let account = kim.create_account(&[("name", "구름클라우드")]).await;
    let id = new_deal(&kim, account, &[]).await;
    let (stale, form) = edit_form(&app, id, &[("name", "김민준 수정"), ("amount", "15000000")]).await;
    edit(&app, &park, id, &[("name", "팀장 수정")]).await.assert_status(StatusCode::OK);

    let before = app.deal_fingerprint().await;
    let res = kim.update_deal(id, stale, &borrowed(&form)).await;
    res.assert_status(StatusCode::CONFLICT);
    match res.error() {
        AppError::Conflict { changed_by, submitted, .. } => {
            assert_eq!(changed_by, "박지훈");
            assert!(submitted.contains(&("name".into(), "김민준 수정".into())), "{submitted:?}");
            assert!(submitted.contains(&("amount".into(), "15000000".into())), "{submitted:?}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    for res in [kim.move_deal(id, stale, "negotiation").await, kim.delete_deal(id, stale).await] {
        res.assert_status(StatusCode::CONFLICT);
        assert!(matches!(res.error(), AppError::Conflict { changed_by, .. } if changed_by == "박지훈"), "{}", res.body);
    }
    // A version from the future is stale as well.
    kim.move_deal(id, 99, "negotiation").await.assert_status(StatusCode::CONFLICT);
    assert_eq!(app.deal_fingerprint().await, before, "a refused save changes nothing");
    assert_eq!(kim.deal(id).await.deal.name, "팀장 수정");

    // From the current version it works.
    kim.update_deal(id, stale + 1, &borrowed(&form)).await.assert_status(StatusCode::OK);
    kim.move_deal(id, stale + 2, "negotiation").await.assert_status(StatusCode::OK);
    kim.delete_deal(id, stale + 3).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn a_tampered_version_or_id_is_refused_clearly() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let id = new_deal(&rep, account, &[]).await;
    let (_, form) = edit_form(&app, id, &[("name", "바뀐 이름")]).await;
    let before = app.deal_fingerprint().await;

    for version in ["abc", "", "0", "-1", "1.5", "99999999999", "1; drop table deals"] {
        let res = rep.update_deal(id, version, &borrowed(&form)).await;
        assert_eq!(res.field_errors(), vec![(String::new(), T::ErrStaleVersion)], "update, version {version:?}");
        assert!(res.error().submitted().is_some_and(|s| s.contains(&("name".into(), "바뀐 이름".into()))));
        let res = rep.move_deal(id, version, "negotiation").await;
        assert_eq!(res.field_errors(), vec![(String::new(), T::ErrStaleVersion)], "move, version {version:?}");
        let res = rep.delete_deal(id, version).await;
        assert_eq!(res.field_errors(), vec![(String::new(), T::ErrStaleVersion)], "delete, version {version:?}");
    }
    for bad_id in [Uuid::new_v4().to_string(), "not-a-uuid".into(), "'; drop table deals; --".into()] {
        assert_eq!(rep.get_deal(&bad_id).await.error(), AppError::NotFound, "get {bad_id}");
        rep.update_deal(&bad_id, 1, &borrowed(&form)).await.assert_status(StatusCode::NOT_FOUND);
        rep.move_deal(&bad_id, 1, "negotiation").await.assert_status(StatusCode::NOT_FOUND);
        rep.delete_deal(&bad_id, 1).await.assert_status(StatusCode::NOT_FOUND);
    }
    // Arguments missing altogether are a bad request, not a server error.
    let id = id.to_string();
    for (path, body) in [
        ("/api/deals/move", fields(&[("id", &id), ("version", "1")])),
        ("/api/records/delete", fields(&[("kind", "deal"), ("id", &id)])),
        ("/api/deals/get", vec![]),
        ("/api/deals/board", fields(&[("query[owner]", "")])),
        ("/api/deals/list", fields(&[("query[q]", "구름")])),
    ] {
        let res = rep.post_fn(path, &body).await;
        assert_eq!((res.status, res.error()), (StatusCode::BAD_REQUEST, AppError::BadRequest), "{path}: {}", res.body);
    }
    assert_eq!(app.deal_fingerprint().await, before);
}

// --- list

#[tokio::test]
async fn the_list_filters_and_pages() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let lee = app.rep("이서연").await;
    let manager = app.manager("박지훈").await;
    let cloud = kim.create_account(&[("name", "구름클라우드")]).await;
    let sea = kim.create_account(&[("name", "바다물류")]).await;
    new_deal(&kim, cloud, &[("name", "Azure 전환")]).await;
    new_deal(&kim, sea, &[("name", "물류 시스템 이전"), ("currency", "USD"), ("amount", "5000")]).await;
    new_deal(&lee, sea, &[("name", "백업 100% 보장"), ("stage_id", "negotiation")]).await;

    assert_eq!(manager.deal_names(&[("q", "전환")]).await, ["Azure 전환"]);
    assert_eq!(manager.deal_names(&[("q", "azure")]).await, ["Azure 전환"]);
    assert_eq!(manager.deal_names(&[("q", "0%")]).await, ["백업 100% 보장"]);
    assert!(manager.deal_names(&[("q", "0_")]).await.is_empty(), "as a wildcard, '0_' would match '100'");
    // Two characters (most Korean words) through the bigram index.
    assert_eq!(manager.deal_names(&[("q", "물류")]).await, ["물류 시스템 이전"]);
    assert_eq!(manager.deal_names(&[("stage", "negotiation")]).await, ["백업 100% 보장"]);
    assert!(manager.deal_names(&[("stage", "nonsense")]).await.is_empty());
    assert_eq!(manager.deal_names(&[("currency", "USD")]).await, ["물류 시스템 이전"]);
    assert_eq!(manager.deal_names(&[("account", &sea.to_string())]).await, ["물류 시스템 이전", "백업 100% 보장"]);
    assert_eq!(manager.deal_names(&[("owner", &kim.id.to_string())]).await, ["Azure 전환", "물류 시스템 이전"]);
    assert_eq!(kim.deal_names(&[("account", &sea.to_string())]).await, ["물류 시스템 이전"]);
    let row = manager.list_deals(&[("currency", "USD")]).await.page.rows.remove(0);
    assert_eq!(
        (row.amount, row.probability, row.owner_name.as_str(), row.account_name.as_str()),
        (Some(dec("5000")), 40, "김민준", "바다물류")
    );

    // Paging: 50 a page, forwards and back.
    for n in 0..52 {
        new_deal(&kim, cloud, &[("name", &format!("페이지 {n:02}"))]).await;
    }
    let first = kim.list_deals(&[("q", "페이지")]).await.page;
    assert_eq!(first.rows.len(), 50);
    assert_eq!((first.rows[0].name.as_str(), first.rows[49].name.as_str()), ("페이지 00", "페이지 49"));
    assert!(first.prev.is_none());
    let next = first.next.clone().expect("a next page");
    let second = kim.list_deals(&[("q", "페이지"), ("after", &next)]).await.page;
    assert_eq!(second.rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["페이지 50", "페이지 51"]);
    assert!(second.next.is_none());
    let prev = second.prev.clone().expect("a previous page");
    let back = kim.list_deals(&[("q", "페이지"), ("before", &prev)]).await.page;
    assert_eq!(back.rows, first.rows);
}

// --- activities

#[tokio::test]
async fn a_note_on_a_deal_shows_in_its_timeline_and_stamps_its_last_activity() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let lee = app.rep("이서연").await;
    let manager = app.manager("박지훈").await;
    let viewer = app.viewer("최유나").await;
    let account = kim.create_account(&[("name", "구름클라우드")]).await;
    let deal = new_deal(&kim, account, &[]).await;
    let target = deal.to_string();
    assert!(app.row("deals", deal).await["last_activity_at"].is_null());

    let res = kim
        .add_activity(&[
            ("target", "deal"),
            ("target_id", &target),
            ("kind", "note"),
            ("subject", "첫 미팅"),
            ("body", "요구사항 정리\n다음 주 제안"),
        ])
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.location(), Some(format!("/deals/{deal}?notice=activity#timeline").as_str()));
    let due = in_days(7);
    kim.add_activity(&[
        ("target", "deal"),
        ("target_id", &target),
        ("kind", "task"),
        ("subject", "견적서 보내기"),
        ("due_date", &due),
    ])
    .await
    .assert_status(StatusCode::OK);
    // A manager may add to any deal.
    manager
        .add_activity(&[("target", "deal"), ("target_id", &target), ("kind", "call"), ("subject", "팀장 통화")])
        .await
        .assert_status(StatusCode::OK);

    let detail = kim.deal(deal).await;
    let timeline: Vec<(&str, &str, &str)> =
        detail.activities.iter().map(|a| (a.kind.as_str(), a.subject.as_str(), a.created_by.as_str())).collect();
    assert_eq!(
        timeline,
        [("call", "팀장 통화", "박지훈"), ("task", "견적서 보내기", "김민준"), ("note", "첫 미팅", "김민준")]
    );
    assert!(detail.activities.windows(2).all(|w| w[0].occurred_at >= w[1].occurred_at), "newest first");
    assert_eq!(detail.activities[2].body.as_deref(), Some("요구사항 정리\n다음 주 제안"));
    assert_eq!(detail.activities[1].due_date.map(|d| d.to_string()), Some(due));
    assert!(!detail.activities[1].done);
    let last = detail.deal.last_activity_at.expect("last activity stamped");
    assert!(last >= detail.activities[0].occurred_at, "{last} vs {}", detail.activities[0].occurred_at);
    // The account's timeline shows the deal's activities, to those who see the deal.
    let on_account = kim.account(account).await.activities;
    assert_eq!(on_account.len(), 3);
    assert!(on_account.iter().all(|a| a.deal_name.as_deref() == Some("Azure 전환 사업")));
    assert!(lee.account(account).await.activities.is_empty(), "another rep does not see his deal's timeline");

    // A task is ticked done and back; a note cannot be ticked.
    let task = detail.activities[1].id;
    let res = kim.set_activity_done(task, true).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.location(), Some(format!("/deals/{deal}#timeline").as_str()));
    assert!(kim.deal(deal).await.activities[1].done);
    kim.set_activity_done(task, false).await.assert_status(StatusCode::OK);
    assert!(!kim.deal(deal).await.activities[1].done);
    let note = detail.activities[2].id;
    kim.set_activity_done(note, true).await.assert_status(StatusCode::NOT_FOUND);

    // Refused: another rep's deal (404), an account he does not own (403), a viewer (403), nonsense (400).
    let before = app.deal_fingerprint().await;
    let res = lee
        .add_activity(&[("target", "deal"), ("target_id", &target), ("kind", "note"), ("subject", "끼어들기")])
        .await;
    assert_eq!(res.error(), AppError::NotFound, "{}", res.body);
    let res = lee
        .add_activity(&[
            ("target", "account"),
            ("target_id", &account.to_string()),
            ("kind", "note"),
            ("subject", "끼어들기"),
        ])
        .await;
    assert_eq!((res.status, res.error()), (StatusCode::FORBIDDEN, AppError::Forbidden));
    assert_eq!(lee.set_activity_done(task, true).await.error(), AppError::NotFound);
    for (target_kind, target_id) in [("deal", target.as_str()), ("account", &account.to_string())] {
        let res = viewer
            .add_activity(&[("target", target_kind), ("target_id", target_id), ("kind", "note"), ("subject", "보기만")])
            .await;
        assert_eq!((res.status, res.error()), (StatusCode::FORBIDDEN, AppError::Forbidden), "viewer on {target_kind}");
    }
    assert_eq!(viewer.set_activity_done(task, true).await.error(), AppError::Forbidden);
    assert_eq!(app.anonymous().set_activity_done(task, true).await.error(), AppError::Unauthenticated);
    let res =
        kim.add_activity(&[("target", "deal"), ("target_id", &target), ("kind", "email"), ("subject", "x")]).await;
    assert_eq!(res.field_errors(), vec![("kind".to_string(), T::InvalidChoice)]);
    let res = kim.add_activity(&[("target", "deal"), ("target_id", &target), ("kind", "note"), ("subject", " ")]).await;
    assert_eq!(res.field_errors(), vec![("subject".to_string(), T::Required)]);
    let res = kim
        .add_activity(&[
            ("target", "deal"),
            ("target_id", &target),
            ("kind", "task"),
            ("subject", "x"),
            ("due_date", "2026-13-01"),
        ])
        .await;
    assert_eq!(res.field_errors(), vec![("due_date".to_string(), T::InvalidDate)]);
    let res =
        kim.add_activity(&[("target", "invoice"), ("target_id", &target), ("kind", "note"), ("subject", "x")]).await;
    assert_eq!((res.status, res.error()), (StatusCode::BAD_REQUEST, AppError::BadRequest));
    // A deal's id given as a contract's names no contract.
    let res =
        kim.add_activity(&[("target", "contract"), ("target_id", &target), ("kind", "note"), ("subject", "x")]).await;
    assert_eq!((res.status, res.error()), (StatusCode::NOT_FOUND, AppError::NotFound));
    let res = kim
        .add_activity(&[
            ("target", "deal"),
            ("target_id", &Uuid::new_v4().to_string()),
            ("kind", "note"),
            ("subject", "x"),
        ])
        .await;
    assert_eq!(res.error(), AppError::NotFound);
    assert_eq!(app.deal_fingerprint().await, before, "refused activities write nothing");

    // On his own account a rep may add.
    kim.add_activity(&[
        ("target", "account"),
        ("target_id", &account.to_string()),
        ("kind", "meeting"),
        ("subject", "분기 리뷰"),
    ])
    .await
    .assert_status(StatusCode::OK);
    assert_eq!(kim.account(account).await.activities.first().map(|a| a.subject.clone()), Some("분기 리뷰".into()));
}

// --- audit

#[tokio::test]
async fn create_update_move_delete_and_restore_are_audited() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let id = new_deal(&rep, account, &[]).await;
    edit(&app, &rep, id, &[("amount", "15000000"), ("probability", "45")]).await.assert_status(StatusCode::OK);
    move_to(&app, &rep, id, "negotiation").await.assert_status(StatusCode::OK);
    rep.delete_deal(id, 3).await.assert_status(StatusCode::OK);
    manager.restore_deal(id).await.assert_status(StatusCode::OK);

    let audit = app.audit(id).await;
    let summary: Vec<(&str, &str, Uuid)> =
        audit.iter().map(|a| (a.entity.as_str(), a.action.as_str(), a.actor_id)).collect();
    assert_eq!(
        summary,
        [
            ("deal", "create", rep.id),
            ("deal", "update", rep.id),
            ("deal", "stage", rep.id),
            ("deal", "delete", rep.id),
            ("deal", "restore", manager.id),
        ]
    );
    let (before, after) = (audit[1].before.as_ref().expect("before"), audit[1].after.as_ref().expect("after"));
    assert_eq!((before["probability"].as_i64(), after["probability"].as_i64()), (Some(40), Some(45)));
    assert_eq!((before["version"].as_i64(), after["version"].as_i64()), (Some(1), Some(2)));
    let (before, after) = (audit[2].before.as_ref().expect("before"), audit[2].after.as_ref().expect("after"));
    assert_eq!((before["stage_id"].as_str(), after["stage_id"].as_str()), (Some("proposal"), Some("negotiation")));
    assert_eq!((before["probability"].as_i64(), after["probability"].as_i64()), (Some(45), Some(70)));
    assert!(audit[3].before.as_ref().expect("before")["deleted_at"].is_null());
    assert!(!audit[3].after.as_ref().expect("after")["deleted_at"].is_null());
    assert!(audit[4].after.as_ref().expect("after")["deleted_at"].is_null());

    // The detail page shows the trail, newest first, with the changed fields.
    let history = manager.deal(id).await.history;
    let actions: Vec<(&str, &str)> = history.iter().map(|h| (h.action.code(), h.actor.as_str())).collect();
    assert_eq!(
        actions,
        [("restore", "박지훈"), ("delete", "김민준"), ("stage", "김민준"), ("update", "김민준"), ("create", "김민준")]
    );
    let stage_change: Vec<&str> = history[2].changes.iter().map(|c| c.field.as_str()).collect();
    assert!(stage_change.contains(&"stage_id") && stage_change.contains(&"probability"), "{stage_change:?}");
}

/// Each audit action is listed in a record's history under its own label:
/// a board move reads "단계 변경" (it once read "가져오기", Imported).
#[tokio::test]
async fn the_history_names_each_action_by_its_own_label() {
    use app::record::AuditAction;
    let app = TestApp::spawn().await;
    let manager = app.manager("박지훈").await;
    let account = manager.create_account(&[("name", "이력고객")]).await;
    let id = new_deal(&manager, account, &[]).await;
    manager.move_deal(id, 1, "negotiation").await.assert_status(StatusCode::OK);
    manager
        .update_deal(id, 2, &borrowed(&deal_form(account, &[("name", "이력 사업"), ("stage_id", "negotiation")])))
        .await
        .assert_status(StatusCode::OK);
    manager.delete_deal(id, 3).await.assert_status(StatusCode::OK);
    manager.restore_deal(id).await.assert_status(StatusCode::OK);

    let actions: Vec<AuditAction> = manager.deal(id).await.history.into_iter().map(|h| h.action).collect();
    assert_eq!(
        actions,
        [AuditAction::Restore, AuditAction::Delete, AuditAction::Update, AuditAction::StageChange, AuditAction::Create]
    );

    // What the person reads on the deal's page, newest first, in Korean and in English.
    for (lang, expected) in [
        ("ko", ["복원", "삭제", "수정", "단계 변경", "생성"]),
        ("en", ["Restored", "Deleted", "Updated", "Stage changed", "Created"]),
    ] {
        let page = manager.get_with(&format!("/deals/{id}"), &[("accept-language", lang)]).await;
        page.assert_status(StatusCode::OK);
        let history = page.body.split(r#"data-testid="history""#).nth(1).expect("a history list");
        let history = history.split("</ol>").next().unwrap_or_default();
        // `<!>` is a marker the server leaves for hydration, not text.
        let labels: Vec<String> = history
            .split("<strong>")
            .skip(1)
            .filter_map(|s| s.split("</strong>").next())
            .map(|s| s.replace("<!>", ""))
            .collect();
        assert_eq!(labels, expected, "{lang}");
    }
}

/// Records that are gone stay gone: a deleted deal's tasks cannot be ticked
/// or added to, and a deal cannot come back onto a deleted account.
#[tokio::test]
async fn nothing_is_written_onto_a_deleted_deal_or_account() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    let account = rep.create_account(&[("name", "지워질고객")]).await;
    let deal = new_deal(&rep, account, &[]).await;
    let target = deal.to_string();
    rep.add_activity(&[("target", "deal"), ("target_id", &target), ("kind", "task"), ("subject", "견적")])
        .await
        .assert_status(StatusCode::OK);
    let task = rep.deal(deal).await.activities[0].id;
    rep.delete_deal(deal, 1).await.assert_status(StatusCode::OK);

    let before = app.deal_fingerprint().await;
    rep.set_activity_done(task, true).await.assert_status(StatusCode::NOT_FOUND);
    manager.set_activity_done(task, true).await.assert_status(StatusCode::NOT_FOUND);
    rep.add_activity(&[("target", "deal"), ("target_id", &target), ("kind", "note"), ("subject", "메모")])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(app.deal_fingerprint().await, before, "nothing written");
    let done: bool = sqlx::query_scalar("select done from activities where id = $1")
        .bind(task)
        .fetch_one(&app.pool)
        .await
        .expect("task row");
    assert!(!done);

    // The account goes too; its deal cannot be restored onto it.
    let version = app.version("accounts", account).await;
    rep.delete_account(account, version).await.assert_status(StatusCode::OK);
    let before = app.deal_fingerprint().await;
    let res = manager.restore_deal(deal).await;
    assert_eq!(res.field_errors(), [(String::new(), T::AccountNotFound)]);
    assert_eq!(app.deal_fingerprint().await, before, "still deleted");
}

/// A search longer than anything stored, or of one character (which no
/// index serves), is refused with its reason, on every list.
#[tokio::test]
async fn an_overlong_or_one_character_search_is_refused_with_a_message() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let long = "가".repeat(101);
    for (q, reason) in [(long.as_str(), T::SearchTooLong), ("가", T::SearchTooShort), (" a ", T::SearchTooShort)] {
        for res in [
            rep.try_list_accounts(&[("q", q)]).await,
            rep.try_list_contacts(&[("q", q)]).await,
            rep.try_list_deals(&[("q", q)]).await,
        ] {
            assert_eq!(res.field_errors(), [(String::new(), reason)], "{q}");
        }
    }
    // At the limit it is still a search.
    let hundred = "가".repeat(100);
    assert!(rep.list_accounts(&[("q", &hundred)]).await.rows.is_empty());
}

#[tokio::test]
async fn a_two_character_search_lists_every_visible_match_in_order_however_common_the_word() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let lee = app.rep("이서연").await;
    let account = kim.create_account(&[("name", "구름클라우드")]).await;
    // "전환" in 300 of Kim's deals and 100 of Lee's (too many for the index alone:
    // read in list order); "이관" in 3 of Kim's (the index answers); names sort
    // so that Lee's deals come first and must be passed over.
    sqlx::query(
        "insert into deals (name, account_id, stage_id, currency, probability, owner_id, created_by, updated_by)
         select format('%s 클라우드 %s %s', case when i <= 100 then '가' else '나' end,
                       case when i % 2 = 0 then '전환' else '구축' end, lpad(i::text, 3, '0')),
                $1, 'lead', 'KRW', 10, case when i <= 200 then $3 else $2 end,
                case when i <= 200 then $3 else $2 end, case when i <= 200 then $3 else $2 end
         from generate_series(1, 800) i
         union all
         select format('다 %s 이관', i), $1, 'lead', 'KRW', 10, $2, $2, $2 from generate_series(1, 3) i",
    )
    .bind(account)
    .bind(kim.id)
    .bind(lee.id)
    .execute(&app.pool)
    .await
    .expect("insert deals");

    let all_pages = |q: &'static str| {
        let kim = &kim;
        async move {
            let mut names = Vec::new();
            let mut after: Option<String> = None;
            for _ in 0..20 {
                let mut pairs = vec![("q", q)];
                if let Some(a) = after.as_deref() {
                    pairs.push(("after", a));
                }
                let page = kim.list_deals(&pairs).await.page;
                names.extend(page.rows.into_iter().map(|r| r.name));
                after = page.next;
                if after.is_none() {
                    return names;
                }
            }
            panic!("paging does not end");
        }
    };
    let mut expected: Vec<String> = (201..=800)
        .filter(|i| i % 2 == 0)
        .map(|i| format!("{} 클라우드 전환 {i:03}", if i <= 100 { "가" } else { "나" }))
        .collect();
    expected.sort();
    assert_eq!(all_pages("전환").await, expected, "Kim sees his own 300, in order, none of Lee's");
    assert_eq!(all_pages("이관").await, ["다 1 이관", "다 2 이관", "다 3 이관"]);
    assert!(all_pages("햏햏").await.is_empty());
}
