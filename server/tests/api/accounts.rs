//! Accounts (고객사) through their server functions: create, validation,
//! search, filters, sorting, paging, optimistic locking, soft delete.

use axum::http::StatusCode;
use base64::Engine;
use uuid::Uuid;

use crate::helpers::*;
use app::error::AppError;
use app::i18n::T;

#[tokio::test]
async fn create_keeps_korean_text_and_stores_the_business_number_as_digits() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;

    let res = rep
        .try_create_account(&[
            ("name", "(주)구름클라우드"),
            ("business_number", "220-81-62517"),
            ("industry", "it"),
            ("company_size", "medium"),
            ("address", "서울특별시 강남구 테헤란로 152"),
            ("main_phone", "02-3000-1000"),
            ("website", "gurum.co.kr"),
            ("notes", "첫 미팅: 2월\n둘째 줄"),
        ])
        .await;
    let id: String = res.ok();
    let id: Uuid = id.parse().expect("the new id");
    // The app's client follows this to the new account's page.
    assert!(res.header("serverfnredirect").is_some(), "headers: {:?}", res.headers);
    assert_eq!(res.location(), Some(format!("/accounts/{id}?notice=created").as_str()));

    let stored = app.row("accounts", id).await;
    assert_eq!(stored["business_number"], "2208162517");
    assert_eq!(stored["name"], "(주)구름클라우드");
    assert_eq!(stored["website"], "https://gurum.co.kr");
    assert_eq!(stored["owner_id"], rep.id.to_string());
    assert_eq!(stored["version"], 1);

    let detail = rep.account(id).await;
    let a = &detail.account;
    assert_eq!(a.name, "(주)구름클라우드");
    assert_eq!(a.business_number.as_deref(), Some("220-81-62517"));
    assert_eq!(a.industry.as_deref(), Some("it"));
    assert_eq!(a.company_size.as_deref(), Some("medium"));
    assert_eq!(a.address.as_deref(), Some("서울특별시 강남구 테헤란로 152"));
    assert_eq!(a.main_phone.as_deref(), Some("02-3000-1000"));
    assert_eq!(a.website.as_deref(), Some("https://gurum.co.kr"));
    assert_eq!(a.notes.as_deref(), Some("첫 미팅: 2월\n둘째 줄"));
    assert_eq!((a.owner.id, a.owner.display_name.as_str()), (rep.id, "김민준"));
    assert_eq!((a.created_by.as_str(), a.updated_by.as_str()), ("김민준", "김민준"));
    assert_eq!(a.version, 1);
    assert!(a.deleted_at.is_none());
    assert!(detail.can.edit && !detail.can.reassign && !detail.can.restore);

    let audit = app.audit(id).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!((audit[0].entity.as_str(), audit[0].action.as_str()), ("account", "create"));
    assert_eq!(audit[0].actor_id, rep.id);
    assert!(audit[0].before.is_none());
    assert_eq!(audit[0].after.as_ref().expect("after")["business_number"], "2208162517");
    assert_eq!(detail.history.len(), 1);
    assert_eq!((detail.history[0].action.code(), detail.history[0].actor.as_str()), ("create", "김민준"));

    // The list shows it dashed as well, and without dashes or with spaces it is the same number.
    let page = rep.list_accounts(&[]).await;
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].business_number.as_deref(), Some("220-81-62517"));
    assert_eq!(page.rows[0].owner_name, "김민준");
    let again = rep.try_create_account(&[("name", "중복"), ("business_number", " 220 81 62517 ")]).await;
    assert_eq!(again.field_errors(), vec![("business_number".to_string(), T::BusinessNumberTaken)]);
}

#[tokio::test]
async fn invalid_input_is_refused_with_the_field_named_and_nothing_written() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let cases: Vec<(&str, String, T)> = vec![
        ("business_number", "220-81-62518".into(), T::BusinessNumberCheckDigit),
        ("business_number", "220-81-6251".into(), T::BusinessNumberLength),
        ("business_number", "220-8l-62517".into(), T::BusinessNumberDigits),
        ("name", "가".repeat(201), T::TooLong),
        ("name", "   ".into(), T::Required),
        ("name", "구름\u{7}클라우드".into(), T::ControlCharacters),
        ("name", "구름\n클라우드".into(), T::ControlCharacters),
        ("address", "서울\u{1b}[31m".into(), T::ControlCharacters),
        ("main_phone", "02-12".into(), T::InvalidPhone),
        ("main_phone", "02-1234-567a".into(), T::InvalidPhone),
        ("website", "javascript://alert(1)".into(), T::InvalidWebsite),
        ("website", "localhost".into(), T::InvalidWebsite),
        ("website", "https://exa mple.com".into(), T::InvalidWebsite),
        ("industry", "aerospace".into(), T::InvalidChoice),
        ("company_size", "huge".into(), T::InvalidChoice),
        ("owner_id", "someone".into(), T::InvalidChoice),
        ("notes", "메모".repeat(2001), T::TooLong),
    ];
    for (field, value, message) in &cases {
        let mut pairs = vec![("name", "정상회사"), ("industry", "it")];
        pairs.retain(|(k, _)| k != field);
        pairs.push((field, value));
        let res = rep.try_create_account(&pairs).await;
        assert_eq!(res.field_errors(), vec![(field.to_string(), *message)], "{field} = {value:?}");
        // The input comes back so the form keeps it on screen.
        let submitted = res.error().submitted().cloned().unwrap_or_default();
        assert!(submitted.contains(&(field.to_string(), value.clone())), "{field}: {submitted:?}");
    }

    // Several problems are reported together.
    let res = rep.try_create_account(&[("name", ""), ("main_phone", "12"), ("website", "nowhere")]).await;
    let mut fields: Vec<String> = res.field_errors().into_iter().map(|(f, _)| f).collect();
    fields.sort();
    assert_eq!(fields, ["main_phone", "name", "website"]);

    assert_eq!(app.count("accounts").await, 0);
    assert_eq!(app.count("audit_log").await, 0);

    // The limits themselves are allowed.
    let id = rep.create_account(&[("name", &"가".repeat(200)), ("notes", "줄 하나\n줄 둘\t탭")]).await;
    assert_eq!(rep.account(id).await.account.name.chars().count(), 200);
}

#[tokio::test]
async fn a_business_number_belongs_to_one_account_even_after_deletion() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let lee = app.rep("이서연").await;
    let bn = business_number(220_816_251);
    let first = kim.create_account(&[("name", "구름클라우드"), ("business_number", &bn)]).await;

    let res = lee.try_create_account(&[("name", "다른회사"), ("business_number", &bn.replace('-', ""))]).await;
    assert_eq!(res.field_errors(), vec![("business_number".to_string(), T::BusinessNumberTaken)]);
    assert!(res.error().submitted().expect("input kept").contains(&("name".into(), "다른회사".into())));
    assert_eq!(app.count("accounts").await, 1);

    // Changing another account to the taken number is refused the same way.
    let second = lee.create_account(&[("name", "바다물류")]).await;
    let res = lee.update_account(second, 1, &[("name", "바다물류"), ("business_number", &bn)]).await;
    assert_eq!(res.field_errors(), vec![("business_number".to_string(), T::BusinessNumberTaken)]);
    assert_eq!(app.version("accounts", second).await, 1);
    assert!(app.row("accounts", second).await["business_number"].is_null());

    // A deleted account keeps its number, so restoring it can never collide.
    kim.delete_account(first, 1).await.assert_status(StatusCode::OK);
    let res = lee.try_create_account(&[("name", "새회사"), ("business_number", &bn)]).await;
    assert_eq!(res.field_errors(), vec![("business_number".to_string(), T::BusinessNumberTaken)]);
    assert_eq!(app.count("accounts").await, 2);
}

#[tokio::test]
async fn markup_in_a_name_is_kept_as_text_and_never_rendered_as_markup() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let name = r#"<script>alert("x")</script> & <b>구름</b>"#;
    let notes = "<img src=x onerror=alert(1)>";
    let id = rep.create_account(&[("name", name), ("notes", notes)]).await;

    let stored = app.row("accounts", id).await;
    assert_eq!(stored["name"], name);
    assert_eq!(stored["notes"], notes);
    let account = rep.account(id).await.account;
    assert_eq!((account.name.as_str(), account.notes.as_deref()), (name, Some(notes)));

    // The server-rendered page shows it escaped.
    let page = rep.get(&format!("/accounts/{id}")).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("&lt;script&gt;alert"), "name not shown escaped: {}", page.body);
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"), "notes not shown escaped");
    assert!(!page.body.contains("<script>alert"), "markup rendered as markup");
    assert!(!page.body.contains("<img src=x"), "markup rendered as markup");
    assert!(!page.body.contains("<b>구름</b>"), "markup rendered as markup");
}

#[tokio::test]
async fn search_finds_partial_korean_words_business_number_digits_and_contact_names() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    rep.create_account(&[("name", "구름클라우드"), ("business_number", &business_number(220_816_251))]).await;
    let hanbit = rep.create_account(&[("name", "한빛제조"), ("business_number", &business_number(120_810_000))]).await;
    rep.create_account(&[("name", "서울핀테크")]).await;
    rep.create_account(&[("name", "Azure Partners Korea")]).await;
    rep.create_account(&[("name", "100% 만족 서비스")]).await;
    let contact = rep.create_contact(&[("account_id", &hanbit.to_string()), ("name", "이준호")]).await;

    assert_eq!(rep.account_names(&[("q", "클라우")]).await, ["구름클라우드"]);
    assert_eq!(rep.account_names(&[("q", "  핀테 ")]).await, ["서울핀테크"]);
    assert_eq!(rep.account_names(&[("q", "azure")]).await, ["Azure Partners Korea"]);
    // Digits of the business number, with or without dashes.
    assert_eq!(rep.account_names(&[("q", "2208162517")]).await, ["구름클라우드"]);
    assert_eq!(rep.account_names(&[("q", "81-625")]).await, ["구름클라우드"]);
    assert_eq!(rep.account_names(&[("q", "120-81")]).await, ["한빛제조"]);
    // An account is found by its contact's name.
    assert_eq!(rep.account_names(&[("q", "준호")]).await, ["한빛제조"]);
    // The user's wildcards are taken literally.
    assert_eq!(rep.account_names(&[("q", "0%")]).await, ["100% 만족 서비스"]);
    assert!(rep.account_names(&[("q", "0_")]).await.is_empty(), "as a wildcard, '0_' would match '100'");
    assert!(rep.account_names(&[("q", "없는회사")]).await.is_empty());
    // The contact count is shown on the row.
    let row = rep.list_accounts(&[("q", "한빛")]).await.rows.remove(0);
    assert_eq!(row.contact_count, 1);

    // A deleted contact no longer leads to its account.
    rep.delete_contact(contact, 1).await.assert_status(StatusCode::OK);
    assert!(rep.account_names(&[("q", "준호")]).await.is_empty());
}

#[tokio::test]
async fn owner_and_industry_filters_narrow_the_list() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let lee = app.rep("이서연").await;
    kim.create_account(&[("name", "가온데이터"), ("industry", "it")]).await;
    kim.create_account(&[("name", "한결보험"), ("industry", "finance")]).await;
    lee.create_account(&[("name", "누리소프트"), ("industry", "it")]).await;
    lee.create_account(&[("name", "서울핀테크"), ("industry", "finance")]).await;
    lee.create_account(&[("name", "바다물류")]).await;

    let (kim_id, lee_id) = (kim.id.to_string(), lee.id.to_string());
    assert_eq!(kim.account_names(&[("owner", &kim_id)]).await, ["가온데이터", "한결보험"]);
    assert_eq!(kim.account_names(&[("owner", &lee_id)]).await, ["누리소프트", "바다물류", "서울핀테크"]);
    assert_eq!(kim.account_names(&[("industry", "finance")]).await, ["서울핀테크", "한결보험"]);
    assert_eq!(kim.account_names(&[("owner", &lee_id), ("industry", "it")]).await, ["누리소프트"]);
    assert_eq!(kim.account_names(&[("owner", &lee_id), ("q", "핀테")]).await, ["서울핀테크"]);
    let rows = kim.list_accounts(&[("owner", &lee_id), ("industry", "finance")]).await.rows;
    assert_eq!(rows[0].owner_name, "이서연");
    assert_eq!(rows[0].industry.as_deref(), Some("finance"));
    // An owner nobody has lists nothing.
    assert!(kim.account_names(&[("owner", &Uuid::new_v4().to_string())]).await.is_empty());
    // No filter: everything, by name.
    assert_eq!(kim.account_names(&[]).await, ["가온데이터", "누리소프트", "바다물류", "서울핀테크", "한결보험"]);
}

#[tokio::test]
async fn the_list_sorts_by_name_creation_and_last_change() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let namu = rep.create_account(&[("name", "나무상사")]).await;
    rep.create_account(&[("name", "가나다상사")]).await;
    rep.create_account(&[("name", "다온전자")]).await;

    assert_eq!(rep.account_names(&[("sort", "name")]).await, ["가나다상사", "나무상사", "다온전자"]);
    assert_eq!(rep.account_names(&[("sort", "-name")]).await, ["다온전자", "나무상사", "가나다상사"]);
    assert_eq!(rep.account_names(&[("sort", "-created")]).await, ["다온전자", "가나다상사", "나무상사"]);
    // An unknown sort falls back to the default (name).
    assert_eq!(rep.account_names(&[("sort", "bogus")]).await, ["가나다상사", "나무상사", "다온전자"]);

    rep.update_account(namu, 1, &[("name", "나무상사"), ("main_phone", "02-555-1234")])
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(rep.account_names(&[("sort", "-updated")]).await, ["나무상사", "다온전자", "가나다상사"]);
}

/// Collects ids page by page following `next`, then walks back with `prev`.
async fn walk(rep: &Client<'_>, sort: &str) -> (Vec<Vec<Uuid>>, Vec<Vec<Uuid>>) {
    let mut forward = Vec::new();
    let mut after = String::new();
    let last_prev = loop {
        let page = rep.list_accounts(&[("sort", sort), ("after", &after)]).await;
        assert!(page.rows.len() <= 50);
        assert_eq!(page.prev.is_some(), !forward.is_empty(), "prev on page {}", forward.len() + 1);
        forward.push(page.rows.iter().map(|r| r.id).collect::<Vec<_>>());
        match page.next {
            Some(next) => after = next,
            None => break page.prev,
        }
        assert!(forward.len() < 10, "paging does not end");
    };
    let mut backward = vec![forward.last().expect("a page").clone()];
    let mut before = last_prev;
    while let Some(cursor) = before {
        let page = rep.list_accounts(&[("sort", sort), ("before", &cursor)]).await;
        assert!(page.next.is_some(), "a page reached backwards has a next page");
        backward.insert(0, page.rows.iter().map(|r| r.id).collect());
        before = page.prev;
        assert!(backward.len() < 10, "paging back does not end");
    }
    (forward, backward)
}

#[tokio::test]
async fn keyset_paging_walks_forward_and_back_over_more_than_one_page() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    // 120 accounts; created all at the same instant (as an import would), so
    // paging by creation must break the tie by id.
    sqlx::query(
        "insert into accounts (name, owner_id, created_by, updated_by, created_at)
         select format('회사 %s', lpad(i::text, 3, '0')), $1, $1, $1, timestamptz '2025-03-01 09:00:00+09'
         from generate_series(1, 120) i",
    )
    .bind(rep.id)
    .execute(&app.pool)
    .await
    .expect("insert accounts");

    let first = rep.list_accounts(&[]).await;
    let names: Vec<String> = first.rows.iter().map(|r| r.name.clone()).collect();
    let expected: Vec<String> = (1..=50).map(|i| format!("회사 {i:03}")).collect();
    assert_eq!(names, expected);
    assert!(first.prev.is_none());
    let second = rep.list_accounts(&[("after", first.next.as_deref().expect("next"))]).await;
    assert_eq!(second.rows.first().map(|r| r.name.as_str()), Some("회사 051"));
    assert_eq!(second.rows.last().map(|r| r.name.as_str()), Some("회사 100"));
    let back = rep.list_accounts(&[("before", second.prev.as_deref().expect("prev"))]).await;
    assert_eq!(back.rows, first.rows, "prev from page 2 is page 1 again");
    assert!(back.prev.is_none());
    assert_eq!(back.next, first.next);

    for sort in ["name", "-name", "-created", "-updated"] {
        let (forward, backward) = walk(&rep, sort).await;
        assert_eq!(forward.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 20], "{sort}");
        let mut all: Vec<Uuid> = forward.concat();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 120, "{sort}: every account exactly once");
        assert_eq!(forward, backward, "{sort}: walking back shows the same pages");
    }
    let reversed: Vec<Uuid> = walk(&rep, "-name").await.0.concat().into_iter().rev().collect();
    assert_eq!(walk(&rep, "name").await.0.concat(), reversed);
}

#[tokio::test]
async fn an_update_with_the_current_version_saves_bumps_the_version_and_is_audited() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let id = rep.create_account(&[("name", "구름클라우드"), ("main_phone", "02-1234-5678"), ("industry", "it")]).await;

    let res = rep
        .update_account(id, 1, &[("name", "구름클라우드(주)"), ("main_phone", "02-8765-4321"), ("industry", "it")])
        .await;
    res.ok::<()>();
    assert_eq!(res.location(), Some(format!("/accounts/{id}?notice=saved").as_str()));

    let detail = rep.account(id).await;
    assert_eq!(detail.account.version, 2);
    assert_eq!(detail.account.name, "구름클라우드(주)");
    assert_eq!(detail.account.main_phone.as_deref(), Some("02-8765-4321"));
    assert_eq!(detail.account.owner.id, rep.id, "an update without owner keeps the owner");

    let audit = app.audit(id).await;
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["create", "update"]);
    let update = &audit[1];
    assert_eq!(update.actor_id, rep.id);
    let (before, after) = (update.before.as_ref().expect("before"), update.after.as_ref().expect("after"));
    assert_eq!((&before["name"], &after["name"]), (&"구름클라우드".into(), &"구름클라우드(주)".into()));
    assert_eq!((&before["main_phone"], &after["main_phone"]), (&"02-1234-5678".into(), &"02-8765-4321".into()));
    assert_eq!((&before["version"], &after["version"]), (&1.into(), &2.into()));

    // The history shows what changed, newest first.
    let latest = &detail.history[0];
    assert_eq!((latest.action.code(), latest.actor.as_str()), ("update", "김민준"));
    let mut changed: Vec<&str> = latest.changes.iter().map(|c| c.field.as_str()).collect();
    changed.sort();
    assert_eq!(changed, ["main_phone", "name"]);

    // The old version is now stale.
    rep.update_account(id, 1, &[("name", "또 다른 이름")]).await.assert_status(StatusCode::CONFLICT);
    rep.update_account(id, 2, &[("name", "또 다른 이름")]).await.assert_status(StatusCode::OK);
    assert_eq!(app.version("accounts", id).await, 3);
}

#[tokio::test]
async fn a_stale_save_is_refused_naming_who_changed_the_record_and_keeping_the_input() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let park = app.manager("박지훈").await;
    let id = kim.create_account(&[("name", "구름클라우드")]).await;
    park.update_account(id, 1, &[("name", "구름클라우드 (팀장 수정)")]).await.assert_status(StatusCode::OK);

    let before = app.fingerprint().await;
    let res = kim.update_account(id, 1, &[("name", "구름 (김민준 수정)"), ("main_phone", "02-1111-2222")]).await;
    res.assert_status(StatusCode::CONFLICT);
    match res.error() {
        AppError::Conflict { changed_by, submitted, .. } => {
            assert_eq!(changed_by, "박지훈");
            assert!(submitted.contains(&("name".into(), "구름 (김민준 수정)".into())), "{submitted:?}");
            assert!(submitted.contains(&("main_phone".into(), "02-1111-2222".into())), "{submitted:?}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Deleting from the stale version is refused too.
    let res = kim.delete_account(id, 1).await;
    res.assert_status(StatusCode::CONFLICT);
    assert!(matches!(res.error(), AppError::Conflict { changed_by, .. } if changed_by == "박지훈"));

    assert_eq!(app.fingerprint().await, before, "a refused save changes nothing");
    assert_eq!(kim.account(id).await.account.name, "구름클라우드 (팀장 수정)");
}

#[tokio::test]
async fn simultaneous_saves_from_the_same_version_never_overwrite_each_other() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let park = app.manager("박지훈").await;
    let id = kim.create_account(&[("name", "구름클라우드")]).await;

    let (a, b) = tokio::join!(
        kim.update_account(id, 1, &[("name", "김민준의 수정")]),
        park.update_account(id, 1, &[("name", "박지훈의 수정")]),
    );
    let (winner, loser, winning_name, winner_name) = match (a.status, b.status) {
        (StatusCode::OK, StatusCode::CONFLICT) => (&kim, b, "김민준의 수정", "김민준"),
        (StatusCode::CONFLICT, StatusCode::OK) => (&park, a, "박지훈의 수정", "박지훈"),
        other => panic!("expected one save and one conflict, got {other:?}: {} / {}", a.body, b.body),
    };
    assert!(matches!(loser.error(), AppError::Conflict { changed_by, .. } if changed_by == winner_name));
    let account = winner.account(id).await.account;
    assert_eq!((account.name.as_str(), account.version), (winning_name, 2));
    let actions: Vec<String> = app.audit(id).await.into_iter().map(|a| a.action).collect();
    assert_eq!(actions, ["create", "update"]);
}

#[tokio::test]
async fn a_tampered_or_missing_version_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let id = rep.create_account(&[("name", "구름클라우드")]).await;
    let before = app.fingerprint().await;

    for version in ["abc", "", "0", "-1", "1.5", "99999999999"] {
        let res = rep.update_account(id, version, &[("name", "바뀐 이름")]).await;
        res.assert_status(StatusCode::BAD_REQUEST);
        assert!(res.error().submitted().is_some_and(|s| s.contains(&("name".into(), "바뀐 이름".into()))));
        rep.delete_account(id, version).await.assert_status(StatusCode::BAD_REQUEST);
    }
    assert_eq!(app.fingerprint().await, before);
}

/// Arguments the server cannot read at all (a field missing, a hand-made
/// post) are the client's fault: 400, not a server error.
#[tokio::test]
async fn unreadable_arguments_are_a_bad_request_not_a_server_error() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let id = rep.create_account(&[("name", "구름클라우드")]).await.to_string();
    let before = app.fingerprint().await;

    let mut no_version = fields(&[("id", &id)]);
    no_version.extend(form(&[("name", "바뀐 이름")]));
    let calls: Vec<(&str, Vec<(String, String)>)> = vec![
        ("/api/accounts/update", no_version),
        ("/api/records/delete", fields(&[("kind", "account"), ("id", &id)])),
        ("/api/records/delete", fields(&[("kind", "invoice"), ("id", &id), ("version", "1")])),
        ("/api/records/restore", fields(&[("id", &id)])),
        ("/api/accounts/get", vec![]),
        ("/api/accounts/list", fields(&[("query[q]", "구름")])),
    ];
    let mut wrong = Vec::new();
    for (path, body) in calls {
        let res = rep.post_fn(path, &body).await;
        if res.status != StatusCode::BAD_REQUEST || res.error() != AppError::BadRequest {
            wrong.push(format!("{path}: {} {}", res.status, res.body));
        }
    }
    assert!(wrong.is_empty(), "expected 400 BadRequest from every call:\n{}", wrong.join("\n"));
    assert_eq!(app.fingerprint().await, before);
}

#[tokio::test]
async fn unknown_accounts_are_not_found() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    rep.create_account(&[("name", "구름클라우드")]).await;
    let before = app.fingerprint().await;
    let unknown = Uuid::new_v4();

    for id in [unknown.to_string(), "not-a-uuid".into(), "'; drop table accounts; --".into()] {
        let res = rep.get_account(&id).await;
        res.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(res.error(), AppError::NotFound);
        rep.update_account(&id, 1, &[("name", "x")]).await.assert_status(StatusCode::NOT_FOUND);
        rep.delete_account(&id, 1).await.assert_status(StatusCode::NOT_FOUND);
        manager.restore_account(&id).await.assert_status(StatusCode::NOT_FOUND);
    }
    // Restoring a live account: there is nothing deleted to restore.
    let live = rep.list_accounts(&[]).await.rows[0].id;
    manager.restore_account(live).await.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(app.fingerprint().await, before);
}

#[tokio::test]
async fn a_deleted_account_disappears_for_reps_and_a_manager_restores_it() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let viewer = app.viewer("최유나").await;
    let manager = app.manager("박지훈").await;
    let id = rep.create_account(&[("name", "구름클라우드"), ("industry", "it")]).await;
    rep.create_account(&[("name", "한빛제조")]).await;

    let res = rep.delete_account(id, 1).await;
    res.ok::<()>();
    assert_eq!(res.location(), Some("/accounts?notice=deleted"));
    let stored = app.row("accounts", id).await;
    assert!(!stored["deleted_at"].is_null());
    assert_eq!(stored["deleted_by"], rep.id.to_string());

    // Gone for reps and viewers, wherever they look.
    for user in [&rep, &viewer] {
        let res = user.get_account(id).await;
        res.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(user.account_names(&[]).await, ["한빛제조"]);
        assert_eq!(user.account_names(&[("deleted", "true")]).await, ["한빛제조"], "only managers list deleted");
        assert!(user.account_names(&[("q", "클라우")]).await.is_empty());
        let page = user.get(&format!("/accounts/{id}")).await;
        assert!(!page.body.contains("구름클라우드"), "the deleted account's page leaks it: {}", page.body);
    }
    rep.update_account(id, 2, &[("name", "되살리기")]).await.assert_status(StatusCode::NOT_FOUND);
    rep.delete_account(id, 2).await.assert_status(StatusCode::NOT_FOUND);

    // A manager still sees it, marked deleted, and may restore it.
    let detail = manager.account(id).await;
    assert!(detail.account.deleted_at.is_some());
    assert!(detail.can.restore && !detail.can.edit);
    assert_eq!(manager.account_names(&[]).await, ["한빛제조"]);
    assert_eq!(manager.account_names(&[("deleted", "true")]).await, ["구름클라우드"]);

    let res = manager.restore_account(id).await;
    res.ok::<()>();
    assert_eq!(res.location(), Some(format!("/accounts/{id}?notice=restored").as_str()));
    let detail = rep.account(id).await;
    assert!(detail.account.deleted_at.is_none());
    assert_eq!(detail.account.version, 3);
    assert_eq!(detail.account.updated_by, "박지훈");
    assert!(app.row("accounts", id).await["deleted_by"].is_null());
    assert_eq!(rep.account_names(&[]).await, ["구름클라우드", "한빛제조"]);

    let audit = app.audit(id).await;
    let trail: Vec<(&str, Uuid)> = audit.iter().map(|a| (a.action.as_str(), a.actor_id)).collect();
    assert_eq!(trail, [("create", rep.id), ("delete", rep.id), ("restore", manager.id)]);
    let delete = &audit[1];
    assert!(delete.before.as_ref().expect("before")["deleted_at"].is_null());
    assert!(!delete.after.as_ref().expect("after")["deleted_at"].is_null());
    assert!(audit[2].after.as_ref().expect("after")["deleted_at"].is_null());

    // A manager's delete keeps them on the (now deleted) account's page.
    let res = manager.delete_account(id, 3).await;
    res.ok::<()>();
    assert_eq!(res.location(), Some(format!("/accounts/{id}?notice=deleted").as_str()));
}

#[tokio::test]
async fn only_managers_reassign_owners() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let lee = app.rep("이서연").await;
    let park = app.manager("박지훈").await;
    let lee_id = lee.id.to_string();

    // A rep cannot hand a new account to someone else...
    let res = kim.try_create_account(&[("name", "구름클라우드"), ("owner_id", &lee_id)]).await;
    assert_eq!(res.field_errors(), vec![("owner_id".to_string(), T::OwnerOnlyManagers)]);
    assert_eq!(app.count("accounts").await, 0);
    // ...but may name themselves.
    let id = kim.create_account(&[("name", "구름클라우드"), ("owner_id", &kim.id.to_string())]).await;
    // Nor an existing one.
    let res = kim.update_account(id, 1, &[("name", "구름클라우드"), ("owner_id", &lee_id)]).await;
    assert_eq!(res.field_errors(), vec![("owner_id".to_string(), T::OwnerOnlyManagers)]);
    assert_eq!(app.row("accounts", id).await["owner_id"], kim.id.to_string());
    assert_eq!(app.version("accounts", id).await, 1);

    // A manager reassigns; the new owner may now edit it, the old one not.
    park.update_account(id, 1, &[("name", "구름클라우드"), ("owner_id", &lee_id)]).await.assert_status(StatusCode::OK);
    let detail = lee.account(id).await;
    assert_eq!(detail.account.owner.display_name, "이서연");
    assert!(detail.can.edit);
    assert!(!kim.account(id).await.can.edit);
    kim.update_account(id, 2, &[("name", "김민준의 것")]).await.assert_status(StatusCode::FORBIDDEN);
    lee.update_account(id, 2, &[("name", "구름클라우드(주)")]).await.assert_status(StatusCode::OK);

    // A manager creates for someone else; an unknown owner is a field error.
    let other = park.create_account(&[("name", "한빛제조"), ("owner_id", &lee_id)]).await;
    let account = lee.account(other).await.account;
    assert_eq!((account.owner.id, account.created_by.as_str()), (lee.id, "박지훈"));
    let res = park.try_create_account(&[("name", "유령회사"), ("owner_id", &Uuid::new_v4().to_string())]).await;
    assert_eq!(res.field_errors(), vec![("owner_id".to_string(), T::InvalidChoice)]);
    assert_eq!(app.count("accounts").await, 2);
}

/// Without JavaScript a refused form comes back with what was typed and why,
/// kept on the server behind a one-time id: the URL carries neither the
/// input nor the error, a link cannot forge a refusal, and another session
/// cannot read it.
#[tokio::test]
async fn a_form_posted_without_javascript_comes_back_with_its_error_kept_on_the_server() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let referer = format!("{ORIGIN}/accounts/new");
    let html = [("accept", "text/html,application/xhtml+xml"), ("origin", ORIGIN), ("referer", referer.as_str())];

    let res = rep
        .post_with(
            "/api/accounts/create",
            &form(&[("name", "구름클라우드"), ("business_number", "220-81-62518"), ("main_phone", "02-555-0199")]),
            &html,
        )
        .await;
    res.assert_status(StatusCode::FOUND);
    let location = url::Url::parse(res.location().expect("a redirect")).expect("absolute URL");
    assert!(location.as_str().starts_with(&referer), "{location}");
    let keys: Vec<String> = location.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(keys, ["__echo"], "only the one-time id: {location}");
    assert!(!location.as_str().contains("555"), "no typed data in the URL");
    assert_eq!(app.count("accounts").await, 0);
    assert_eq!(app.count("audit_log").await, 0);

    // The page it leads to shows the reason and the typed values, once.
    let path = format!("{}?{}", location.path(), location.query().unwrap_or_default());
    let reason = T::BusinessNumberCheckDigit.text(app::i18n::Lang::Ko);
    let page = rep.get(&path).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains(reason), "the reason is shown");
    assert!(page.body.contains("02-555-0199"), "what was typed is kept");
    let again = rep.get(&path).await;
    assert!(!again.body.contains(reason), "one time only");

    // Another session cannot read someone's echo.
    let res = rep
        .post_with("/api/accounts/create", &form(&[("name", "구름"), ("business_number", "220-81-62518")]), &html)
        .await;
    let location = url::Url::parse(res.location().expect("a redirect")).expect("absolute URL");
    let path = format!("{}?{}", location.path(), location.query().unwrap_or_default());
    let other = app.rep("이서연").await;
    assert!(!other.get(&path).await.body.contains(reason), "bound to the session that posted");

    // A crafted link carrying an error of its own shows nothing of it.
    let forged = AppError::Conflict {
        changed_by: "가짜 관리자".into(),
        changed_at: chrono::Utc::now(),
        submitted: vec![("name".into(), "가짜회사".into())],
    };
    let encoded = base64::engine::general_purpose::URL_SAFE.encode(serde_json::to_vec(&forged).expect("json"));
    let crafted = format!("/accounts/new?__path=/api/accounts/create&__err={encoded}");
    let page = rep.get(&crafted).await;
    page.assert_status(StatusCode::OK);
    assert!(!page.body.contains("가짜"), "a link cannot show a refusal");

    // Corrected, the same post lands on the new account.
    let res = rep
        .post_with(
            "/api/accounts/create",
            &form(&[("name", "구름클라우드"), ("business_number", "220-81-62517")]),
            &html,
        )
        .await;
    res.assert_status(StatusCode::FOUND);
    let (id,): (Uuid,) = sqlx::query_as("select id from accounts").fetch_one(&app.pool).await.expect("created");
    assert_eq!(res.location(), Some(format!("/accounts/{id}?notice=created").as_str()));
}

/// Every request's statements run under the configured timeout, and a
/// cancelled one reads as "took too long" (503), not as a server fault.
#[tokio::test]
async fn a_statement_past_the_timeout_is_cancelled_and_reads_as_busy() {
    let app = TestApp::spawn_with(Overrides::new().env("DATABASE_STATEMENT_TIMEOUT_MS", "200")).await;
    // Without the timeout this statement would succeed after 5 s.
    let err = sqlx::query("select pg_sleep(5)").execute(&app.pool).await.expect_err("cancelled");
    let err = AppError::from(err);
    assert_eq!(err, AppError::Busy);
    assert_eq!(err.status(), 503);
    assert_eq!(err.message(app::i18n::Lang::En), "The request took too long. Narrow it down and try again.");
    // Ordinary requests still pass.
    let rep = app.rep("김민준").await;
    rep.create_account(&[("name", "빠른고객")]).await;
}

#[tokio::test]
async fn an_empty_list_says_what_to_do_next() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let first = rep.get("/accounts").await;
    first.assert_status(StatusCode::OK);
    assert!(first.body.contains("아직 등록된 고객사가 없습니다."), "nothing yet");
    let start = first.body.split("class=\"next-step\"").nth(1).unwrap_or_default();
    assert!(start.split("</p>").next().unwrap_or_default().contains("href=\"/accounts/new\""), "and where to start");
    let viewer = app.viewer("박지훈").await.get("/accounts").await;
    assert!(viewer.body.contains("아직 등록된 고객사가 없습니다."));
    assert!(!viewer.body.contains("href=\"/accounts/new\""), "no way offered to someone who may not add one");

    rep.create_account(&[("name", "한빛제조")]).await;
    let none = rep.get("/accounts?q=%EC%97%86%EB%8A%94%EB%A7%90").await;
    assert!(none.body.contains("결과가 없습니다."), "a search that finds nothing says so");
    let back = none.body.split("class=\"next-step\"").nth(1).unwrap_or_default();
    assert!(
        back.contains("href=\"/accounts\"") && back.contains("검색 조건 지우고 전체 목록 보기"),
        "with the way back"
    );
    let renewals = rep.get("/renewals").await;
    assert!(renewals.body.contains("이 기간에 갱신이나 해지 통보가 필요한 계약이 없습니다."));
}
