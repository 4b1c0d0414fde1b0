//! The pipeline dashboard: every panel equals a direct SQL recomputation over
//! `deals` after creates, edits, board moves, deletes and restores; a rep's
//! figures are their own; the charts render on the server.

use axum::http::StatusCode;
use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::helpers::*;
use app::dashboard::Dashboard;

fn today() -> NaiveDate {
    app::i18n::seoul_today()
}

fn date(offset_days: i64) -> String {
    let t = today();
    let d = if offset_days >= 0 {
        t.checked_add_days(Days::new(offset_days as u64))
    } else {
        t.checked_sub_days(Days::new(offset_days.unsigned_abs()))
    };
    d.expect("date").to_string()
}

async fn dashboard(who: &Client<'_>, owner: &str, period: &str) -> Dashboard {
    let body =
        fields(&[("query[owner]", owner), ("query[currency]", ""), ("query[period]", period), ("query[stale]", "")]);
    let res = who.post_fn("/api/dashboard", &body).await;
    res.assert_status(StatusCode::OK);
    res.ok()
}

async fn deal(
    who: &Client<'_>,
    account: Uuid,
    name: &str,
    stage: &str,
    amount: &str,
    currency: &str,
    close: &str,
) -> Uuid {
    let account = account.to_string();
    let lost_reason = if stage == "lost" { "가격" } else { "" };
    who.create_deal(&[
        ("name", name),
        ("account_id", &account),
        ("stage_id", stage),
        ("amount", amount),
        ("currency", currency),
        ("probability", ""),
        ("expected_close_date", close),
        ("owner_id", ""),
        ("source", ""),
        ("lost_reason", lost_reason),
    ])
    .await
}

/// (stage, currency, count, amount, weighted) of open deals, straight from `deals`.
async fn sql_by_stage(app: &TestApp, owner: Option<Uuid>) -> Vec<(String, String, i64, Decimal, Decimal)> {
    sqlx::query_as(
        "select d.stage_id, d.currency, count(*), sum(coalesce(d.amount, 0)),
                sum(coalesce(d.amount, 0) * d.probability / 100)
         from deals d join stages s on s.id = d.stage_id
         where d.deleted_at is null and not s.is_won and not s.is_lost and ($1::uuid is null or d.owner_id = $1)
         group by d.stage_id, s.position, d.currency order by d.currency, s.position",
    )
    .bind(owner)
    .fetch_all(&app.pool)
    .await
    .expect("by stage")
}

fn panel_by_stage(d: &Dashboard) -> Vec<(String, String, i64, Decimal, Decimal)> {
    d.by_stage.iter().map(|s| (s.stage_id.clone(), s.currency.clone(), s.count, s.amount, s.weighted)).collect()
}

/// (month, currency, weighted open, won) for the forecast's 24 months, straight from `deals`.
async fn sql_forecast(app: &TestApp, owner: Option<Uuid>) -> Vec<(NaiveDate, String, Decimal, Decimal)> {
    let this_month = today().with_day(1).expect("month");
    let rows: Vec<(NaiveDate, String, Decimal, Decimal)> = sqlx::query_as(
        "select date_trunc('month', d.expected_close_date)::date as m, d.currency,
                coalesce(sum(coalesce(d.amount, 0) * d.probability / 100) filter (where not s.is_won), 0),
                coalesce(sum(coalesce(d.amount, 0)) filter (where s.is_won), 0)
         from deals d join stages s on s.id = d.stage_id
         where d.deleted_at is null and not s.is_lost and d.expected_close_date is not null
           and date_trunc('month', d.expected_close_date)::date between $1 and $2
           and ($3::uuid is null or d.owner_id = $3)
         group by 1, 2 order by 2, 1",
    )
    .bind(this_month.checked_sub_months(Months::new(11)).expect("back"))
    .bind(this_month.checked_add_months(Months::new(11)).expect("ahead"))
    .bind(owner)
    .fetch_all(&app.pool)
    .await
    .expect("forecast");
    rows.into_iter()
        .map(|(m, c, weighted, won)| {
            let weighted = if m >= this_month { weighted } else { Decimal::ZERO };
            let won = if m <= this_month { won } else { Decimal::ZERO };
            (m, c, weighted, won)
        })
        .collect()
}

fn panel_forecast(d: &Dashboard) -> Vec<(NaiveDate, String, Decimal, Decimal)> {
    d.forecast.iter().map(|m| (m.month, m.currency.clone(), m.weighted, m.won)).collect()
}

fn quarter() -> (NaiveDate, NaiveDate) {
    app::dashboard::server::period("quarter", today())
}

type WinRow = (String, i64, i64, Decimal, Decimal);

/// (currency, won, lost, won amount, lost amount) of deals closing in the quarter, from `deals`.
async fn sql_win_rate(app: &TestApp, owner: Option<Uuid>) -> Vec<WinRow> {
    let (from, to) = quarter();
    sqlx::query_as(
        "select d.currency, count(*) filter (where s.is_won), count(*) filter (where s.is_lost),
                coalesce(sum(coalesce(d.amount, 0)) filter (where s.is_won), 0),
                coalesce(sum(coalesce(d.amount, 0)) filter (where s.is_lost), 0)
         from deals d join stages s on s.id = d.stage_id
         where d.deleted_at is null and (s.is_won or s.is_lost)
           and date_trunc('month', d.expected_close_date)::date between $1 and $2
           and ($3::uuid is null or d.owner_id = $3)
         group by d.currency order by d.currency",
    )
    .bind(from)
    .bind(to)
    .bind(owner)
    .fetch_all(&app.pool)
    .await
    .expect("win rate")
}

fn panel_win_rate(d: &Dashboard) -> Vec<WinRow> {
    d.win_rate.iter().map(|w| (w.currency.clone(), w.won_count, w.lost_count, w.won_amount, w.lost_amount)).collect()
}

type OwnerRow = (String, String, Decimal, Decimal, Decimal, i64, i64, Option<Decimal>);

/// Per owner and currency: open, weighted, won in the quarter, won and lost
/// counts, and average days from creation to close of the deals won, from `deals`.
async fn sql_leaderboard(app: &TestApp, owner: Option<Uuid>) -> Vec<OwnerRow> {
    let (from, to) = quarter();
    sqlx::query_as(
        "select u.display_name, d.currency,
                coalesce(sum(coalesce(d.amount, 0)) filter (where not s.is_won and not s.is_lost), 0) as open,
                coalesce(sum(coalesce(d.amount, 0) * d.probability / 100)
                         filter (where not s.is_won and not s.is_lost), 0),
                coalesce(sum(coalesce(d.amount, 0)) filter (where s.is_won and p.in_period), 0),
                count(*) filter (where s.is_won and p.in_period),
                count(*) filter (where s.is_lost and p.in_period),
                round(avg((d.stage_changed_at at time zone 'Asia/Seoul')::date
                          - (d.created_at at time zone 'Asia/Seoul')::date) filter (where s.is_won and p.in_period), 1)
         from deals d join stages s on s.id = d.stage_id join users u on u.id = d.owner_id
         cross join lateral (select coalesce(date_trunc('month', d.expected_close_date)::date between $1 and $2,
                                             false) as in_period) p
         where d.deleted_at is null and ($3::uuid is null or d.owner_id = $3)
         group by u.display_name, d.currency order by d.currency, open desc, u.display_name",
    )
    .bind(from)
    .bind(to)
    .bind(owner)
    .fetch_all(&app.pool)
    .await
    .expect("leaderboard")
}

fn panel_leaderboard(d: &Dashboard) -> Vec<OwnerRow> {
    d.leaderboard
        .iter()
        .map(|o| {
            let r = &o.rate;
            (
                o.owner_name.clone(),
                o.currency.clone(),
                o.open_amount,
                o.weighted,
                o.won_amount,
                r.won_count,
                r.lost_count,
                o.days_to_close,
            )
        })
        .collect()
}

type StageTimeRow = (String, i64, Decimal, Decimal);

/// Per stage: finished stays of live deals, their average and median length
/// in Seoul calendar days, straight from the stage history.
async fn sql_stage_time(app: &TestApp, owner: Option<Uuid>) -> Vec<StageTimeRow> {
    sqlx::query_as(
        "select x.to_stage, count(*), round(avg(x.days), 1),
                (percentile_cont(0.5) within group (order by x.days))::numeric
         from (select h.deal_id, h.to_stage,
                      (lead(h.changed_at) over (partition by h.deal_id order by h.id) at time zone 'Asia/Seoul')::date
                      - (h.changed_at at time zone 'Asia/Seoul')::date as days
               from deal_stage_history h) x
         join deals d on d.id = x.deal_id and d.deleted_at is null
         join stages s on s.id = x.to_stage
         where x.days is not null and ($1::uuid is null or d.owner_id = $1)
         group by x.to_stage, s.position order by s.position",
    )
    .bind(owner)
    .fetch_all(&app.pool)
    .await
    .expect("time in stage")
}

fn panel_stage_time(d: &Dashboard) -> Vec<StageTimeRow> {
    d.stage_time.iter().map(|t| (t.stage_id.clone(), t.stays, t.average, t.median)).collect()
}

/// Time passes, moved in the data rather than waited for: every deal was
/// created `days` earlier, and each deal's current stage was entered
/// `entered` days ago (only the open stay's row is touched: finished stays
/// are history).
async fn age(app: &TestApp, days: i32, entered: &[(Uuid, i32)]) {
    sqlx::query("update deals set created_at = created_at - make_interval(days => $1)")
        .bind(days)
        .execute(&app.pool)
        .await
        .expect("age deals");
    for (deal, entered) in entered {
        sqlx::query(
            "update deal_stage_history set changed_at = now() - make_interval(days => $2)
             where id = (select max(id) from deal_stage_history where deal_id = $1)",
        )
        .bind(deal)
        .bind(entered)
        .execute(&app.pool)
        .await
        .expect("age the open stay");
    }
}

#[tokio::test]
async fn every_panel_equals_a_direct_recomputation_and_follows_every_change() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let lee = app.rep("이서연").await;
    let manager = app.manager("박지훈").await;
    let account = kim.create_account(&[("name", "구름클라우드")]).await;
    let theirs = lee.create_account(&[("name", "하늘데이터")]).await;
    let lead = deal(&kim, account, "리드 건", "lead", "10000000", "KRW", &date(40)).await;
    let proposal = deal(&kim, account, "제안 건", "proposal", "33333333", "KRW", &date(70)).await;
    let dollars = deal(&kim, account, "달러 건", "negotiation", "1234.56", "USD", &date(10)).await;
    deal(&kim, account, "수주 건", "won", "50000000", "KRW", &date(0)).await;
    deal(&kim, account, "실주 건", "lost", "7000000", "KRW", &date(0)).await;
    let gone = deal(&lee, theirs, "삭제될 건", "proposal", "90000000", "KRW", &date(20)).await;
    deal(&lee, theirs, "이서연 수주", "won", "20000", "USD", &date(-40)).await;
    let undated = deal(&lee, theirs, "날짜 없는 건", "lead", "", "KRW", "").await;
    age(&app, 20, &[(lead, 12), (proposal, 9), (dollars, 4), (gone, 6), (undated, 15)]).await;

    let check = |label: &'static str| {
        let (app, manager, kim) = (&app, &manager, &kim);
        async move {
            let all = dashboard(manager, "", "quarter").await;
            assert_eq!(panel_by_stage(&all), sql_by_stage(app, None).await, "{label}: pipeline by stage");
            assert_eq!(panel_forecast(&all), sql_forecast(app, None).await, "{label}: forecast");
            assert_eq!(panel_win_rate(&all), sql_win_rate(app, None).await, "{label}: win rate");
            assert_eq!(panel_leaderboard(&all), sql_leaderboard(app, None).await, "{label}: leaderboard");
            assert_eq!(panel_stage_time(&all), sql_stage_time(app, None).await, "{label}: time in stage");
            let own = dashboard(kim, "", "quarter").await;
            assert_eq!(panel_by_stage(&own), sql_by_stage(app, Some(kim.id)).await, "{label}: a rep's own");
            assert_eq!(panel_forecast(&own), sql_forecast(app, Some(kim.id)).await, "{label}: a rep's forecast");
            assert_eq!(panel_win_rate(&own), sql_win_rate(app, Some(kim.id)).await, "{label}: a rep's win rate");
            assert_eq!(panel_leaderboard(&own), sql_leaderboard(app, Some(kim.id)).await, "{label}: a rep's line");
            assert_eq!(panel_stage_time(&own), sql_stage_time(app, Some(kim.id)).await, "{label}: a rep's stages");
        }
    };
    check("after creating").await;

    // A board move, an edit, a delete and a restore: the panels follow each.
    kim.move_deal(proposal, app.version("deals", proposal).await, "negotiation").await.assert_status(StatusCode::OK);
    check("after a move").await;
    lee.delete_record("deal", gone, 1).await.assert_status(StatusCode::OK);
    check("after a delete").await;
    manager.restore_record("deal", gone).await.assert_status(StatusCode::OK);
    check("after a restore").await;

    // Win rate over the quarter, by count and by value, per currency.
    let all = dashboard(&manager, "", "quarter").await;
    let krw = all.win_rate.iter().find(|w| w.currency == "KRW").expect("KRW closed deals");
    assert_eq!((krw.won_count, krw.lost_count), (1, 1));
    assert_eq!((krw.by_count(), krw.by_value()), (Some("50.0".parse().unwrap()), Some("87.7".parse().unwrap())));
    // The leaderboard has one line per owner and currency, never adding currencies.
    let kim_krw = all.leaderboard.iter().find(|o| o.owner_name == "김민준" && o.currency == "KRW").expect("kim");
    assert_eq!(kim_krw.won_amount, Decimal::from(50_000_000));
    assert_eq!(kim_krw.open_amount, Decimal::from(43_333_333));
    assert!(all.leaderboard.iter().any(|o| o.owner_name == "김민준" && o.currency == "USD"));

    // A rep's figures are their own whatever the filter says; a manager filters by owner.
    let lee_id = lee.id.to_string();
    let rep_tries = dashboard(&kim, &lee_id, "quarter").await;
    assert_eq!(panel_by_stage(&rep_tries), sql_by_stage(&app, Some(kim.id)).await);
    assert!(!rep_tries.can_filter_owner);
    let filtered = dashboard(&manager, &lee_id, "quarter").await;
    assert_eq!(panel_by_stage(&filtered), sql_by_stage(&app, Some(lee.id)).await);
    assert!(filtered.leaderboard.iter().all(|o| o.owner_name == "이서연"));
    assert_eq!(
        app.viewer("최유나").await.post_fn("/api/dashboard", &fields(&[("query[owner]", "")])).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.no_role("한손님").await.post_fn("/api/dashboard", &fields(&[("query[owner]", "")])).await.status,
        StatusCode::FORBIDDEN
    );

    // The page draws its charts on the server, with their titles and tables.
    let page = manager.get("/dashboard").await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains(r#"role="img""#) && page.body.contains("chart-pipeline-KRW"));
    assert!(page.body.contains("<title>") && page.body.contains("<desc>"));
    assert!(page.body.contains("panel-win-rate") && page.body.contains("panel-leaderboard"));

    assert!(page.body.contains("chart-stage-time"), "time in stage has its chart once a deal moved on");
    // One finished stay so far: nine days in proposal before the move.
    let nine = Decimal::from(9);
    assert_eq!(panel_stage_time(&dashboard(&manager, "", "quarter").await), [("proposal".to_string(), 1, nine, nine)]);

    // Concurrent writes: two board moves, a move by the manager and a change
    // of owner and currency, all at once.
    let (lead_v, proposal_v, dollars_v, gone_v) = (
        app.version("deals", lead).await,
        app.version("deals", proposal).await,
        app.version("deals", dollars).await,
        app.version("deals", gone).await,
    );
    let (account_id, close) = (account.to_string(), date(10));
    let handover = [
        ("name", "달러 건"),
        ("account_id", account_id.as_str()),
        ("stage_id", "negotiation"),
        ("amount", "1234000"),
        ("currency", "KRW"),
        ("probability", "70"),
        ("expected_close_date", close.as_str()),
        ("owner_id", lee_id.as_str()),
        ("source", ""),
        ("lost_reason", ""),
    ];
    let (a, b, c, e) = tokio::join!(
        kim.move_deal(lead, lead_v, "qualified"),
        kim.move_deal(proposal, proposal_v, "won"),
        manager.update_deal(dollars, dollars_v, &handover),
        manager.move_deal(gone, gone_v, "negotiation"),
    );
    for res in [a, b, c, e] {
        res.assert_status(StatusCode::OK);
    }
    check("after concurrent writes").await;

    // An import: one deal updated (its stage too) and one created, then undone.
    let admin = app.admin("관리자").await;
    let csv = format!(
        "고객사명,영업기회명,단계,금액,통화,예상 마감일,담당 영업\r\n\
         구름클라우드,리드 건,제안,10000000,KRW,{},김민준\r\n\
         구름클라우드,가져온 수주 건,수주,25000000,KRW,{},김민준\r\n",
        date(40),
        date(0)
    );
    let (import_id, _, summary) =
        crate::imports::import(&admin, "deals.csv", csv.as_bytes(), app::import::ImportMode::AllOrNothing).await;
    assert_eq!((summary.counts.deal.created, summary.counts.deal.updated), (1, 1), "{:?}", summary.error);
    check("after an import").await;
    admin.post_fn("/api/imports/undo", &fields(&[("id", &import_id.to_string())])).await.assert_status(StatusCode::OK);
    check("after undoing the import").await;
}

#[tokio::test]
async fn stale_deals_are_open_ones_without_activity_oldest_first() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let lee = app.rep("이서연").await;
    let manager = app.manager("박지훈").await;
    let account = kim.create_account(&[("name", "구름클라우드")]).await;
    let theirs = lee.create_account(&[("name", "하늘데이터")]).await;
    let old = deal(&kim, account, "오래된 건", "proposal", "1000", "KRW", &date(30)).await;
    let older = deal(&lee, theirs, "더 오래된 건", "lead", "1000", "KRW", &date(30)).await;
    let won = deal(&kim, account, "수주한 옛 건", "won", "1000", "KRW", &date(0)).await;
    let busy = deal(&kim, account, "최근 통화한 건", "proposal", "1000", "KRW", &date(30)).await;
    // Time passes (the clock is moved in the data, not waited for).
    sqlx::query(
        "update deals set created_at = now() - make_interval(days => case name when '더 오래된 건' then 90 else 45 end)
         where id = any($1)",
    )
    .bind(vec![old, older, won, busy])
    .execute(&app.pool)
    .await
    .expect("age the deals");
    kim.add_activity(&[("target", "deal"), ("target_id", &busy.to_string()), ("kind", "call"), ("subject", "통화")])
        .await
        .assert_status(StatusCode::OK);

    let all = dashboard(&manager, "", "quarter").await;
    let names: Vec<(&str, i64)> = all.stale.iter().map(|s| (s.name.as_str(), s.idle_days)).collect();
    assert_eq!(names, [("더 오래된 건", 90), ("오래된 건", 45)], "open deals only, oldest first");
    assert_eq!(all.stale_days, 30);
    let own = dashboard(&kim, "", "quarter").await;
    assert_eq!(own.stale.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["오래된 건"], "a rep's own");
    // Another threshold, as the filter sets it.
    let body = fields(&[("query[owner]", ""), ("query[currency]", ""), ("query[period]", ""), ("query[stale]", "60")]);
    let longer: Dashboard = manager.post_fn("/api/dashboard", &body).await.ok();
    assert_eq!(longer.stale.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["더 오래된 건"]);
    let page = manager.get("/dashboard").await;
    assert!(page.body.contains("panel-stale") && page.body.contains(&format!("/deals/{older}")));
}
