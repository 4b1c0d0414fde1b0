//! Contracts (계약) through their server functions: a won deal becomes a
//! contract in one step (and nothing else does), derived figures and status
//! from the dates, the renewal queue, termination, who sees and changes
//! which contract, bad input, optimistic locking and the audit trail.

use axum::http::StatusCode;
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::helpers::*;
use app::contracts::{BillingPeriod, ContractDetail, ContractList, ContractStart, ContractStatus};
use app::i18n::T;

fn today() -> NaiveDate {
    app::i18n::seoul_today()
}

pub(crate) fn in_days(days: i64) -> String {
    let t = today();
    let d = if days >= 0 {
        t.checked_add_days(Days::new(days as u64))
    } else {
        t.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    d.expect("date").to_string()
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

const QUERY: &[&str] =
    &["q", "owner", "status", "currency", "account", "deal", "within", "sort", "after", "before", "deleted"];

/// A contract form: a year from today, monthly, KRW; `changes` replace fields.
fn contract_form(account: Uuid, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let account = account.to_string();
    let (start, end) = (in_days(0), in_days(364));
    let base: Vec<(&str, &str)> = vec![
        ("title", "매니지드 서비스 연간 계약"),
        ("contract_number", ""),
        ("account_id", &account),
        ("deal_id", ""),
        ("state", "signed"),
        ("start_date", &start),
        ("end_date", &end),
        ("amount", "1500000"),
        ("currency", "KRW"),
        ("billing_period", "monthly"),
        ("auto_renew", ""),
        ("notice_days", "30"),
        ("owner_id", ""),
        ("notes", ""),
    ];
    let mut out: Vec<(String, String)> = base.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for (k, v) in changes {
        match out.iter_mut().find(|(f, _)| f == k) {
            Some(slot) => slot.1 = v.to_string(),
            None => out.push((k.to_string(), v.to_string())),
        }
    }
    out.into_iter().map(|(k, v)| (format!("form[{k}]"), v)).collect()
}

async fn try_create(who: &Client<'_>, account: Uuid, changes: &[(&str, &str)]) -> Resp {
    who.post_fn("/api/contracts/create", &contract_form(account, changes)).await
}

pub(crate) async fn create(who: &Client<'_>, account: Uuid, changes: &[(&str, &str)]) -> Uuid {
    let res = try_create(who, account, changes).await;
    res.assert_status(StatusCode::OK);
    let id: String = res.ok();
    id.parse().expect("the new contract's id")
}

async fn detail(who: &Client<'_>, id: Uuid) -> ContractDetail {
    let res = who.post_fn("/api/contracts/get", &fields(&[("id", &id.to_string())])).await;
    res.assert_status(StatusCode::OK);
    res.ok()
}

async fn list(who: &Client<'_>, pairs: &[(&str, &str)]) -> Vec<String> {
    let res = who.post_fn("/api/contracts/list", &query(QUERY, pairs)).await;
    res.assert_status(StatusCode::OK);
    res.ok::<ContractList>().rows.into_iter().map(|r| r.title).collect()
}

async fn won_deal(who: &Client<'_>, account: Uuid, name: &str) -> Uuid {
    let account = account.to_string();
    let close = in_days(-1);
    who.create_deal(&[
        ("name", name),
        ("account_id", &account),
        ("stage_id", "won"),
        ("amount", "18000000"),
        ("currency", "KRW"),
        ("probability", ""),
        ("expected_close_date", &close),
        ("owner_id", ""),
        ("source", ""),
        ("lost_reason", ""),
    ])
    .await
}

#[tokio::test]
async fn a_won_deal_becomes_a_contract_in_one_step_linked_both_ways() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let deal = won_deal(&rep, account, "ERP 클라우드 운영").await;

    // The form starts from the deal: its account, title, value, currency and owner.
    let res = rep.post_fn("/api/contracts/start", &fields(&[("deal", &deal.to_string()), ("account", "")])).await;
    res.assert_status(StatusCode::OK);
    let start: ContractStart = res.ok();
    assert_eq!((start.account_id, start.deal_id), (account, Some(deal)));
    assert_eq!((start.form.title.as_str(), start.form.amount.as_str()), ("ERP 클라우드 운영", "18000000"));
    assert_eq!(start.form.owner_id, rep.id.to_string());

    let other = rep.create_account(&[("name", "다른 고객사")]).await;
    // The contract belongs to the deal's account, whatever the form says.
    let deal_id = deal.to_string();
    let id = create(&rep, other, &[("deal_id", &deal_id), ("contract_number", "MSP-2026-001")]).await;
    let d = detail(&rep, id).await;
    assert_eq!((d.contract.account_id, d.contract.deal_id), (account, Some(deal)));
    assert_eq!(d.contract.deal_name.as_deref(), Some("ERP 클라우드 운영"));
    assert_eq!(d.contract.status, ContractStatus::Active);
    let audit = app.audit(id).await;
    assert_eq!(
        audit.iter().map(|a| (a.entity.as_str(), a.action.as_str())).collect::<Vec<_>>(),
        [("contract", "create")]
    );

    // The deal shows its contract; the account its contract and monthly value.
    let page = rep.post_fn("/api/pages/deal", &fields(&[("id", &deal_id)])).await;
    let deal_page: app::pages::DealPageData = page.ok();
    assert_eq!(deal_page.contracts.iter().map(|c| c.id).collect::<Vec<_>>(), [id]);
    let page = rep.post_fn("/api/pages/account", &fields(&[("id", &account.to_string())])).await;
    let account_page: app::pages::AccountPageData = page.ok();
    assert_eq!(account_page.contracts.len(), 1);
    assert_eq!(
        account_page.monthly.iter().map(|m| (m.currency.as_str(), m.monthly)).collect::<Vec<_>>(),
        [("KRW", dec("1500000"))]
    );
    let html = rep.get(&format!("/deals/{deal}")).await;
    assert!(html.body.contains("contracts-section") && html.body.contains("MSP-2026-001"), "the deal page lists it");
}

#[tokio::test]
async fn only_a_won_deal_the_user_may_see_becomes_a_contract() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let other_rep = app.rep("이서연").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let close = in_days(30);
    let open = rep
        .create_deal(&[
            ("name", "제안 중인 건"),
            ("account_id", &account.to_string()),
            ("stage_id", "proposal"),
            ("amount", "1000"),
            ("currency", "KRW"),
            ("expected_close_date", &close),
        ])
        .await;
    let before = app.count("contracts").await;
    let res = try_create(&rep, account, &[("deal_id", &open.to_string())]).await;
    assert_eq!(res.field_errors(), [("deal_id".to_string(), T::ContractDealNotWon)]);
    let start = rep.post_fn("/api/contracts/start", &fields(&[("deal", &open.to_string()), ("account", "")])).await;
    assert!(start.status.is_client_error(), "the form does not start from an open deal");

    let theirs_account = other_rep.create_account(&[("name", "하늘데이터")]).await;
    let theirs = won_deal(&other_rep, theirs_account, "남의 수주 건").await;
    let res = try_create(&rep, account, &[("deal_id", &theirs.to_string())]).await;
    assert_eq!(res.field_errors(), [("deal_id".to_string(), T::DealNotFound)], "another rep's deal is not found");
    assert_eq!(app.count("contracts").await, before, "nothing written");
    let viewer = app.viewer("최지우").await;
    assert_eq!(try_create(&viewer, account, &[]).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn figures_and_status_follow_the_terms_and_the_dates() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    // Annual, from a leap day: twelve months, 1/12 a month rounded to whole won.
    let annual = create(
        &rep,
        account,
        &[
            ("billing_period", "annual"),
            ("amount", "1000000"),
            ("start_date", "2024-02-29"),
            ("end_date", "2025-02-28"),
        ],
    )
    .await;
    let d = detail(&rep, annual).await.contract;
    assert_eq!((d.figures.monthly, d.figures.total), (dec("83333"), dec("1000000")));
    assert_eq!(d.status, ContractStatus::Expired, "signed, and its end date has passed");
    assert_eq!(d.billing_period, BillingPeriod::Annual);
    // Monthly USD over 18 months begun, cents exact.
    let (start, end) = (in_days(0), in_days(540));
    let usd = create(
        &rep,
        account,
        &[
            ("currency", "USD"),
            ("amount", "1234.56"),
            ("start_date", &start),
            ("end_date", &end),
            ("notice_days", "45"),
        ],
    )
    .await;
    let d = detail(&rep, usd).await.contract;
    let months = app::contracts::term_months(today(), today().checked_add_days(Days::new(540)).expect("date"));
    assert_eq!((d.figures.monthly, d.figures.total), (dec("1234.56"), dec("1234.56") * Decimal::from(months)));
    assert_eq!(d.status, ContractStatus::Active);
    assert_eq!(d.days_to_renewal, 540);
    assert_eq!(d.notice_deadline.to_string(), in_days(495));
    let once =
        create(&rep, account, &[("billing_period", "one-time"), ("amount", "5000000"), ("state", "draft")]).await;
    let d = detail(&rep, once).await.contract;
    assert_eq!((d.figures.monthly, d.figures.total, d.status), (Decimal::ZERO, dec("5000000"), ContractStatus::Draft));
    // Expired and drafts are filtered by what their dates say today.
    assert_eq!(list(&rep, &[("status", "expired")]).await.len(), 1);
    assert_eq!(list(&rep, &[("status", "active")]).await.len(), 1);
    assert_eq!(list(&rep, &[("status", "draft")]).await.len(), 1);
}

#[tokio::test]
async fn bad_input_gets_its_message_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    create(&rep, account, &[("contract_number", "MSP-001")]).await;
    let before = app.fingerprint().await;
    let count = app.count("contracts").await;
    let cases: Vec<(Vec<(&str, &str)>, (&str, T))> = vec![
        (vec![("start_date", "2026-05-01"), ("end_date", "2026-04-30")], ("end_date", T::ContractEndBeforeStart)),
        (vec![("start_date", "2026-01-01"), ("end_date", "2056-01-02")], ("end_date", T::ContractTermTooLong)),
        (vec![("amount", "-1")], ("amount", T::AmountNegative)),
        (vec![("currency", "USD"), ("amount", "10.123")], ("amount", T::AmountTwoDecimals)),
        (vec![("amount", "")], ("amount", T::Required)),
        (
            vec![("start_date", "2026-01-01"), ("end_date", "2026-01-31"), ("notice_days", "60")],
            ("notice_days", T::ContractNoticeTooLong),
        ),
        (vec![("notice_days", "-3")], ("notice_days", T::InvalidNoticeDays)),
        (vec![("billing_period", "weekly")], ("billing_period", T::InvalidBillingPeriod)),
        (vec![("state", "terminated")], ("state", T::InvalidChoice)),
        (vec![("contract_number", "msp-001")], ("contract_number", T::ContractNumberTaken)),
    ];
    for (changes, expected) in cases {
        let res = try_create(&rep, account, &changes).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{changes:?}");
        let errors = res.field_errors();
        assert!(errors.contains(&(expected.0.to_string(), expected.1)), "{changes:?}: {errors:?}");
    }
    assert_eq!(app.count("contracts").await, count);
    assert_eq!(app.fingerprint().await, before, "no audit row for a refused save");

    // A save based on a stale version is refused, naming who changed it.
    let id = create(&rep, account, &[("title", "두 번째 계약")]).await;
    let version = app.version("contracts", id).await;
    let mut body = fields(&[("id", &id.to_string()), ("version", &version.to_string())]);
    body.extend(contract_form(account, &[("title", "먼저 저장")]));
    rep.post_fn("/api/contracts/update", &body).await.assert_status(StatusCode::OK);
    let mut stale = fields(&[("id", &id.to_string()), ("version", &version.to_string())]);
    stale.extend(contract_form(account, &[("title", "늦게 저장")]));
    assert_eq!(rep.post_fn("/api/contracts/update", &stale).await.status, StatusCode::CONFLICT);
    assert_eq!(detail(&rep, id).await.contract.title, "먼저 저장");
}

#[tokio::test]
async fn reps_see_and_change_their_own_managers_everything_viewers_read() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let other = app.rep("이서연").await;
    let manager = app.manager("박지훈").await;
    let viewer = app.viewer("최지우").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let mine = create(&rep, account, &[("title", "김민준의 계약")]).await;
    other.create_account(&[("name", "하늘데이터")]).await;

    assert_eq!(list(&other, &[]).await, Vec::<String>::new(), "another rep's contract is not listed");
    let res = other.post_fn("/api/contracts/get", &fields(&[("id", &mine.to_string())])).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(list(&manager, &[]).await, ["김민준의 계약"]);
    assert_eq!(list(&viewer, &[]).await, ["김민준의 계약"]);
    assert!(detail(&manager, mine).await.can.edit);
    assert!(!detail(&viewer, mine).await.can.edit);

    let version = app.version("contracts", mine).await;
    let update = |title: &'static str, version: i32| {
        let mut body = fields(&[("id", &mine.to_string()), ("version", &version.to_string())]);
        body.extend(contract_form(account, &[("title", title)]));
        body
    };
    assert_eq!(
        other.post_fn("/api/contracts/update", &update("가로채기", version)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(viewer.post_fn("/api/contracts/update", &update("읽기만", version)).await.status, StatusCode::FORBIDDEN);
    manager.post_fn("/api/contracts/update", &update("팀장이 고침", version)).await.assert_status(StatusCode::OK);
    assert_eq!(detail(&rep, mine).await.contract.title, "팀장이 고침");

    // Delete and restore go through the record kit like every other record.
    let version = app.version("contracts", mine).await;
    rep.delete_record("contract", mine, version).await.assert_status(StatusCode::OK);
    assert_eq!(list(&rep, &[]).await, Vec::<String>::new());
    assert_eq!(rep.restore_record("contract", mine).await.status, StatusCode::FORBIDDEN);
    manager.restore_record("contract", mine).await.assert_status(StatusCode::OK);
    let actions: Vec<String> = app.audit(mine).await.into_iter().map(|a| a.action).collect();
    assert_eq!(actions, ["create", "update", "delete", "restore"]);
    // An account with a live contract cannot be deleted.
    let version = app.version("accounts", account).await;
    let res = rep.delete_account(account, version).await;
    assert_eq!(res.field_errors(), [(String::new(), T::AccountHasDeals)]);
}

#[tokio::test]
async fn the_renewal_queue_holds_what_ends_or_must_be_cancelled_soon() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let other = app.rep("이서연").await;
    let manager = app.manager("박지훈").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let start = in_days(-300);
    let contract = |title: &'static str, end: i64, notice: &'static str, state: &'static str| {
        let end = in_days(end);
        let (start, rep) = (start.clone(), &rep);
        async move {
            create(
                rep,
                account,
                &[
                    ("title", title),
                    ("start_date", &start),
                    ("end_date", &end),
                    ("notice_days", notice),
                    ("state", state),
                ],
            )
            .await
        }
    };
    contract("20일 뒤 종료", 20, "0", "signed").await;
    contract("통보 마감 25일 뒤", 100, "75", "signed").await;
    contract("50일 뒤 종료", 50, "0", "signed").await;
    contract("초안은 빠짐", 10, "0", "draft").await;
    contract("이미 만료", -5, "0", "signed").await;
    contract("통보 마감이 지남", 40, "60", "signed").await;
    let theirs_account = other.create_account(&[("name", "하늘데이터")]).await;
    let end = in_days(5);
    create(&other, theirs_account, &[("title", "이서연의 계약"), ("start_date", &start), ("end_date", &end)]).await;

    assert_eq!(list(&rep, &[("within", "30")]).await, ["20일 뒤 종료", "통보 마감 25일 뒤"], "soonest first");
    assert_eq!(
        list(&rep, &[("within", "60")]).await,
        ["20일 뒤 종료", "통보 마감 25일 뒤", "통보 마감이 지남", "50일 뒤 종료"],
        "a passed notice deadline still ends in the window"
    );
    assert_eq!(list(&manager, &[("within", "30")]).await, ["이서연의 계약", "20일 뒤 종료", "통보 마감 25일 뒤"]);
    let theirs = other.id.to_string();
    assert_eq!(list(&manager, &[("within", "30"), ("owner", &theirs)]).await, ["이서연의 계약"]);
    let page = rep.get("/renewals?within=30").await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("통보 마감 25일 뒤") && !page.body.contains("50일 뒤 종료"));

    // Terminated contracts leave the queue; termination needs its reason.
    let id = list_ids(&rep, &[("within", "30")]).await[0];
    let version = app.version("contracts", id).await;
    let terminate = |reason: &'static str, version: i32| {
        let mut body = fields(&[("id", &id.to_string()), ("version", &version.to_string())]);
        body.extend(form(&[("terminated_on", &in_days(0)), ("reason", reason)]));
        body
    };
    let res = rep.post_fn("/api/contracts/terminate", &terminate("", version)).await;
    assert_eq!(res.field_errors(), [("reason".to_string(), T::Required)]);
    rep.post_fn("/api/contracts/terminate", &terminate("고객사 내부 사정", version))
        .await
        .assert_status(StatusCode::OK);
    let d = detail(&rep, id).await.contract;
    assert_eq!((d.status, d.termination_reason.as_deref()), (ContractStatus::Terminated, Some("고객사 내부 사정")));
    assert_eq!(list(&rep, &[("within", "30")]).await, ["통보 마감 25일 뒤"]);
    let again = rep.post_fn("/api/contracts/terminate", &terminate("또", version + 1)).await;
    assert_eq!(again.field_errors(), [(String::new(), T::ContractAlreadyTerminated)]);
}

async fn list_ids(who: &Client<'_>, pairs: &[(&str, &str)]) -> Vec<Uuid> {
    let res = who.post_fn("/api/contracts/list", &query(QUERY, pairs)).await;
    res.ok::<ContractList>().rows.into_iter().map(|r| r.id).collect()
}

// --- the role matrix, as for deals

const WHO: [&str; 7] = ["owning rep", "other rep", "manager", "viewer", "admin", "no-role user", "anonymous"];
//                                    owner other manager viewer admin no-role anonymous
const READ: [u16; 7] = /*         */ [200, 200, 200, 200, 200, 403, 401];
const GET: [u16; 7] = /*          */ [200, 404, 200, 200, 200, 403, 401];
const SEES: [bool; 7] = /*        */ [true, false, true, true, true, false, false];
const CREATE: [u16; 7] = /*       */ [200, 200, 200, 403, 200, 403, 401];
const EDIT: [u16; 7] = /*         */ [200, 404, 200, 403, 200, 403, 401];
const RESTORE: [u16; 7] = /*      */ [403, 403, 200, 403, 200, 403, 401];
const GET_DELETED: [u16; 7] = /*  */ [404, 404, 200, 404, 200, 403, 401];

/// A refusal says why and changes nothing; an allowed change writes one audit row, by the caller.
async fn verdict(app: &TestApp, label: &str, expected: u16, res: &Resp, before: Fingerprint, writer: Option<Uuid>) {
    assert_eq!(res.status.as_u16(), expected, "{label}: {}", res.body);
    match expected {
        401 => assert_eq!(res.error(), app::error::AppError::Unauthenticated, "{label}"),
        403 => assert_eq!(res.error(), app::error::AppError::Forbidden, "{label}"),
        404 => assert_eq!(res.error(), app::error::AppError::NotFound, "{label}"),
        _ => {}
    }
    let after = app.fingerprint().await;
    match (expected, writer) {
        (200, Some(actor)) => {
            assert_eq!(after.audit_log.0, before.audit_log.0 + 1, "{label}: one audit row");
            let (actor_id,): (Uuid,) = sqlx::query_as("select actor_id from audit_log order by id desc limit 1")
                .fetch_one(&app.pool)
                .await
                .expect("audit");
            assert_eq!(actor_id, actor, "{label}: audited as the caller");
        }
        _ => assert_eq!(after, before, "{label}: must change nothing"),
    }
}

#[tokio::test]
async fn contract_functions_follow_the_role_matrix() {
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
    let deal = won_deal(owner, account, "수주한 건").await.to_string();
    for (i, user) in cast.iter().enumerate() {
        let who = WHO[i];
        let live = create(owner, account, &[("title", &format!("계약 {i}"))]).await;
        let to_delete = create(owner, account, &[("title", &format!("삭제할 계약 {i}"))]).await;
        let deleted = create(owner, account, &[("title", &format!("삭제된 계약 {i}"))]).await;
        owner.delete_record("contract", deleted, 1).await.assert_status(StatusCode::OK);
        let id_of = |id: Uuid| fields(&[("id", &id.to_string())]);

        let before = app.fingerprint().await;
        let res = user.post_fn("/api/contracts/list", &query(QUERY, &[])).await;
        verdict(&app, &format!("{who} → list"), READ[i], &res, before, None).await;
        if res.status == StatusCode::OK {
            let rows = res.ok::<ContractList>().rows;
            assert_eq!(rows.iter().any(|r| r.id == live), SEES[i], "{who}: the list shows the contract");
            assert!(!rows.iter().any(|r| r.id == deleted), "{who}: deleted contracts are not listed");
            let renewals = user.post_fn("/api/contracts/list", &query(QUERY, &[("within", "90")])).await;
            assert!(!renewals.ok::<ContractList>().rows.iter().any(|r| r.id == live && !SEES[i]), "{who}: queue");
        }

        let before = app.fingerprint().await;
        let res = user.post_fn("/api/contracts/get", &id_of(live)).await;
        verdict(&app, &format!("{who} → get"), GET[i], &res, before, None).await;
        if res.status == StatusCode::OK {
            let detail: ContractDetail = res.ok();
            assert_eq!(detail.can.edit, EDIT[i] == 200, "{who}: can.edit");
            assert_eq!(detail.can.reassign, RESTORE[i] == 200, "{who}: can.reassign");
        }
        let before = app.fingerprint().await;
        let res = user.post_fn("/api/contracts/get", &id_of(deleted)).await;
        verdict(&app, &format!("{who} → get (deleted)"), GET_DELETED[i], &res, before, None).await;

        // The form from the owner's won deal: the other rep may not see that deal.
        let before = app.fingerprint().await;
        let res = user.post_fn("/api/contracts/start", &fields(&[("deal", &deal), ("account", "")])).await;
        let start_expected = match CREATE[i] {
            200 if !SEES[i] => 400,
            code => code,
        };
        verdict(&app, &format!("{who} → start from deal"), start_expected, &res, before, None).await;

        let before = app.fingerprint().await;
        let res = try_create(user, account, &[("title", &format!("새 계약 {i}"))]).await;
        verdict(&app, &format!("{who} → create"), CREATE[i], &res, before, Some(user.id)).await;
        if res.status == StatusCode::OK {
            let id: Uuid = res.ok::<String>().parse().expect("id");
            assert_eq!(app.row("contracts", id).await["owner_id"], user.id.to_string(), "{who}: the creator owns it");
        }

        let before = app.fingerprint().await;
        let mut body = fields(&[("id", &live.to_string()), ("version", "1")]);
        body.extend(contract_form(account, &[("title", &format!("고친 계약 {i}"))]));
        let res = user.post_fn("/api/contracts/update", &body).await;
        verdict(&app, &format!("{who} → update"), EDIT[i], &res, before, Some(user.id)).await;

        let before = app.fingerprint().await;
        let version = app.version("contracts", live).await.to_string();
        let mut body = fields(&[("id", &live.to_string()), ("version", &version)]);
        body.extend(form(&[("terminated_on", &in_days(0)), ("reason", "역할 점검")]));
        let res = user.post_fn("/api/contracts/terminate", &body).await;
        verdict(&app, &format!("{who} → terminate"), EDIT[i], &res, before, Some(user.id)).await;

        let before = app.fingerprint().await;
        let res = user.delete_record("contract", to_delete, 1).await;
        verdict(&app, &format!("{who} → delete"), EDIT[i], &res, before, Some(user.id)).await;

        let before = app.fingerprint().await;
        let res = user.restore_record("contract", deleted).await;
        verdict(&app, &format!("{who} → restore"), RESTORE[i], &res, before, Some(user.id)).await;
    }
}

#[tokio::test]
async fn lists_page_by_keyset_in_every_order_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    // 120 signed contracts ending over the next 120 days (several per day), half of
    // them with a notice deadline ahead: the queue's two orders interleave.
    sqlx::query(
        "insert into contracts (account_id, title, state, start_date, end_date, amount, currency, billing_period,
                                notice_days, owner_id, created_by, updated_by)
         select $1, '계약 ' || lpad(n::text, 3, '0'), 'signed', current_date - 400,
                current_date + (n % 40) * 3, 1000, 'KRW', 'monthly', case when n % 2 = 0 then 20 else 0 end, $2, $2, $2
         from generate_series(1, 120) n",
    )
    .bind(account)
    .bind(rep.id)
    .execute(&app.pool)
    .await
    .expect("contracts");
    for (pairs, label) in
        [(vec![], "by title"), (vec![("sort", "end")], "by end date"), (vec![("within", "90")], "renewal queue")]
    {
        let mut seen: Vec<Uuid> = Vec::new();
        let mut pages = 0;
        let mut after = String::new();
        loop {
            let mut q = pairs.clone();
            q.push(("after", after.as_str()));
            let res = rep.post_fn("/api/contracts/list", &query(QUERY, &q)).await;
            res.assert_status(StatusCode::OK);
            let page: ContractList = res.ok();
            seen.extend(page.rows.iter().map(|r| r.id));
            pages += 1;
            match page.next {
                Some(next) => after = next,
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{label}: no contract twice");
        let expected: i64 = match label {
            // The queue's window is Seoul's today, whatever the database's time zone.
            "renewal queue" => sqlx::query_scalar(
                "select count(*) from contracts
                 where end_date between $1 and $1 + 90 or end_date - notice_days between $1 and $1 + 90",
            )
            .bind(today())
            .fetch_one(&app.pool)
            .await
            .expect("count"),
            _ => 120,
        };
        assert_eq!(seen.len() as i64, expected, "{label}: every contract once, over {pages} pages");
        assert!(pages >= 2, "{label}: more than one page");
    }
    // By end date: soonest first.
    let res = rep.post_fn("/api/contracts/list", &query(QUERY, &[("sort", "end")])).await;
    let ends: Vec<_> = res.ok::<ContractList>().rows.iter().map(|r| r.end_date).collect();
    assert!(ends.windows(2).all(|w| w[0] <= w[1]), "sorted by end date");
}

#[tokio::test]
async fn a_contract_has_its_own_timeline() {
    let app = TestApp::spawn().await;
    let rep = app.rep("김민준").await;
    let other = app.rep("이서연").await;
    let account = rep.create_account(&[("name", "구름클라우드")]).await;
    let id = create(&rep, account, &[]).await;
    let note = |who: &'static str| [("target", "contract"), ("target_id", ""), ("kind", "task"), ("subject", who)];
    let target = id.to_string();
    let with_id = |pairs: [(&'static str, &'static str); 4]| {
        pairs.map(|(k, v)| (k, if k == "target_id" { target.as_str() } else { v }))
    };
    rep.add_activity(&with_id(note("갱신 조건 협의"))).await.assert_status(StatusCode::OK);
    let before = app.fingerprint().await;
    assert_eq!(other.add_activity(&with_id(note("남의 계약"))).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.fingerprint().await, before);

    let page: app::pages::ContractPageData = rep.post_fn("/api/pages/contract", &fields(&[("id", &target)])).await.ok();
    assert_eq!(page.activities.iter().map(|a| a.subject.as_str()).collect::<Vec<_>>(), ["갱신 조건 협의"]);
    // The task is ticked done on the contract's page.
    rep.set_activity_done(page.activities[0].id, true).await.assert_status(StatusCode::OK);
    assert_eq!(other.set_activity_done(page.activities[0].id, false).await.status, StatusCode::NOT_FOUND);
    let html = rep.get(&format!("/contracts/{id}")).await;
    assert!(html.body.contains("갱신 조건 협의") && html.body.contains("timeline"), "the page shows its timeline");
    assert_eq!(other.post_fn("/api/pages/contract", &fields(&[("id", &target)])).await.status, StatusCode::NOT_FOUND);
}

/// The dashboard's renewal panel counts and sums only what its reader may
/// see: a rep their own contracts, a manager everyone's, per currency.
#[tokio::test]
async fn the_dashboard_renewal_panel_follows_visibility() {
    let app = TestApp::spawn().await;
    let kim = app.rep("김민준").await;
    let lee = app.rep("이서연").await;
    let manager = app.manager("박지훈").await;
    let account = kim.create_account(&[("name", "구름클라우드")]).await;
    let theirs = lee.create_account(&[("name", "하늘데이터")]).await;
    let (start, soon, later) = (in_days(-300), in_days(20), in_days(50));
    create(&kim, account, &[("start_date", &start), ("end_date", &soon), ("notice_days", "0")]).await;
    create(
        &lee,
        theirs,
        &[
            ("start_date", &start),
            ("end_date", &later),
            ("notice_days", "0"),
            ("currency", "USD"),
            ("amount", "12000"),
            ("billing_period", "annual"),
        ],
    )
    .await;
    let panel = |who: &'static str| {
        let client = if who == "kim" { &kim } else { &manager };
        async move {
            let body =
                fields(&[("query[owner]", ""), ("query[currency]", ""), ("query[period]", ""), ("query[stale]", "")]);
            let d: app::dashboard::Dashboard = client.post_fn("/api/dashboard", &body).await.ok();
            d.renewals.expect("the panel shows once contracts exist")
        }
    };
    let all = panel("manager").await;
    assert_eq!(all.due, [(30, 1), (60, 2), (90, 2)]);
    assert_eq!(all.monthly, [("KRW".to_string(), dec("1500000")), ("USD".to_string(), dec("1000"))]);
    let own = panel("kim").await;
    assert_eq!(own.due, [(30, 1), (60, 1), (90, 1)], "a rep counts their own contracts only");
    assert_eq!(own.monthly, [("KRW".to_string(), dec("1500000"))]);
}
