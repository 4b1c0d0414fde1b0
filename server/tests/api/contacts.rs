//! Contacts (담당자) through their server functions.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::helpers::*;
use app::error::AppError;
use app::i18n::T;

#[tokio::test]
async fn a_rep_adds_a_contact_to_an_account_they_own() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "한빛제조")]).await;

    let res = rep
        .try_create_contact(&[
            ("account_id", &account.to_string()),
            ("name", "김지현"),
            ("title", "팀장"),
            ("department", "IT운영팀"),
            ("email", " Kim.JH@Hanbit.co.kr "),
            ("phone", "010-1234-5678"),
        ])
        .await;
    let id: String = res.ok();
    let id: Uuid = id.parse().expect("the new id");
    assert_eq!(res.location(), Some(format!("/contacts/{id}?notice=created").as_str()));

    let detail = rep.contact(id).await;
    let row = &detail.contact.row;
    assert_eq!(row.name, "김지현");
    assert_eq!(row.title.as_deref(), Some("팀장"));
    assert_eq!(row.department.as_deref(), Some("IT운영팀"));
    assert_eq!(row.email.as_deref(), Some("kim.jh@hanbit.co.kr"));
    assert_eq!(row.phone.as_deref(), Some("010-1234-5678"));
    assert_eq!((row.account_id, row.account_name.as_str()), (account, "한빛제조"));
    assert_eq!((detail.contact.version, detail.contact.updated_by.as_str()), (1, "김민준"));
    assert!(detail.can.edit && !detail.can.restore);
    assert_eq!(detail.history.len(), 1);

    // It shows on its account and in the account list's count.
    let on_account = rep.account(account).await.contacts;
    assert_eq!(on_account.iter().map(|c| c.id).collect::<Vec<_>>(), [id]);
    assert_eq!(rep.list_accounts(&[]).await.rows[0].contact_count, 1);

    let audit = app.audit(id).await;
    assert_eq!(audit.len(), 1);
    assert_eq!((audit[0].entity.as_str(), audit[0].action.as_str()), ("contact", "create"));
    assert_eq!(audit[0].actor_id, rep.id);
    assert_eq!(audit[0].after.as_ref().expect("after")["account_id"], account.to_string());
}

#[tokio::test]
async fn a_contact_needs_a_live_account() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let deleted = rep.create_account(&[("name", "폐업회사")]).await;
    rep.delete_account(deleted, 1).await.assert_status(StatusCode::OK);
    let before = app.fingerprint().await;

    for account_id in [deleted.to_string(), Uuid::new_v4().to_string(), "없는 고객사".into(), String::new()] {
        let res = rep.try_create_contact(&[("account_id", &account_id), ("name", "김지현")]).await;
        assert_eq!(res.field_errors(), vec![("account_id".to_string(), T::AccountNotFound)], "{account_id:?}");
        assert!(res.error().submitted().expect("input kept").contains(&("name".into(), "김지현".into())));
    }
    assert_eq!(app.fingerprint().await, before, "nothing written");
    assert_eq!(app.count("contacts").await, 0);
}

#[tokio::test]
async fn invalid_contact_fields_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "한빛제조")]).await.to_string();
    let before = app.fingerprint().await;
    let cases: Vec<(&str, String, T)> = vec![
        ("email", "kim@example".into(), T::InvalidEmail),
        ("email", "a@b@c.kr".into(), T::InvalidEmail),
        ("email", "kim jh@hanbit.co.kr".into(), T::InvalidEmail),
        ("email", "@hanbit.co.kr".into(), T::InvalidEmail),
        ("email", "kim@.hanbit.co.kr".into(), T::InvalidEmail),
        ("email", "kim@hanbit..kr".into(), T::InvalidEmail),
        ("phone", "1234".into(), T::InvalidPhone),
        ("phone", "010-1234-567a".into(), T::InvalidPhone),
        ("phone", "010+1234+5678".into(), T::InvalidPhone),
        ("phone", "0".repeat(16), T::InvalidPhone),
        ("name", "".into(), T::Required),
        ("name", "김".repeat(101), T::TooLong),
        ("title", "팀장\u{0}".into(), T::ControlCharacters),
        ("department", "부".repeat(101), T::TooLong),
    ];
    for (field, value, message) in &cases {
        let mut pairs = vec![("account_id", account.as_str()), ("name", "김지현")];
        pairs.retain(|(k, _)| k != field);
        pairs.push((field, value));
        let res = rep.try_create_contact(&pairs).await;
        assert_eq!(res.field_errors(), vec![(field.to_string(), *message)], "{field} = {value:?}");
        assert!(res.error().submitted().expect("input kept").contains(&(field.to_string(), value.clone())));
    }
    assert_eq!(app.fingerprint().await, before);

    // The same checks guard an update.
    let id = rep.create_contact(&[("account_id", &account), ("name", "김지현")]).await;
    let before = app.fingerprint().await;
    let res = rep.update_contact(id, 1, &[("account_id", &account), ("name", "김지현"), ("email", "kim@")]).await;
    assert_eq!(res.field_errors(), vec![("email".to_string(), T::InvalidEmail)]);
    assert_eq!(app.fingerprint().await, before);

    // International and spaced numbers are fine.
    rep.update_contact(id, 1, &[("account_id", &account), ("name", "김지현"), ("phone", "+82 10 1234 5678")])
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn contact_updates_use_optimistic_locking() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let park = app.manager("박지훈").await;
    let account = kim.create_account(&[("name", "한빛제조")]).await.to_string();
    let id = kim.create_contact(&[("account_id", &account), ("name", "김지현"), ("title", "대리")]).await;

    let res = park.update_contact(id, 1, &[("account_id", &account), ("name", "김지현"), ("title", "과장")]).await;
    res.ok::<()>();
    assert_eq!(res.location(), Some(format!("/contacts/{id}?notice=saved").as_str()));

    let before = app.fingerprint().await;
    let res = kim.update_contact(id, 1, &[("account_id", &account), ("name", "김지현"), ("title", "차장")]).await;
    res.assert_status(StatusCode::CONFLICT);
    match res.error() {
        AppError::Conflict { changed_by, submitted, .. } => {
            assert_eq!(changed_by, "박지훈");
            assert!(submitted.contains(&("title".into(), "차장".into())), "{submitted:?}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    kim.delete_contact(id, 1).await.assert_status(StatusCode::CONFLICT);
    kim.update_contact(id, "abc", &[("account_id", &account), ("name", "김지현")])
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(app.fingerprint().await, before, "refused saves change nothing");
    assert_eq!(kim.contact(id).await.contact.row.title.as_deref(), Some("과장"));

    // From the current version it saves.
    kim.update_contact(id, 2, &[("account_id", &account), ("name", "김지현"), ("title", "차장")])
        .await
        .assert_status(StatusCode::OK);
    let contact = kim.contact(id).await.contact;
    assert_eq!((contact.version, contact.row.title.as_deref()), (3, Some("차장")));
    let audit = app.audit(id).await;
    let trail: Vec<(&str, Uuid)> = audit.iter().map(|a| (a.action.as_str(), a.actor_id)).collect();
    assert_eq!(trail, [("create", kim.id), ("update", park.id), ("update", kim.id)]);
    assert_eq!(audit[2].before.as_ref().expect("before")["title"], "과장");
    assert_eq!(audit[2].after.as_ref().expect("after")["title"], "차장");

    // Moving a contact to another account is not an edit.
    let other = kim.create_account(&[("name", "바다물류")]).await.to_string();
    let before = app.fingerprint().await;
    let res = kim.update_contact(id, 3, &[("account_id", &other), ("name", "김지현")]).await;
    assert_eq!(res.field_errors(), vec![("account_id".to_string(), T::InvalidChoice)]);
    assert_eq!(app.fingerprint().await, before);
    kim.update_contact(Uuid::new_v4(), 1, &[("account_id", &account), ("name", "김지현")])
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_deleted_contact_is_hidden_until_a_manager_restores_it() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    let account = rep.create_account(&[("name", "한빛제조")]).await;
    let id = rep.create_contact(&[("account_id", &account.to_string()), ("name", "김지현")]).await;
    rep.create_contact(&[("account_id", &account.to_string()), ("name", "이준호")]).await;

    let res = rep.delete_contact(id, 1).await;
    res.ok::<()>();
    assert_eq!(res.location(), Some(format!("/accounts/{account}?notice=deleted").as_str()));
    assert!(!app.row("contacts", id).await["deleted_at"].is_null());

    rep.get_contact(id).await.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(rep.contact_names(&[]).await, ["이준호"]);
    assert_eq!(rep.contact_names(&[("deleted", "true")]).await, ["이준호"], "only managers list deleted");
    let on_account: Vec<String> = rep.account(account).await.contacts.into_iter().map(|c| c.name).collect();
    assert_eq!(on_account, ["이준호"]);
    assert_eq!(rep.list_accounts(&[]).await.rows[0].contact_count, 1);
    rep.update_contact(id, 2, &[("account_id", &account.to_string()), ("name", "김지현")])
        .await
        .assert_status(StatusCode::NOT_FOUND);

    let detail = manager.contact(id).await;
    assert!(detail.contact.deleted_at.is_some());
    assert!(detail.can.restore && !detail.can.edit);
    assert_eq!(manager.contact_names(&[("deleted", "true")]).await, ["김지현"]);

    let res = manager.restore_contact(id).await;
    res.ok::<()>();
    assert_eq!(res.location(), Some(format!("/contacts/{id}?notice=restored").as_str()));
    let contact = rep.contact(id).await.contact;
    assert!(contact.deleted_at.is_none());
    assert_eq!((contact.version, contact.updated_by.as_str()), (3, "박지훈"));
    assert_eq!(rep.contact_names(&[]).await, ["김지현", "이준호"]);
    manager.restore_contact(id).await.assert_status(StatusCode::NOT_FOUND);

    let audit = app.audit(id).await;
    let trail: Vec<(&str, Uuid)> = audit.iter().map(|a| (a.action.as_str(), a.actor_id)).collect();
    assert_eq!(trail, [("create", rep.id), ("delete", rep.id), ("restore", manager.id)]);
}

#[tokio::test]
async fn contacts_of_a_deleted_account_go_and_come_back_with_it() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let manager = app.manager("박지훈").await;
    let account = rep.create_account(&[("name", "한빛제조")]).await;
    let id = rep.create_contact(&[("account_id", &account.to_string()), ("name", "김지현")]).await;

    rep.delete_account(account, 1).await.assert_status(StatusCode::OK);
    assert!(rep.contact_names(&[]).await.is_empty());
    rep.get_contact(id).await.assert_status(StatusCode::NOT_FOUND);
    // Its contacts cannot be changed while it is deleted, not even by a manager.
    let res = manager.update_contact(id, 1, &[("account_id", &account.to_string()), ("name", "김지현")]).await;
    res.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(app.version("contacts", id).await, 1);

    manager.restore_account(account).await.assert_status(StatusCode::OK);
    assert_eq!(rep.contact_names(&[]).await, ["김지현"]);
    assert_eq!(rep.contact(id).await.contact.version, 1, "the contact itself was never touched");
}

#[tokio::test]
async fn the_contact_list_searches_name_email_phone_and_account_name() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let hanbit = rep.create_account(&[("name", "한빛제조")]).await.to_string();
    let gurum = rep.create_account(&[("name", "구름클라우드")]).await.to_string();
    rep.create_contact(&[("account_id", &hanbit), ("name", "김지현"), ("email", "jihyun.kim@hanbit.co.kr")]).await;
    rep.create_contact(&[("account_id", &hanbit), ("name", "이준호"), ("phone", "010-2000-5000")]).await;
    rep.create_contact(&[("account_id", &gurum), ("name", "박서준"), ("email", "sj.park@gurum.cloud")]).await;

    assert_eq!(rep.contact_names(&[("q", "지현")]).await, ["김지현"]);
    assert_eq!(rep.contact_names(&[("q", "GURUM.cloud")]).await, ["박서준"]);
    assert_eq!(rep.contact_names(&[("q", "2000-5000")]).await, ["이준호"]);
    assert_eq!(rep.contact_names(&[("q", "한빛")]).await, ["김지현", "이준호"]);
    assert_eq!(rep.contact_names(&[("q", "클라우")]).await, ["박서준"]);
    assert!(rep.contact_names(&[("q", "%%")]).await.is_empty());
    assert_eq!(rep.contact_names(&[]).await, ["김지현", "박서준", "이준호"]);
    let row = rep.list_contacts(&[("q", "박서")]).await.rows.remove(0);
    assert_eq!(row.account_name, "구름클라우드");
}

#[tokio::test]
async fn the_contact_list_pages_forward_and_back() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "한빛제조")]).await;
    sqlx::query(
        "insert into contacts (account_id, name, created_by, updated_by)
         select $1, format('담당자 %s', lpad(i::text, 2, '0')), $2, $2 from generate_series(1, 75) i",
    )
    .bind(account)
    .bind(rep.id)
    .execute(&app.pool)
    .await
    .expect("insert contacts");

    let first = rep.list_contacts(&[]).await;
    assert_eq!(first.rows.len(), 50);
    assert_eq!(first.rows[0].name, "담당자 01");
    assert!(first.prev.is_none());
    let second = rep.list_contacts(&[("after", first.next.as_deref().expect("next"))]).await;
    let names: Vec<String> = second.rows.iter().map(|r| r.name.clone()).collect();
    assert_eq!(names, (51..=75).map(|i| format!("담당자 {i}")).collect::<Vec<_>>());
    assert!(second.next.is_none());
    let back = rep.list_contacts(&[("before", second.prev.as_deref().expect("prev"))]).await;
    assert_eq!(back.rows, first.rows);
    assert!(back.prev.is_none());
    assert!(back.next.is_some());
}

#[tokio::test]
async fn a_common_two_character_name_lists_every_match_in_order_page_by_page() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let hanbit = rep.create_account(&[("name", "한빛제조")]).await;
    let minjun = rep.create_account(&[("name", "민준상사")]).await;
    // 250 people named 민준 among 260 who are not; three more who match only
    // through their account's name. Too many for the index alone to be the
    // cheap way (SEARCH_FEW), so pages come from reading the list in order,
    // and the last, short one from the index.
    sqlx::query(
        "insert into contacts (account_id, name, created_by, updated_by)
         select $1, case when i % 2 = 0 then format('김민준 %s', lpad(i::text, 3, '0'))
                         else format('김서연 %s', lpad(i::text, 3, '0')) end, $3, $3
         from generate_series(1, 500) i
         union all
         select $1, format('이도윤 %s', i), $3, $3 from generate_series(1, 10) i
         union all
         select $2, format('김하은 %s', i), $3, $3 from generate_series(1, 3) i",
    )
    .bind(hanbit)
    .bind(minjun)
    .bind(rep.id)
    .execute(&app.pool)
    .await
    .expect("insert contacts");
    let mut expected: Vec<String> = (1..=500).filter(|i| i % 2 == 0).map(|i| format!("김민준 {i:03}")).collect();
    expected.extend((1..=3).map(|i| format!("김하은 {i}")));
    expected.sort();

    let mut pages = vec![rep.list_contacts(&[("q", "민준")]).await];
    while let Some(next) = pages.last().and_then(|p| p.next.clone()) {
        assert!(pages.len() < 10, "paging does not end");
        pages.push(rep.list_contacts(&[("q", "민준"), ("after", &next)]).await);
    }
    let shown: Vec<String> = pages.iter().flat_map(|p| p.rows.iter().map(|r| r.name.clone())).collect();
    assert_eq!(shown, expected, "every match once, in name order");
    assert_eq!(pages.iter().map(|p| p.rows.len()).collect::<Vec<_>>(), [50, 50, 50, 50, 50, 3]);
    let last = pages.last().expect("pages");
    let back = rep.list_contacts(&[("q", "민준"), ("before", last.prev.as_deref().expect("a previous page"))]).await;
    assert_eq!(back.rows, pages[4].rows);
}

#[tokio::test]
async fn a_common_longer_search_lists_every_match_by_name_email_phone_and_account_in_order() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let hanbit = rep.create_account(&[("name", "한빛제조")]).await;
    let acme = rep.create_account(&[("name", "ACME-Cloud 코리아")]).await;
    // Of 400 people at 한빛제조, every third has an e-mail at acme-cloud, and
    // five more are named after it in capitals; three people of the account
    // named ACME-Cloud match through its name. Pages come from reading the
    // list in order, the last, short one from the indexes; letters match
    // regardless of case either way.
    sqlx::query(
        "insert into contacts (account_id, name, email, created_by, updated_by)
         select $1, format('담당자 %s', lpad(i::text, 3, '0')),
                case when i % 3 = 0 then format('p%s@Acme-Cloud.co.kr', i) else format('p%s@other.kr', i) end, $3, $3
         from generate_series(1, 400) i
         union all
         select $1, format('ACME-CLOUD 담당 %s', i), null, $3, $3 from generate_series(1, 5) i
         union all
         select $2, format('박지훈 %s', i), null, $3, $3 from generate_series(1, 3) i",
    )
    .bind(hanbit)
    .bind(acme)
    .bind(rep.id)
    .execute(&app.pool)
    .await
    .expect("insert contacts");
    let mut expected: Vec<String> = (1..=400).filter(|i| i % 3 == 0).map(|i| format!("담당자 {i:03}")).collect();
    expected.extend((1..=5).map(|i| format!("ACME-CLOUD 담당 {i}")));
    expected.extend((1..=3).map(|i| format!("박지훈 {i}")));
    expected.sort();

    let mut pages = vec![rep.list_contacts(&[("q", "acme-cloud")]).await];
    while let Some(next) = pages.last().and_then(|p| p.next.clone()) {
        assert!(pages.len() < 10, "paging does not end");
        pages.push(rep.list_contacts(&[("q", "acme-cloud"), ("after", &next)]).await);
    }
    let shown: Vec<String> = pages.iter().flat_map(|p| p.rows.iter().map(|r| r.name.clone())).collect();
    assert_eq!(shown, expected, "every match once, in name order");
    assert_eq!(pages.iter().map(|p| p.rows.len()).collect::<Vec<_>>(), [50, 50, 41]);

    // Digits have no case: the walk compares them as they are, phones included.
    sqlx::query(
        "update contacts set phone = format('010-7%s-0000', lpad(right(name, 3), 3, '0'))
         where account_id = $1 and name like '담당자 %'",
    )
    .bind(hanbit)
    .execute(&app.pool)
    .await
    .expect("set phones");
    let by_phone = rep.list_contacts(&[("q", "010-71")]).await;
    let names: Vec<String> = by_phone.rows.iter().map(|r| r.name.clone()).collect();
    assert_eq!(names, (100..=149).map(|i| format!("담당자 {i}")).collect::<Vec<_>>());
    assert!(by_phone.next.is_some(), "another page: 150 to 199");
}
