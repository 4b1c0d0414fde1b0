//! List exports through the router: the list as filtered, sorted and seen by
//! the person, as CSV Korean Excel opens and as xlsx with typed cells; what a
//! rep may not see stays out; formula-like text stays text; an exported file
//! imports back changing nothing.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use calamine::{Data, Reader, Xlsx};

use app::import::ImportMode;

use crate::helpers::{Client, TestApp};
use crate::imports::import;

async fn deal(who: &Client<'_>, account: uuid::Uuid, name: &str, stage: &str, amount: &str, currency: &str) {
    let account = account.to_string();
    who.create_deal(&[
        ("name", name),
        ("account_id", &account),
        ("stage_id", stage),
        ("amount", amount),
        ("currency", currency),
        ("probability", ""),
        ("expected_close_date", "2027-03-31"),
        ("owner_id", ""),
        ("source", ""),
        ("lost_reason", ""),
    ])
    .await;
}

fn csv_lines(bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark first, so Korean Excel reads UTF-8");
    text.split("\r\n").filter(|l| !l.is_empty()).map(str::to_string).collect()
}

#[tokio::test]
async fn an_account_export_is_the_list_as_filtered_and_sorted_with_formulas_made_harmless() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    rep.create_account(&[("name", "한빛클라우드"), ("business_number", "220-81-62517"), ("industry", "manufacturing")])
        .await;
    rep.create_account(&[("name", "가람클라우드")]).await;
    rep.create_account(&[("name", "=cmd|' /C calc'!A0 클라우드")]).await;
    rep.create_account(&[("name", "누리통신")]).await;

    let res = rep.get("/export/accounts?format=csv&q=클라우드&sort=-name").await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(res.header("content-disposition").is_some_and(|d| d.starts_with("attachment; filename=\"accounts-")));
    let lines = csv_lines(&app.get_bytes(&rep, "/export/accounts?format=csv&q=클라우드&sort=-name").await);
    assert_eq!(lines[0], "회사명,사업자등록번호,업종,담당 영업,담당자 수,수정");
    let names: Vec<&str> = lines[1..].iter().map(|l| l.split(',').next().unwrap_or_default()).collect();
    assert_eq!(names, ["한빛클라우드", "가람클라우드", "'=cmd|' /C calc'!A0 클라우드"], "search and sort kept");
    assert!(lines[1].starts_with("한빛클라우드,220-81-62517,제조,김민준,0,"), "{}", lines[1]);

    // In English, with English headers.
    let token = rep.token.clone().expect("signed in");
    let en = Request::builder()
        .uri("/export/accounts?format=csv")
        .header(header::COOKIE, format!("{}={token}", server::session::COOKIE))
        .header(header::ACCEPT_LANGUAGE, "en")
        .body(Body::empty())
        .expect("request");
    let en = app.send(en).await;
    assert_eq!(csv_lines(en.body.as_bytes())[0], "Name,Business number,Industry,Owner,Contacts,Updated");
}

#[tokio::test]
async fn a_deal_export_has_typed_cells_and_only_what_the_rep_may_see() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let other = app.rep("이서연").await;
    let mine = rep.create_account(&[("name", "한빛제조")]).await;
    let theirs = other.create_account(&[("name", "누리통신")]).await;
    deal(&rep, mine, "ERP 이전", "proposal", "12000000", "KRW").await;
    deal(&rep, mine, "백업 구축", "lead", "1500.50", "USD").await;
    deal(&other, theirs, "보안 관제", "negotiation", "9000000", "KRW").await;

    let bytes = app.get_bytes(&rep, "/export/deals?format=xlsx").await;
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("an xlsx");
    let sheet = book.sheet_names().first().cloned().expect("a sheet");
    assert_eq!(sheet, "영업기회");
    let range = book.worksheet_range(&sheet).expect("the sheet");
    assert_eq!(range.height(), 3, "a header and the rep's own two deals, not another rep's");
    assert_eq!(range.get((0, 0)), Some(&Data::String("영업기회명".into())));
    assert_eq!(range.get((1, 0)), Some(&Data::String("ERP 이전".into())));
    assert_eq!(range.get((1, 2)), Some(&Data::String("제안".into())));
    assert_eq!(range.get((1, 3)), Some(&Data::Float(12_000_000.0)), "an amount is a number cell");
    assert_eq!(range.get((2, 3)), Some(&Data::Float(1500.5)));
    assert_eq!(range.get((2, 4)), Some(&Data::String("USD".into())));
    assert!(matches!(range.get((1, 6)), Some(Data::DateTime(_))), "the close date is a date cell");

    let manager = app.manager("박지훈").await;
    let all = app.get_bytes(&manager, "/export/deals?format=csv").await;
    assert_eq!(csv_lines(&all).len(), 4, "a manager exports every deal");
}

#[tokio::test]
async fn exports_refuse_strangers_unknown_lists_and_bad_searches_in_the_users_language() {
    let app = TestApp::spawn().await;
    let stranger = app.anonymous().get("/export/accounts?format=csv").await;
    assert_eq!(stranger.status, StatusCode::SEE_OTHER, "sent to sign in, as for any page");
    assert!(stranger.location().is_some_and(|l| l.contains("/auth/login")), "{:?}", stranger.location());
    let rep = app.rep("김민준").await;
    assert_eq!(rep.get("/export/users?format=csv").await.status, StatusCode::NOT_FOUND);
    assert_eq!(rep.get("/export/accounts?format=pdf").await.status, StatusCode::NOT_FOUND);
    let short = rep.get("/export/contacts?format=csv&q=김").await;
    short.assert_status(StatusCode::BAD_REQUEST);
    assert!(short.body.contains("두 글자"), "the search's own message: {}", short.body);
    let long = "가".repeat(10_000);
    assert_eq!(rep.get(&format!("/export/contacts?format=xlsx&q={long}")).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn exported_deal_and_account_workbooks_import_back_changing_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "한빛제조"), ("business_number", "220-81-62517")]).await;
    deal(&rep, account, "ERP 이전", "proposal", "12000000", "KRW").await;
    deal(&rep, account, "백업 구축", "won", "1500.50", "USD").await;

    let before = app.fingerprint().await;
    let file = app.get_bytes(&admin, "/export/deals?format=xlsx").await;
    let (_, preview, summary) = import(&admin, "deals.xlsx", &file, ImportMode::AllOrNothing).await;
    assert_eq!(preview.problem_count, 0, "{:?}", preview.problems);
    assert_eq!((summary.counts.deal.created, summary.counts.deal.updated, summary.counts.deal.unchanged), (0, 0, 2));
    assert_eq!(app.fingerprint().await, before, "the round trip changes nothing");

    let file = app.get_bytes(&admin, "/export/accounts?format=xlsx").await;
    let (_, preview, summary) = import(&admin, "accounts.xlsx", &file, ImportMode::AllOrNothing).await;
    assert_eq!(preview.problem_count, 0, "{:?}", preview.problems);
    let counts = summary.counts.account;
    assert_eq!((counts.created, counts.updated, counts.unchanged), (0, 0, 1));
    assert_eq!(app.fingerprint().await, before, "the accounts round trip changes nothing either");
}

#[tokio::test]
async fn a_list_page_links_to_its_export_with_its_filters_from_the_first_row() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let page = rep.get("/accounts?q=cloud&sort=-name&after=x%7C00000000-0000-0000-0000-000000000000").await;
    page.assert_status(StatusCode::OK);
    let body = page.body.replace("&amp;", "&");
    assert!(body.contains("href=\"/export/accounts?format=xlsx&q=cloud&sort=-name\""), "{body}");
    assert!(body.contains("href=\"/export/accounts?format=csv&q=cloud&sort=-name\""));
    let deals = rep.get("/deals?stage=won").await.body.replace("&amp;", "&");
    assert!(deals.contains("href=\"/export/deals?format=xlsx&stage=won\""));
}

#[tokio::test]
async fn the_renewal_queue_exports_its_window_and_contracts_keep_their_numbers() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "한빛제조")]).await;
    let soon = crate::contracts::in_days(20);
    let later = crate::contracts::in_days(300);
    crate::contracts::create(
        &rep,
        account,
        &[("title", "백업 서비스"), ("contract_number", "C-2026-001"), ("end_date", &soon), ("notice_days", "0")],
    )
    .await;
    crate::contracts::create(&rep, account, &[("title", "관제 서비스"), ("end_date", &later), ("currency", "USD")])
        .await;

    let queue = csv_lines(&app.get_bytes(&rep, "/export/renewals?format=csv").await);
    assert_eq!(queue.len(), 2, "the header and the one contract due within 30 days: {queue:?}");
    assert!(queue[0].starts_with("계약명,계약번호,고객사,"), "{}", queue[0]);
    assert!(
        queue[1].starts_with(&format!("백업 서비스,C-2026-001,한빛제조,유효,{soon},{soon},1500000,KRW,")),
        "{}",
        queue[1]
    );

    let all = csv_lines(&app.get_bytes(&rep, "/export/contracts?format=csv").await);
    assert_eq!(all.len(), 3, "every contract without a window");
}
