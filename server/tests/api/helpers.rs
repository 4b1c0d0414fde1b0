//! Harness shared by the integration tests: every test gets its own freshly
//! migrated database and drives the full router (session middleware, origin
//! check, server functions, pages) in-process, as a browser would over HTTP.
//!
//! Needs `TEST_DATABASE_URL`: a maintenance database on a Postgres server
//! where the user may create databases (`scripts/test.sh --only-rust` sets it;
//! by hand: `scripts/postgres.sh start test` and
//! `TEST_DATABASE_URL=postgres://salesops@127.0.0.1:55433/postgres`).
//! Each test's database is dropped when the test ends, pass or fail; set
//! `KEEP_TEST_DB=1` to keep them for a post-mortem.
//!
//! `TestApp::spawn()` is the app as configured for every test;
//! `TestApp::spawn_with(Overrides::new()…)` changes settings for one test
//! (the callback tests point the OpenID issuer at their fake provider).

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tower::ServiceExt;
use uuid::Uuid;

use app::accounts::{Account, AccountRow};
use app::auth::Role;
use app::contacts::{ContactDetail, ContactRow};
use app::error::AppError;
use app::i18n::T;
use app::record::{HistoryEntry, Page, Permissions};
use server::{AppState, Config};

/// The public URL's origin, as the browser sends it in `Origin`.
pub const ORIGIN: &str = "http://127.0.0.1:3000";

pub struct TestApp {
    pub pool: PgPool,
    pub state: AppState,
    router: Router,
    db_name: String,
    admin_url: String,
}

/// Settings that differ from the default test configuration.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    env: Vec<(String, String)>,
    site_root: Option<String>,
}

impl Overrides {
    pub fn new() -> Overrides {
        Overrides::default()
    }

    /// A configuration variable as `Config::from_lookup` reads it
    /// (`OIDC_ISSUER_URL`, `OIDC_CLIENT_SECRET`, …); a later value for the
    /// same name wins.
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Overrides {
        self.env.push((name.to_string(), value.into()));
        self
    }

    /// Like `env`, unless the variable is set already.
    pub fn env_default(self, name: &str, value: impl Into<String>) -> Overrides {
        match self.lookup(name) {
            Some(_) => self,
            None => self.env(name, value),
        }
    }

    /// Serve static files (`/pkg/…`) from here instead of `target/site`.
    pub fn site_root(mut self, path: impl Into<String>) -> Overrides {
        self.site_root = Some(path.into());
        self
    }

    fn lookup(&self, name: &str) -> Option<String> {
        self.env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

impl TestApp {
    /// A fresh database with every migration applied, and the app on top of it.
    /// Keycloak is deliberately unreachable: sessions are made directly.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Overrides::new()).await
    }

    /// Like `spawn`, with some settings changed.
    pub async fn spawn_with(overrides: Overrides) -> TestApp {
        let admin_url = std::env::var("TEST_DATABASE_URL").ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
            panic!(
                "TEST_DATABASE_URL is not set. These tests need a Postgres server where they may create \
                 databases: run `scripts/test.sh --only-rust`, or `scripts/postgres.sh start test` and \
                 TEST_DATABASE_URL=postgres://salesops@127.0.0.1:55433/postgres cargo test -p server --test api"
            )
        });
        let db_name = format!("test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to TEST_DATABASE_URL ({admin_url}): {e}"));
        admin.execute(format!("create database {db_name}").as_str()).await.expect("create test database");
        admin.close().await.ok();

        let mut db_url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
        db_url.set_path(&db_name);
        let db_url = db_url.to_string();
        // The test's own database always wins: an override cannot point two tests at one database.
        let config = Config::from_lookup(|k| match k {
            "DATABASE_URL" => Some(db_url.clone()),
            _ => overrides.lookup(k).or_else(|| match k {
                "DATABASE_MAX_CONNECTIONS" => Some("5".into()),
                "OIDC_CLIENT_SECRET" => Some("x".into()),
                "SALESOPS_PUBLIC_URL" => Some(ORIGIN.into()),
                "OIDC_ISSUER_URL" => Some("http://127.0.0.1:1/realms/none".into()),
                _ => None,
            }),
        })
        .expect("test configuration");
        let pool = server::connect(&config).await.expect("connect and migrate the test database");
        let site_root = overrides.site_root.as_deref().unwrap_or("target/site");
        let options = LeptosOptions::builder().output_name("salesops").site_root(site_root).build();
        let state = server::state(pool.clone(), config, options).expect("app state");
        let router = server::router(state.clone());
        TestApp { pool, state, router, db_name, admin_url }
    }

    /// The test database's URL, for a server process of its own.
    pub fn database_url(&self) -> String {
        let mut url = url::Url::parse(&self.admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&self.db_name);
        url.to_string()
    }

    /// A GET's body as bytes (downloads).
    pub async fn get_bytes(&self, client: &Client<'_>, path: &str) -> Vec<u8> {
        let mut b = Request::builder().method(Method::GET).uri(path);
        if let Some(token) = &client.token {
            b = b.header(header::COOKIE, format!("{}={token}", server::session::COOKIE));
        }
        let res = self.router.clone().oneshot(b.body(Body::empty()).expect("request")).await.expect("router");
        res.into_body().collect().await.expect("body").to_bytes().to_vec()
    }

    /// Sends one request through the whole router.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.expect("the router never fails");
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.expect("read response body").to_bytes();
        Resp { status: parts.status, headers: parts.headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    // --- people

    /// A user with these realm roles (possibly none) and a live session.
    pub async fn user(&self, display_name: &str, roles: &[&str]) -> Client<'_> {
        let username = format!("user-{}", Uuid::new_v4().simple());
        let (id,): (Uuid,) = sqlx::query_as(
            "insert into users (subject, username, display_name, email, roles) values ($1, $2, $3, $4, $5) returning id",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(&username)
        .bind(display_name)
        .bind(format!("{username}@salesops.example"))
        .bind(roles.iter().map(|r| r.to_string()).collect::<Vec<_>>())
        .fetch_one(&self.pool)
        .await
        .expect("insert user");
        let token = server::session::create(&self.state, id, "id-token", None, None).await.expect("create session");
        Client { app: self, id, name: display_name.to_string(), token: Some(token) }
    }

    pub async fn rep(&self, name: &str) -> Client<'_> {
        self.user(name, &[Role::Rep.realm_name()]).await
    }
    pub async fn manager(&self, name: &str) -> Client<'_> {
        self.user(name, &[Role::Manager.realm_name()]).await
    }
    pub async fn viewer(&self, name: &str) -> Client<'_> {
        self.user(name, &[Role::Viewer.realm_name()]).await
    }
    pub async fn admin(&self, name: &str) -> Client<'_> {
        self.user(name, &[Role::Admin.realm_name()]).await
    }
    /// Signed in through Keycloak but without any SalesOps role.
    pub async fn no_role(&self, name: &str) -> Client<'_> {
        self.user(name, &[]).await
    }
    /// No session cookie at all.
    pub fn anonymous(&self) -> Client<'_> {
        Client { app: self, id: Uuid::nil(), name: String::new(), token: None }
    }
    /// A client sending an arbitrary cookie token (for hand-made sessions).
    pub fn with_token(&self, token: &str) -> Client<'_> {
        Client { app: self, id: Uuid::nil(), name: String::new(), token: Some(token.to_string()) }
    }

    // --- looking at the database directly

    pub async fn count(&self, table: &str) -> i64 {
        // `table` is always a literal in the tests.
        let (n,): (i64,) =
            sqlx::query_as(&format!("select count(*) from {table}")).fetch_one(&self.pool).await.expect("count");
        n
    }

    /// The whole stored row, as JSON.
    pub async fn row(&self, table: &str, id: Uuid) -> Value {
        let (v,): (Value,) = sqlx::query_as(&format!("select to_jsonb(t) from {table} t where id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{table} row {id}: {e}"));
        v
    }

    pub async fn version(&self, table: &str, id: Uuid) -> i32 {
        self.row(table, id).await["version"].as_i64().expect("version") as i32
    }

    /// The audit trail of one record, oldest first.
    pub async fn audit(&self, entity_id: Uuid) -> Vec<AuditRow> {
        let rows: Vec<(String, String, Uuid, Option<Value>, Option<Value>)> = sqlx::query_as(
            "select entity, action, actor_id, before, after from audit_log where entity_id = $1 order by id",
        )
        .bind(entity_id)
        .fetch_all(&self.pool)
        .await
        .expect("audit rows");
        rows.into_iter()
            .map(|(entity, action, actor_id, before, after)| AuditRow { entity, action, actor_id, before, after })
            .collect()
    }

    /// Everything a refused request must leave untouched: every account,
    /// contact and audit row, byte for byte.
    pub async fn fingerprint(&self) -> Fingerprint {
        let (accounts, contacts, audit): (String, String, String) = sqlx::query_as(
            "select (select coalesce(md5(string_agg(to_jsonb(a)::text, ',' order by id)), '') from accounts a),
                    (select coalesce(md5(string_agg(to_jsonb(c)::text, ',' order by id)), '') from contacts c),
                    (select coalesce(md5(string_agg(to_jsonb(l)::text, ',' order by id)), '') from audit_log l)",
        )
        .fetch_one(&self.pool)
        .await
        .expect("fingerprint");
        Fingerprint {
            accounts: (self.count("accounts").await, accounts),
            contacts: (self.count("contacts").await, contacts),
            audit_log: (self.count("audit_log").await, audit),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_TEST_DB").is_some() {
            eprintln!("kept test database {}", self.db_name);
            return;
        }
        // Drop runs inside the test's runtime; the cleanup gets its own.
        let (admin_url, db_name) = (self.admin_url.clone(), self.db_name.clone());
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                admin.execute(format!("drop database if exists {db_name} with (force)").as_str()).await?;
                admin.close().await
            })
        });
        if let Ok(Err(e)) = cleanup.join() {
            eprintln!("could not drop test database {}: {e}", self.db_name);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub accounts: (i64, String),
    pub contacts: (i64, String),
    pub audit_log: (i64, String),
}

#[derive(Debug, Clone)]
pub struct AuditRow {
    pub entity: String,
    pub action: String,
    pub actor_id: Uuid,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// One HTTP answer, body read in full.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    #[track_caller]
    pub fn assert_status(&self, expected: StatusCode) -> &Self {
        assert_eq!(self.status, expected, "unexpected status; body: {}", self.body);
        self
    }

    /// The success value of a server function (asserts 200).
    #[track_caller]
    pub fn ok<T: DeserializeOwned>(&self) -> T {
        self.assert_status(StatusCode::OK);
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("cannot read {}: {e}", self.body))
    }

    /// The `AppError` a server function answered with.
    #[track_caller]
    pub fn error(&self) -> AppError {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not an AppError (status {}): {e}: {}", self.status, self.body))
    }

    /// The field errors of a 400 validation answer, as (field, message).
    #[track_caller]
    pub fn field_errors(&self) -> Vec<(String, T)> {
        self.assert_status(StatusCode::BAD_REQUEST);
        match self.error() {
            AppError::Validation { fields, .. } => fields.into_iter().map(|f| (f.field, f.message)).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header(header::LOCATION.as_str())
    }

    /// Every `Set-Cookie` header, in order.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
    }

    /// The session cookie this answer sets, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.set_cookies().into_iter().find(|c| c.starts_with(&format!("{}=", server::session::COOKIE)))
    }
}

/// A browser of one user (or of nobody).
pub struct Client<'a> {
    pub app: &'a TestApp,
    pub id: Uuid,
    pub name: String,
    pub token: Option<String>,
}

/// Plain fields: `[("id", "…")]`.
pub fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Fields of the `form` argument: `form[name]=…`.
pub fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (format!("form[{k}]"), v.to_string())).collect()
}

/// The `query` argument of a list function, every field present as the
/// browser's client sends it; `pairs` override the defaults.
pub fn query(keys: &[&str], pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    keys.iter()
        .map(|k| {
            let default = if *k == "deleted" { "false" } else { "" };
            let v = pairs.iter().find(|(pk, _)| pk == k).map(|(_, v)| *v).unwrap_or(default);
            (format!("query[{k}]"), v.to_string())
        })
        .collect()
}

const ACCOUNT_QUERY: &[&str] = &["q", "owner", "industry", "sort", "after", "before", "deleted"];
const CONTACT_QUERY: &[&str] = &["q", "after", "before", "deleted"];

impl<'a> Client<'a> {
    fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(token) = &self.token {
            b = b.header(header::COOKIE, format!("{}={token}", server::session::COOKIE));
        }
        b
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut b = self.request(Method::GET, path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.app.send(b.body(Body::empty()).expect("request")).await
    }

    /// A form-encoded POST with exactly these extra headers.
    pub async fn post_with(&self, path: &str, body: &[(String, String)], headers: &[(&str, &str)]) -> Resp {
        let mut b = self.request(Method::POST, path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let body = serde_urlencoded::to_string(body).expect("form encoding");
        self.app.send(b.body(Body::from(body)).expect("request")).await
    }

    /// A server function call as the app's own client makes it.
    pub async fn post_fn(&self, path: &str, body: &[(String, String)]) -> Resp {
        self.post_with(path, body, &[("accept", "application/json"), ("origin", ORIGIN)]).await
    }

    // --- accounts

    pub async fn try_create_account(&self, pairs: &[(&str, &str)]) -> Resp {
        self.post_fn("/api/accounts/create", &form(pairs)).await
    }

    /// Creates an account and returns its id (asserts success).
    pub async fn create_account(&self, pairs: &[(&str, &str)]) -> Uuid {
        let id: String = self.try_create_account(pairs).await.ok();
        id.parse().expect("create_account returns the new id")
    }

    pub async fn get_account(&self, id: impl ToString) -> Resp {
        self.post_fn("/api/accounts/get", &fields(&[("id", &id.to_string())])).await
    }

    /// The account page: the account and what the other domains hold about it.
    pub async fn account(&self, id: Uuid) -> AccountView {
        let page: app::pages::AccountPageData =
            self.post_fn("/api/pages/account", &fields(&[("id", &id.to_string())])).await.ok();
        AccountView {
            account: page.detail.account,
            history: page.detail.history,
            can: page.detail.can,
            contacts: page.contacts,
            deals: page.deals,
            activities: page.activities,
        }
    }

    pub async fn try_list_accounts(&self, pairs: &[(&str, &str)]) -> Resp {
        self.post_fn("/api/accounts/list", &query(ACCOUNT_QUERY, pairs)).await
    }

    pub async fn list_accounts(&self, pairs: &[(&str, &str)]) -> Page<AccountRow> {
        self.try_list_accounts(pairs).await.ok()
    }

    /// Names on the first page of a list, in order.
    pub async fn account_names(&self, pairs: &[(&str, &str)]) -> Vec<String> {
        self.list_accounts(pairs).await.rows.into_iter().map(|r| r.name).collect()
    }

    pub async fn update_account(&self, id: impl ToString, version: impl ToString, pairs: &[(&str, &str)]) -> Resp {
        let mut body = fields(&[("id", &id.to_string()), ("version", &version.to_string())]);
        body.extend(form(pairs));
        self.post_fn("/api/accounts/update", &body).await
    }

    /// Delete through the one endpoint every record kind shares.
    pub async fn delete_record(&self, kind: &str, id: impl ToString, version: impl ToString) -> Resp {
        let body = fields(&[("kind", kind), ("id", &id.to_string()), ("version", &version.to_string())]);
        self.post_fn("/api/records/delete", &body).await
    }

    pub async fn restore_record(&self, kind: &str, id: impl ToString) -> Resp {
        self.post_fn("/api/records/restore", &fields(&[("kind", kind), ("id", &id.to_string())])).await
    }

    pub async fn delete_account(&self, id: impl ToString, version: impl ToString) -> Resp {
        self.delete_record("account", id, version).await
    }

    pub async fn restore_account(&self, id: impl ToString) -> Resp {
        self.restore_record("account", id).await
    }

    // --- contacts

    pub async fn try_create_contact(&self, pairs: &[(&str, &str)]) -> Resp {
        self.post_fn("/api/contacts/create", &form(pairs)).await
    }

    pub async fn create_contact(&self, pairs: &[(&str, &str)]) -> Uuid {
        let id: String = self.try_create_contact(pairs).await.ok();
        id.parse().expect("create_contact returns the new id")
    }

    pub async fn get_contact(&self, id: impl ToString) -> Resp {
        self.post_fn("/api/contacts/get", &fields(&[("id", &id.to_string())])).await
    }

    pub async fn contact(&self, id: Uuid) -> ContactDetail {
        self.get_contact(id).await.ok()
    }

    pub async fn try_list_contacts(&self, pairs: &[(&str, &str)]) -> Resp {
        self.post_fn("/api/contacts/list", &query(CONTACT_QUERY, pairs)).await
    }

    pub async fn list_contacts(&self, pairs: &[(&str, &str)]) -> Page<ContactRow> {
        self.try_list_contacts(pairs).await.ok()
    }

    pub async fn contact_names(&self, pairs: &[(&str, &str)]) -> Vec<String> {
        self.list_contacts(pairs).await.rows.into_iter().map(|r| r.name).collect()
    }

    pub async fn update_contact(&self, id: impl ToString, version: impl ToString, pairs: &[(&str, &str)]) -> Resp {
        let mut body = fields(&[("id", &id.to_string()), ("version", &version.to_string())]);
        body.extend(form(pairs));
        self.post_fn("/api/contacts/update", &body).await
    }

    pub async fn delete_contact(&self, id: impl ToString, version: impl ToString) -> Resp {
        self.delete_record("contact", id, version).await
    }

    pub async fn restore_contact(&self, id: impl ToString) -> Resp {
        self.restore_record("contact", id).await
    }
}

/// What an account's page shows (the account's own detail and the other
/// domains' rows about it), flattened for the tests' convenience.
pub struct AccountView {
    pub account: Account,
    pub history: Vec<HistoryEntry>,
    pub can: Permissions,
    pub contacts: Vec<ContactRow>,
    pub deals: Vec<app::deals::DealRow>,
    pub activities: Vec<app::activities::Activity>,
}

/// What a deal's page shows, flattened likewise.
pub struct DealView {
    pub deal: app::deals::Deal,
    pub stage_history: Vec<app::deals::StageSpan>,
    pub history: Vec<HistoryEntry>,
    pub can: Permissions,
    pub activities: Vec<app::activities::Activity>,
}

/// A valid business registration number, dashed (123-45-67890).
pub fn business_number(prefix: u32) -> String {
    app::domain::BusinessNumber::from_prefix(prefix).to_string()
}

// --- deals, the board and activities

/// Everything a refused deal request must leave untouched: every deal, stage
/// history, activity, audit, pipeline-total and stage-time row, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealFingerprint {
    pub deals: (i64, String),
    pub deal_stage_history: (i64, String),
    pub activities: (i64, String),
    pub audit_log: (i64, String),
    pub pipeline_totals: (i64, String),
    pub stage_time_totals: (i64, String),
}

impl TestApp {
    /// Row count and a digest of a whole table (rows as JSON, in `order_by` order).
    /// `table` and `order_by` are always literals in the tests.
    pub async fn table_digest(&self, table: &str, order_by: &str) -> (i64, String) {
        let (n, digest): (i64, String) = sqlx::query_as(&format!(
            "select count(*), coalesce(md5(string_agg(to_jsonb(t)::text, ',' order by {order_by})), '') from {table} t"
        ))
        .fetch_one(&self.pool)
        .await
        .unwrap_or_else(|e| panic!("digest of {table}: {e}"));
        (n, digest)
    }

    pub async fn deal_fingerprint(&self) -> DealFingerprint {
        DealFingerprint {
            deals: self.table_digest("deals", "id").await,
            deal_stage_history: self.table_digest("deal_stage_history", "id").await,
            activities: self.table_digest("activities", "id").await,
            audit_log: self.table_digest("audit_log", "id").await,
            pipeline_totals: self.table_digest("pipeline_totals", "owner_id, stage_id, currency, close_month").await,
            stage_time_totals: self.table_digest("stage_time_totals", "owner_id, stage_id, currency, days").await,
        }
    }

    /// A deal's stage history, oldest first: (from, to, changed_by).
    pub async fn stage_history(&self, deal_id: Uuid) -> Vec<(Option<String>, String, Uuid)> {
        sqlx::query_as("select from_stage, to_stage, changed_by from deal_stage_history where deal_id = $1 order by id")
            .bind(deal_id)
            .fetch_all(&self.pool)
            .await
            .expect("stage history")
    }
}

pub const DEAL_QUERY: &[&str] = &["q", "owner", "stage", "currency", "account", "after", "before", "deleted"];
pub const BOARD_QUERY: &[&str] = &["owner", "period", "currency"];

impl Client<'_> {
    pub async fn try_create_deal(&self, pairs: &[(&str, &str)]) -> Resp {
        self.post_fn("/api/deals/create", &form(pairs)).await
    }

    /// Creates a deal and returns its id (asserts success).
    pub async fn create_deal(&self, pairs: &[(&str, &str)]) -> Uuid {
        let id: String = self.try_create_deal(pairs).await.ok();
        id.parse().expect("create_deal returns the new id")
    }

    pub async fn get_deal(&self, id: impl ToString) -> Resp {
        self.post_fn("/api/deals/get", &fields(&[("id", &id.to_string())])).await
    }

    /// The deal page: the deal, its timeline and history.
    pub async fn deal(&self, id: Uuid) -> DealView {
        let page: app::pages::DealPageData =
            self.post_fn("/api/pages/deal", &fields(&[("id", &id.to_string())])).await.ok();
        let d = page.detail;
        DealView {
            deal: d.deal,
            stage_history: d.stage_history,
            history: d.history,
            can: d.can,
            activities: page.activities,
        }
    }

    pub async fn try_list_deals(&self, pairs: &[(&str, &str)]) -> Resp {
        self.post_fn("/api/deals/list", &query(DEAL_QUERY, pairs)).await
    }

    pub async fn list_deals(&self, pairs: &[(&str, &str)]) -> app::deals::DealList {
        self.try_list_deals(pairs).await.ok()
    }

    /// Names on the first page of the deal list, in order.
    pub async fn deal_names(&self, pairs: &[(&str, &str)]) -> Vec<String> {
        self.list_deals(pairs).await.page.rows.into_iter().map(|r| r.name).collect()
    }

    pub async fn update_deal(&self, id: impl ToString, version: impl ToString, pairs: &[(&str, &str)]) -> Resp {
        let mut body = fields(&[("id", &id.to_string()), ("version", &version.to_string())]);
        body.extend(form(pairs));
        self.post_fn("/api/deals/update", &body).await
    }

    /// The board's move (drag, keyboard or the no-JS stage selector).
    pub async fn move_deal(&self, id: impl ToString, version: impl ToString, stage: &str) -> Resp {
        let body = fields(&[("id", &id.to_string()), ("version", &version.to_string()), ("stage", stage)]);
        self.post_fn("/api/deals/move", &body).await
    }

    pub async fn delete_deal(&self, id: impl ToString, version: impl ToString) -> Resp {
        self.delete_record("deal", id, version).await
    }

    pub async fn restore_deal(&self, id: impl ToString) -> Resp {
        self.restore_record("deal", id).await
    }

    pub async fn try_board(&self, pairs: &[(&str, &str)]) -> Resp {
        self.post_fn("/api/deals/board", &query(BOARD_QUERY, pairs)).await
    }

    pub async fn board(&self, pairs: &[(&str, &str)]) -> app::deals::Board {
        self.try_board(pairs).await.ok()
    }

    pub async fn add_activity(&self, pairs: &[(&str, &str)]) -> Resp {
        self.post_fn("/api/activities/add", &form(pairs)).await
    }

    pub async fn set_activity_done(&self, id: impl ToString, done: bool) -> Resp {
        self.post_fn("/api/activities/done", &fields(&[("id", &id.to_string()), ("done", &done.to_string())])).await
    }
}
