//! The header's global search: across accounts, contacts, deals and
//! contracts, ranked, each hit saying why it matched, within what the person
//! may see; as a server function and as a page that needs no script.

use axum::http::StatusCode;

use app::i18n::T;
use app::pages::SearchResults;
use app::record::Entity;

use crate::helpers::{fields, Client, TestApp};

async fn search(who: &Client<'_>, q: &str) -> SearchResults {
    let res = who.post_fn("/api/pages/search", &fields(&[("q", q)])).await;
    res.assert_status(StatusCode::OK);
    res.ok()
}

fn titles(r: &SearchResults, kind: Entity) -> Vec<String> {
    r.groups.iter().filter(|g| g.kind == kind).flat_map(|g| g.hits.iter().map(|h| h.title.clone())).collect()
}

async fn deal(who: &Client<'_>, account: uuid::Uuid, name: &str) {
    let account = account.to_string();
    who.create_deal(&[
        ("name", name),
        ("account_id", &account),
        ("stage_id", "lead"),
        ("amount", "1000000"),
        ("currency", "KRW"),
        ("probability", ""),
        ("expected_close_date", "2027-03-31"),
        ("owner_id", ""),
        ("source", ""),
        ("lost_reason", ""),
    ])
    .await;
}

#[tokio::test]
async fn one_search_finds_every_kind_ranked_with_why_and_nothing_a_rep_may_not_see() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let other = app.rep("이서연").await;
    let garam = rep.create_account(&[("name", "가람한빛")]).await;
    let hanbit = rep.create_account(&[("name", "한빛"), ("business_number", "220-81-62517")]).await;
    rep.create_account(&[("name", "한빛제조")]).await;
    rep.create_contact(&[("account_id", &garam.to_string()), ("name", "박지훈"), ("email", "jh@hanbit.example")]).await;
    deal(&rep, hanbit, "한빛 클라우드 이전").await;
    let theirs = other.create_account(&[("name", "누리통신")]).await;
    deal(&other, theirs, "한빛 몰래 계약").await;

    let r = search(&rep, "한빛").await;
    assert_eq!(titles(&r, Entity::Account), ["한빛", "한빛제조", "가람한빛"], "exact, prefix, then anywhere");
    let account = &r.groups[0].hits[0];
    assert_eq!((account.matched, account.href.clone()), (T::AccountName, format!("/accounts/{hanbit}")));
    assert_eq!(titles(&r, Entity::Deal), ["한빛 클라우드 이전"], "the rep's deal; another rep's is not there");
    let deal_hit = r.groups.iter().find(|g| g.kind == Entity::Deal).map(|g| g.hits[0].matched);
    assert_eq!(deal_hit, Some(T::DealName));
    assert!(titles(&r, Entity::Contact).contains(&"박지훈".to_string()), "a contact of a matching account");

    let by_email = search(&rep, "hanbit.example").await;
    let hit = &by_email.groups.iter().find(|g| g.kind == Entity::Contact).expect("contacts").hits[0];
    assert_eq!((hit.title.as_str(), hit.matched), ("박지훈", T::Email));

    // A business number, with or without dashes.
    for q in ["2208162517", "220-81-62517"] {
        let r = search(&rep, q).await;
        let hit = &r.groups.first().expect("a group").hits[0];
        assert_eq!((hit.title.as_str(), hit.matched), ("한빛", T::BusinessNumber), "{q}");
    }

    // A contract by its number.
    crate::contracts::create(&rep, hanbit, &[("title", "관제 서비스"), ("contract_number", "HB-2026-07")]).await;
    let r = search(&rep, "hb-2026").await;
    let hit = &r.groups.iter().find(|g| g.kind == Entity::Contract).expect("contracts").hits[0];
    assert_eq!((hit.title.as_str(), hit.matched), ("관제 서비스", T::ContractNumber));

    let manager = app.manager("박지훈").await;
    assert!(titles(&search(&manager, "한빛").await, Entity::Deal).contains(&"한빛 몰래 계약".to_string()));
}

#[tokio::test]
async fn the_search_page_works_without_script_and_bad_input_gets_a_message() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    rep.create_account(&[("name", "<b>한빛</b> 100%_제조")]).await;

    let page = rep.get("/search?q=%ED%95%9C%EB%B9%9B").await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("&lt;b&gt;한빛&lt;/b&gt; 100%_제조"), "markup is shown as text");
    assert!(!page.body.contains("<b>한빛</b>"));
    assert!(rep.get("/accounts").await.body.contains("action=\"/search\""), "every page has the search box");

    // LIKE wildcards are taken literally: "%_" matches only the one account holding them.
    assert_eq!(titles(&search(&rep, "%_").await, Entity::Account), ["<b>한빛</b> 100%_제조"]);
    assert!(search(&rep, "'; drop table accounts; --").await.groups.is_empty());

    let short = rep.post_fn("/api/pages/search", &fields(&[("q", "한")])).await;
    short.assert_status(StatusCode::BAD_REQUEST);
    let long = rep.post_fn("/api/pages/search", &fields(&[("q", &"가".repeat(10_000))])).await;
    long.assert_status(StatusCode::BAD_REQUEST);
    let page = rep.get("/search?q=%ED%95%9C").await;
    assert!(page.body.contains("두 글자 이상"), "the page says why, in the user's language");
    assert_eq!(
        app.anonymous().post_fn("/api/pages/search", &fields(&[("q", "한빛")])).await.status,
        StatusCode::UNAUTHORIZED
    );
}
