//! Deals pipeline benchmark at 1,000,000 deals over 2,000 accounts and 8 owners.
//!
//!   BENCH_DATABASE_URL=postgres://salesops@127.0.0.1:55433/salesops_bench_deals \
//!     cargo bench -p server --bench deals
//!
//! Creates the database when it is missing (BENCH_RESET=1 drops it first) and
//! runs the migrations. When the database holds fewer than 1,000,000 deals it
//! loads them with COPY: 8 owners (7 sales reps and one sales manager), 2,000
//! accounts (Korean company names, valid business numbers), and the deals
//! (Korean names, the six stages in realistic shares with their default
//! probabilities, ~85% KRW / ~15% USD amounts, expected close dates from 12
//! months ago to 18 months ahead, lost deals with a reason, 1% soft-deleted).
//! The `pipeline_totals` trigger is disabled for the COPY (it would fire once
//! per row) and the totals are rebuilt with one aggregate, checked against a
//! direct aggregate of `deals`, all in one transaction; then VACUUM ANALYZE.
//! Later runs reuse the data.
//!
//! It then times `app::deals::server::board` and `app::deals::server::list`
//! exactly as the pages call them and prints p50/p95/max per case. A case whose
//! p95 misses its target is re-run once under auto_explain, so the plans
//! Postgres actually used (after prepared-statement plan caching) are printed
//! with ANALYZE and BUFFERS.
//!
//! It prints figures; it asserts nothing. `cargo test --benches` (which runs
//! the binary without `--bench`) does nothing.

use std::process::ExitCode;
use std::time::Instant;

use app::auth::{CurrentUser, Role};
use app::deals::{BoardQuery, DealQuery};
use app::domain::BusinessNumber;
use chrono::{DateTime, NaiveDate, Utc};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

mod support;
use support::{install_notice_capture, number_prefix, pad, push_row, BoxError, Notices};

const TARGET_DEALS: i64 = 1_000_000;
const TARGET_ACCOUNTS: i64 = 2_000;
/// Share of loaded deals that are soft-deleted.
const DELETED_SHARE: f64 = 0.01;
const DEEP_OFFSET: i64 = 900_000;
const WARMUP: usize = 10;
const ITERATIONS: usize = 200;
const BOARD_TARGET_P95_MS: f64 = 100.0;
const LIST_TARGET_P95_MS: f64 = 20.0;
const SEED: u64 = 20_261_125;

fn main() -> ExitCode {
    // `cargo bench` passes --bench; `cargo test --benches` does not: then this is no test.
    if !std::env::args().any(|a| a == "--bench") {
        println!("deals benchmark: run it with `cargo bench -p server --bench deals`");
        return ExitCode::SUCCESS;
    }
    let Some(url) = std::env::var("BENCH_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!(
            "BENCH_DATABASE_URL is not set. Run:\n\n  \
             scripts/postgres.sh start test   # if not running already\n  \
             BENCH_DATABASE_URL=postgres://salesops@127.0.0.1:55433/salesops_bench_deals \\\n    \
             cargo bench -p server --bench deals\n\n\
             The database is created if missing and loaded once (1,000,000 deals, about 1 GB).\n\
             BENCH_RESET=1 drops and reloads it."
        );
        return ExitCode::from(1);
    };
    let notices = install_notice_capture();
    support::run_to_exit(run(&url, notices))
}

async fn run(url: &str, notices: Notices) -> Result<(), BoxError> {
    let pool = support::connect_and_migrate(url, "a few minutes").await?;
    let users = ensure_users(&pool).await?;
    let load = load_if_needed(&pool, &users).await?;
    print_environment(&pool, &load).await?;

    let cases = cases(&pool, &users).await?;
    println!("\n{ITERATIONS} timed calls per case after {WARMUP} warm-up calls; times are wall-clock ms of one");
    println!("app::deals::server::board / list call (all its queries + decoding), one connection.");
    println!(
        "board: {} columns x up to {} cards; list: page size {}. \"deals\" = deals the view covers.\n",
        6,
        app::deals::CARDS_PER_COLUMN,
        app::record::PAGE_SIZE
    );
    println!("{:<52} {:>5} {:>8} {:>8} {:>8} {:>8}  target", "case", "rows", "deals", "p50 ms", "p95 ms", "max ms");
    let mut slow = Vec::new();
    for case in &cases {
        let stats = measure(&pool, &case.call).await?;
        let target = case.call.target();
        let verdict = if stats.p95 <= target { "ok" } else { "MISSED" };
        println!(
            "{} {:>5} {:>8} {:>8.2} {:>8.2} {:>8.2}  {verdict} (p95 <= {target} ms)",
            pad(&case.label, 52),
            stats.rows,
            stats.scope.map_or_else(|| "-".to_string(), |n| n.to_string()),
            stats.p50,
            stats.p95,
            stats.max
        );
        if stats.p95 > target {
            slow.push(case);
        }
    }
    if slow.is_empty() {
        println!("\nEvery case meets its target (board p95 <= {BOARD_TARGET_P95_MS} ms, list p95 <= {LIST_TARGET_P95_MS} ms).");
        return Ok(());
    }
    println!("\n{} case(s) miss their target; the plans Postgres used:", slow.len());
    for case in slow {
        println!("\n---- {}", case.label);
        match explain(&pool, &case.call, &notices).await {
            Ok(plan) => println!("{plan}"),
            Err(e) => println!("(no plan: {e}; load auto_explain needs a superuser)"),
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ cases

enum Call {
    Board(CurrentUser, BoardQuery),
    List(CurrentUser, DealQuery),
    Dashboard(CurrentUser, app::dashboard::DashboardQuery),
}

impl Call {
    fn target(&self) -> f64 {
        match self {
            Call::Board(..) | Call::Dashboard(..) => BOARD_TARGET_P95_MS,
            Call::List(..) => LIST_TARGET_P95_MS,
        }
    }

    /// Runs the call once; returns the rows (cards or list rows) and, for the
    /// board, the deals its columns count.
    async fn run(&self, pool: &PgPool) -> Result<(usize, Option<i64>), BoxError> {
        match self {
            Call::Board(user, query) => {
                let board = app::deals::server::board(pool, user, query).await.map_err(|e| format!("board: {e:?}"))?;
                let cards = board.columns.iter().map(|c| c.cards.len()).sum();
                Ok((cards, Some(board.columns.iter().map(|c| c.count).sum())))
            }
            Call::List(user, query) => {
                let list = app::deals::server::list(pool, user, query).await.map_err(|e| format!("list: {e:?}"))?;
                Ok((list.page.rows.len(), None))
            }
            Call::Dashboard(user, query) => {
                let d = app::dashboard::server::dashboard(pool, user, query)
                    .await
                    .map_err(|e| format!("dashboard: {e:?}"))?;
                Ok((d.by_stage.len() + d.forecast.len() + d.leaderboard.len() + d.stale.len(), None))
            }
        }
    }
}

struct Case {
    label: String,
    call: Call,
}

async fn cases(pool: &PgPool, users: &Users) -> Result<Vec<Case>, BoxError> {
    let manager = CurrentUser {
        id: users.manager,
        username: "bench.manager".into(),
        display_name: MANAGER_NAME.into(),
        roles: vec![Role::Manager],
    };
    // The third rep: an owner of middling size.
    let rep_id = users.reps[2];
    let rep = CurrentUser {
        id: rep_id,
        username: "bench.owner3".into(),
        display_name: REP_NAMES[2].into(),
        roles: vec![Role::Rep],
    };
    let (deep_name, deep_id): (String, Uuid) =
        sqlx::query_as("select name, id from deals where deleted_at is null order by name, id offset $1 limit 1")
            .bind(DEEP_OFFSET)
            .fetch_one(pool)
            .await?;
    let (biggest, biggest_deals): (Uuid, i64) = sqlx::query_as(
        "select account_id, count(*) from deals where deleted_at is null group by 1 order by 2 desc limit 1",
    )
    .fetch_one(pool)
    .await?;
    let board = |owner: &str, period: &str, currency: &str| BoardQuery {
        owner: owner.into(),
        period: period.into(),
        currency: currency.into(),
    };
    let list = |f: &dyn Fn(&mut DealQuery)| {
        let mut q = DealQuery::default();
        f(&mut q);
        q
    };
    let owner = rep_id.to_string();
    Ok(vec![
        Case { label: "board, everyone (manager)".into(), call: Call::Board(manager.clone(), board("", "", "")) },
        Case {
            label: "board, one owner (manager, owner filter)".into(),
            call: Call::Board(manager.clone(), board(&owner, "", "")),
        },
        Case { label: "board, a rep's own deals (rep)".into(), call: Call::Board(rep.clone(), board("", "", "")) },
        Case {
            label: "board, everyone, period=quarter, currency=KRW".into(),
            call: Call::Board(manager.clone(), board("", "quarter", "KRW")),
        },
        Case {
            label: "dashboard, everyone (manager)".into(),
            call: Call::Dashboard(manager.clone(), app::dashboard::DashboardQuery::default()),
        },
        Case {
            label: "dashboard, one owner, KRW, year (manager)".into(),
            call: Call::Dashboard(
                manager.clone(),
                app::dashboard::DashboardQuery {
                    owner: owner.clone(),
                    currency: "KRW".into(),
                    period: "year".into(),
                    stale: String::new(),
                },
            ),
        },
        Case {
            label: "dashboard, a rep's own (rep)".into(),
            call: Call::Dashboard(rep.clone(), app::dashboard::DashboardQuery::default()),
        },
        Case { label: "list first page, sort name (manager)".into(), call: Call::List(manager.clone(), list(&|_| {})) },
        Case {
            label: format!("list deep page (after row {DEEP_OFFSET}) (manager)"),
            call: Call::List(manager.clone(), list(&|q| q.after = format!("{deep_name}|{deep_id}"))),
        },
        Case { label: "list first page (rep, own deals)".into(), call: Call::List(rep.clone(), list(&|_| {})) },
        Case {
            label: "list stage=negotiation, first page (manager)".into(),
            call: Call::List(manager.clone(), list(&|q| q.stage = "negotiation".into())),
        },
        // Beyond the cases: filters that the (name, id) order scans past.
        Case {
            label: "list stage=negotiation, currency=USD (rep)".into(),
            call: Call::List(
                rep.clone(),
                list(&|q| {
                    q.stage = "negotiation".into();
                    q.currency = "USD".into();
                }),
            ),
        },
        Case {
            label: format!("list account=largest ({biggest_deals} deals) (manager)"),
            call: Call::List(manager.clone(), list(&|q| q.account = biggest.to_string())),
        },
        // Searches (issue 9): common and absent words of two characters (the
        // bigram index) and longer (the trigram index), as a manager and a rep.
        Case {
            label: "search common 2-char \"전환\" (manager)".into(),
            call: Call::List(manager.clone(), list(&|q| q.q = "전환".into())),
        },
        Case {
            label: "search absent 2-char \"햏햏\" (manager)".into(),
            call: Call::List(manager.clone(), list(&|q| q.q = "햏햏".into())),
        },
        Case {
            label: "search common \"클라우드\" (rep)".into(),
            call: Call::List(rep.clone(), list(&|q| q.q = "클라우드".into())),
        },
        Case {
            label: "search absent \"없는영업기회\" (rep)".into(),
            call: Call::List(rep.clone(), list(&|q| q.q = "없는영업기회".into())),
        },
    ])
}

struct Stats {
    rows: usize,
    scope: Option<i64>,
    p50: f64,
    p95: f64,
    max: f64,
}

async fn measure(pool: &PgPool, call: &Call) -> Result<Stats, BoxError> {
    for _ in 0..WARMUP {
        call.run(pool).await?;
    }
    let mut times = Vec::with_capacity(ITERATIONS);
    let mut result = (0, None);
    for _ in 0..ITERATIONS {
        let start = Instant::now();
        result = call.run(pool).await?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    // Nearest-rank percentiles.
    let pct = |p: f64| times[((p / 100.0 * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1];
    Ok(Stats { rows: result.0, scope: result.1, p50: pct(50.0), p95: pct(95.0), max: times[times.len() - 1] })
}

// ------------------------------------------------------------------ EXPLAIN

/// Runs the call once more on the same connection (same prepared statements and
/// plan cache as the timed calls) with auto_explain logging every plan to us.
async fn explain(pool: &PgPool, call: &Call, notices: &Notices) -> Result<String, BoxError> {
    sqlx::raw_sql(
        "load 'auto_explain';
         set auto_explain.log_analyze = on;
         set auto_explain.log_buffers = on;
         set auto_explain.log_timing = on;
         set auto_explain.log_nested_statements = off;
         set auto_explain.log_level = notice;",
    )
    .execute(pool)
    .await?;
    notices.lock().expect("notice lock").clear();
    sqlx::query("set auto_explain.log_min_duration = 0").execute(pool).await?;
    let result = call.run(pool).await;
    sqlx::query("set auto_explain.log_min_duration = -1").execute(pool).await?;
    result?;
    let captured = std::mem::take(&mut *notices.lock().expect("notice lock"));
    let plans: Vec<String> = captured.into_iter().filter(|n| n.contains("Query Text")).collect();
    if plans.is_empty() {
        return Err("auto_explain sent no plan".into());
    }
    Ok(plans.join("\n"))
}

// ------------------------------------------------------------------ environment

async fn print_environment(pool: &PgPool, load: &str) -> Result<(), BoxError> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_string()))
        .unwrap_or_else(|| "unknown".into());
    let mem_kb: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let load_avg = read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let (version,): (String,) = sqlx::query_as("select version()").fetch_one(pool).await?;
    let (shared_buffers,): (String,) =
        sqlx::query_as("select current_setting('shared_buffers')").fetch_one(pool).await?;
    let (work_mem,): (String,) = sqlx::query_as("select current_setting('work_mem')").fetch_one(pool).await?;
    let (deals, live, accounts, totals, deal_size): (i64, i64, i64, i64, String) = sqlx::query_as(
        "select (select count(*) from deals), (select count(*) from deals where deleted_at is null),
                (select count(*) from accounts), (select count(*) from pipeline_totals),
                pg_size_pretty(pg_total_relation_size('deals'))",
    )
    .fetch_one(pool)
    .await?;
    let shares: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "select d.stage_id, count(*), count(*) filter (where d.currency = 'USD'),
                count(*) filter (where d.expected_close_date is null)
         from deals d join stages s on s.id = d.stage_id where d.deleted_at is null
         group by d.stage_id, s.position order by s.position",
    )
    .fetch_all(pool)
    .await?;
    let owners: Vec<(String, i64)> = sqlx::query_as(
        "select u.username, count(*) from deals d join users u on u.id = d.owner_id
         where d.deleted_at is null group by u.username order by u.username",
    )
    .fetch_all(pool)
    .await?;
    println!("\nmachine:  {cores} cores (nproc), {:.1} GiB RAM, {cpu}", mem_kb as f64 / 1024.0 / 1024.0);
    println!("kernel:   {}; load average at start {load_avg}", read("/proc/sys/kernel/osrelease").trim());
    println!("postgres: {version}");
    println!("          shared_buffers {shared_buffers}, work_mem {work_mem}");
    println!("load:     {load}");
    println!(
        "data:     {deals} deals ({live} live, {deal_size} with indexes), {accounts} accounts, \
         {totals} pipeline_totals rows"
    );
    let stages: Vec<String> = shares
        .iter()
        .map(|(s, n, usd, undated)| {
            format!(
                "{s} {:.1}% (USD {:.0}%, undated {:.0}%)",
                100.0 * *n as f64 / live.max(1) as f64,
                100.0 * *usd as f64 / (*n).max(1) as f64,
                100.0 * *undated as f64 / (*n).max(1) as f64
            )
        })
        .collect();
    println!("stages:   {}", stages.join(", "));
    let owners: Vec<String> = owners.iter().map(|(u, n)| format!("{u} {n}")).collect();
    println!("owners:   {}", owners.join(", "));
    Ok(())
}

// ------------------------------------------------------------------ database and users

struct Users {
    /// All eight deal owners: the seven reps, then the manager.
    owners: Vec<Uuid>,
    reps: Vec<Uuid>,
    manager: Uuid,
}

const REP_NAMES: [&str; 7] = ["김민준", "이서연", "박지훈", "최유나", "정우성", "강하늘", "윤서진"];
const MANAGER_NAME: &str = "한지민";
/// Deal shares of the owners, in `Users::owners` order: the manager (a team lead)
/// owns the fewest.
const OWNER_WEIGHTS: [u32; 8] = [16, 15, 14, 13, 12, 12, 10, 8];

async fn ensure_users(pool: &PgPool) -> Result<Users, BoxError> {
    let mut people: Vec<(String, &str, &str)> =
        REP_NAMES.iter().enumerate().map(|(i, name)| (format!("bench.owner{}", i + 1), *name, "sales-rep")).collect();
    people.push(("bench.manager".into(), MANAGER_NAME, "sales-manager"));
    let mut owners = Vec::new();
    for (username, name, role) in &people {
        sqlx::query(
            "insert into users (username, display_name, email, roles) values ($1, $2, $1 || '@bench.example', $3)
             on conflict (username) do nothing",
        )
        .bind(username)
        .bind(name)
        .bind(vec![role.to_string()])
        .execute(pool)
        .await?;
        let (id,): (Uuid,) =
            sqlx::query_as("select id from users where username = $1").bind(username).fetch_one(pool).await?;
        owners.push(id);
    }
    let manager = owners[owners.len() - 1];
    let reps = owners[..owners.len() - 1].to_vec();
    Ok(Users { owners, reps, manager })
}

// ------------------------------------------------------------------ loading

/// Loads what is missing; returns a line about the load (this run's or the earlier one's).
async fn load_if_needed(pool: &PgPool, users: &Users) -> Result<String, BoxError> {
    let (have,): (i64,) = sqlx::query_as("select count(*) from deals").fetch_one(pool).await?;
    if have >= TARGET_DEALS {
        // A run interrupted after the load committed may have missed this.
        let (analyzed,): (bool,) = sqlx::query_as(
            "select coalesce(last_analyze, last_autoanalyze) is not null from pg_stat_user_tables where relname = 'deals'",
        )
        .fetch_one(pool)
        .await?;
        if !analyzed {
            vacuum_analyze(pool).await?;
        }
        ensure_history(pool).await?;
        let (note,): (Option<String>,) =
            sqlx::query_as("select obj_description('deals'::regclass, 'pg_class')").fetch_one(pool).await?;
        return Ok(format!(
            "none this run ({have} deals present); earlier: {}",
            note.unwrap_or_else(|| "not recorded".into())
        ));
    }
    let todo = (TARGET_DEALS - have) as usize;
    println!("loading {todo} deals with COPY");
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    sqlx::query("set local maintenance_work_mem = '512MB'").execute(&mut *tx).await?;

    let accounts = ensure_accounts(&mut tx, users).await?;
    let accounts_done = started.elapsed();

    // Building the secondary indexes and checking the foreign keys once after the
    // load is several times faster than doing both row by row; all in one
    // transaction, so an interrupted load leaves the schema (and data) as it was.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "select i.indexname, i.indexdef from pg_indexes i
         where i.schemaname = current_schema() and i.tablename = 'deals'
           and not exists (select 1 from pg_constraint c where c.conname = i.indexname)
         order by i.indexname",
    )
    .fetch_all(&mut *tx)
    .await?;
    let foreign_keys: Vec<(String, String)> = sqlx::query_as(
        "select conname, pg_get_constraintdef(oid) from pg_constraint
         where conrelid = 'deals'::regclass and contype = 'f' order by conname",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (name, _) in &indexes {
        sqlx::raw_sql(&format!("drop index \"{name}\"")).execute(&mut *tx).await?;
    }
    for (name, _) in &foreign_keys {
        sqlx::raw_sql(&format!("alter table deals drop constraint \"{name}\"")).execute(&mut *tx).await?;
    }
    // The totals trigger would run an upsert per COPY row.
    sqlx::raw_sql("alter table deals disable trigger deals_pipeline_totals_insert").execute(&mut *tx).await?;
    let mut gen = DealGenerator::new(SEED ^ have as u64, accounts.len());
    copy_deals(&mut tx, &mut gen, todo, &accounts, &users.owners).await?;
    let copy_done = started.elapsed();
    sqlx::raw_sql("alter table deals enable trigger deals_pipeline_totals_insert").execute(&mut *tx).await?;

    // Rebuild every total from the deals (so rows the trigger kept before stay right),
    // with the trigger's own arithmetic (pipeline_totals_add).
    sqlx::raw_sql(
        "delete from pipeline_totals;
         insert into pipeline_totals (owner_id, stage_id, currency, close_month, deal_count, amount_sum, weighted_sum,
                                      close_days_sum)
         select owner_id, stage_id, currency,
                coalesce(date_trunc('month', expected_close_date)::date, date '0001-01-01'),
                count(*), sum(coalesce(amount, 0)), sum(coalesce(amount, 0) * probability / 100),
                sum(deal_close_days(d))
         from deals d where deleted_at is null
         group by 1, 2, 3, 4",
    )
    .execute(&mut *tx)
    .await?;
    check_totals(&mut tx).await?;
    let totals_done = started.elapsed();

    for (_, def) in &indexes {
        sqlx::raw_sql(def).execute(&mut *tx).await?;
    }
    let indexes_done = started.elapsed();
    for (name, def) in &foreign_keys {
        sqlx::raw_sql(&format!("alter table deals add constraint \"{name}\" {def}")).execute(&mut *tx).await?;
    }
    let keys_done = started.elapsed();
    tx.commit().await?;
    ensure_history(pool).await?;
    vacuum_analyze(pool).await?;
    let total = started.elapsed();
    let line = format!(
        "{todo} deals loaded in {:.1} s (accounts {:.1} s, COPY {:.1} s, pipeline_totals rebuild + check {:.1} s, \
         {} indexes {:.1} s, {} foreign keys {:.1} s, vacuum analyze {:.1} s) on {}",
        total.as_secs_f64(),
        accounts_done.as_secs_f64(),
        (copy_done - accounts_done).as_secs_f64(),
        (totals_done - copy_done).as_secs_f64(),
        indexes.len(),
        (indexes_done - totals_done).as_secs_f64(),
        foreign_keys.len(),
        (keys_done - indexes_done).as_secs_f64(),
        (total - keys_done).as_secs_f64(),
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
    );
    println!("{line}");
    // Kept with the data, so later runs can say how long the load took.
    sqlx::raw_sql(&format!("comment on table deals is 'bench: {}'", line.replace('\'', "''"))).execute(pool).await?;
    Ok(format!("this run: {line}"))
}

/// The rebuilt totals must equal a direct aggregate of the live deals, key by key,
/// and the trigger must be back on.
async fn check_totals(conn: &mut PgConnection) -> Result<(), BoxError> {
    let (differing, keys): (i64, i64) = sqlx::query_as(
        "with direct as (
             select owner_id, stage_id, currency,
                    case when expected_close_date is null then date '0001-01-01'
                         else make_date(extract(year from expected_close_date)::int,
                                        extract(month from expected_close_date)::int, 1) end as close_month,
                    count(*) as deal_count,
                    coalesce(sum(amount), 0) as amount_sum,
                    coalesce(sum(amount * probability), 0) / 100 as weighted_sum,
                    sum((stage_changed_at at time zone 'Asia/Seoul')::date
                        - (created_at at time zone 'Asia/Seoul')::date) as close_days_sum
             from deals where deleted_at is null group by 1, 2, 3, 4)
         select count(*) filter (where t.owner_id is null or d.owner_id is null
                                    or t.deal_count <> d.deal_count or t.amount_sum <> d.amount_sum
                                    or t.weighted_sum <> d.weighted_sum or t.close_days_sum <> d.close_days_sum),
                count(*)
         from pipeline_totals t
         full join direct d using (owner_id, stage_id, currency, close_month)",
    )
    .fetch_one(&mut *conn)
    .await?;
    if differing > 0 {
        return Err(format!("rebuilt pipeline_totals differ from the deals in {differing} of {keys} keys").into());
    }
    let (enabled,): (String,) = sqlx::query_as(
        "select tgenabled::text from pg_trigger
         where tgrelid = 'deals'::regclass and tgname = 'deals_pipeline_totals_insert'",
    )
    .fetch_one(&mut *conn)
    .await?;
    if enabled != "O" {
        return Err(format!(
            "trigger deals_pipeline_totals_insert is not enabled after the load (tgenabled {enabled})"
        )
        .into());
    }
    println!("pipeline_totals rebuilt: {keys} keys, equal to a direct aggregate of the deals; trigger re-enabled");
    Ok(())
}

/// Stage history for every deal, as the board would have written it: an open
/// deal went through each stage up to its own, a won deal through all four,
/// a lost one through one to four before it was lost; the moves spread
/// evenly between its creation and its last stage change. The stage-time
/// trigger is off for the insert and `stage_time_totals` is rebuilt with the
/// migration's own aggregate (the API test proves the triggers keep it equal).
async fn ensure_history(pool: &PgPool) -> Result<(), BoxError> {
    let (have,): (bool,) = sqlx::query_as("select exists (select 1 from deal_stage_history)").fetch_one(pool).await?;
    if have {
        return Ok(());
    }
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    sqlx::query("set local maintenance_work_mem = '512MB'").execute(&mut *tx).await?;
    sqlx::query("set local work_mem = '256MB'").execute(&mut *tx).await?;
    sqlx::raw_sql("alter table deal_stage_history disable trigger deal_stage_history_stage_time_insert")
        .execute(&mut *tx)
        .await?;
    let inserted = sqlx::query(
        "insert into deal_stage_history (deal_id, from_stage, to_stage, changed_by, changed_at)
         select deal_id, lag(stage_id) over w, stage_id, owner_id,
                created_at + (stage_changed_at - created_at) * ((row_number() over w) - 1)
                             / greatest(1, (count(*) over (partition by deal_id)) - 1)
         from (select d.id as deal_id, s.id as stage_id, s.position, d.owner_id, d.created_at, d.stage_changed_at
               from deals d join stages cur on cur.id = d.stage_id
               join stages s on s.id = d.stage_id
                             or (not s.is_won and not s.is_lost
                                 and s.position <= case when cur.is_lost then 1 + abs(hashtext(d.id::text)) % 4
                                                        when cur.is_won then 4 else cur.position end)) p
         window w as (partition by deal_id order by position)
         order by deal_id, position",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::raw_sql(
        "alter table deal_stage_history enable trigger deal_stage_history_stage_time_insert;
         delete from stage_time_totals;
         insert into stage_time_totals (owner_id, stage_id, currency, days, stay_count)
         select d.owner_id, x.to_stage, d.currency,
                greatest(0, (x.left_at at time zone 'Asia/Seoul')::date - (x.changed_at at time zone 'Asia/Seoul')::date),
                count(*)
         from (select deal_id, to_stage, changed_at, lead(changed_at) over (partition by deal_id order by id) as left_at
               from deal_stage_history) x
         join deals d on d.id = x.deal_id and d.deleted_at is null
         where x.left_at is not null
         group by 1, 2, 3, 4",
    )
    .execute(&mut *tx)
    .await?;
    let (stays, keys): (Option<rust_decimal::Decimal>, i64) =
        sqlx::query_as("select sum(stay_count), count(*) from stage_time_totals").fetch_one(&mut *tx).await?;
    tx.commit().await?;
    for table in ["deal_stage_history", "stage_time_totals"] {
        sqlx::raw_sql(&format!("vacuum (analyze) {table}")).execute(pool).await?;
    }
    println!(
        "stage history: {inserted} rows in {:.1} s; stage_time_totals rebuilt: {} finished stays in {keys} keys",
        started.elapsed().as_secs_f64(),
        stays.unwrap_or_default()
    );
    Ok(())
}

/// Fresh statistics for the planner, and a visibility map for index-only scans.
async fn vacuum_analyze(pool: &PgPool) -> Result<(), sqlx::Error> {
    // One statement per call: VACUUM cannot run in the implicit transaction of a batch.
    for table in ["deals", "accounts", "users", "pipeline_totals"] {
        sqlx::raw_sql(&format!("vacuum (analyze) {table}")).execute(pool).await?;
    }
    Ok(())
}

struct AccountRef {
    id: Uuid,
    /// The name without its legal form or branch: "(주)한빛시스템 부산지사" -> "한빛시스템".
    brand: String,
    owner: Uuid,
}

/// Tops the accounts up to 2,000; returns the live ones.
async fn ensure_accounts(conn: &mut PgConnection, users: &Users) -> Result<Vec<AccountRef>, BoxError> {
    let (have,): (i64,) = sqlx::query_as("select count(*) from accounts").fetch_one(&mut *conn).await?;
    if have < TARGET_ACCOUNTS {
        let mut rng = StdRng::seed_from_u64(SEED ^ 0xacc0 ^ have as u64);
        let mut copy = conn
            .copy_in_raw(
                "copy accounts (name, business_number, industry, company_size, address, main_phone,
                                owner_id, created_by, updated_by, created_at, updated_at)
                 from stdin",
            )
            .await?;
        let mut buf = String::new();
        let owner_pick = WeightedIndex::new(OWNER_WEIGHTS).expect("owner weights");
        for i in have..TARGET_ACCOUNTS {
            let owner = users.owners[owner_pick.sample(&mut rng)].to_string();
            let created = Utc::now() - chrono::Duration::days(rng.gen_range(400..2500));
            let updated = created + chrono::Duration::days(rng.gen_range(0..400));
            let (city, district) = CITIES[rng.gen_range(0..CITIES.len())];
            let row: [Option<String>; 11] = [
                Some(company_name(&mut rng)),
                Some(BusinessNumber::from_prefix(number_prefix(i as u32)).digits().to_string()),
                Some(INDUSTRIES[rng.gen_range(0..INDUSTRIES.len())].to_string()),
                Some(SIZES[rng.gen_range(0..SIZES.len())].to_string()),
                Some(format!(
                    "{city} {district} {}로 {}",
                    ["중앙", "산업", "테헤란", "세종대"][rng.gen_range(0..4)],
                    rng.gen_range(1..400)
                )),
                Some(format!("02-{:04}-{:04}", rng.gen_range(200..10_000), rng.gen_range(0..10_000))),
                Some(owner.clone()),
                Some(owner.clone()),
                Some(owner),
                Some(created.to_rfc3339()),
                Some(updated.to_rfc3339()),
            ];
            push_row(&mut buf, &row);
        }
        copy.send(buf.into_bytes()).await?;
        let n = copy.finish().await?;
        println!("loaded {n} accounts");
    }
    let rows: Vec<(Uuid, String, Uuid)> =
        sqlx::query_as("select id, name, owner_id from accounts where deleted_at is null order by id")
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().map(|(id, name, owner)| AccountRef { id, brand: brand_of(&name), owner }).collect())
}

fn brand_of(name: &str) -> String {
    let bare = name.replace("(주)", "").replace("(유)", "").replace("주식회사", "");
    bare.split_whitespace().next().unwrap_or(name).to_string()
}

/// Rows are sent to COPY in chunks of about this many bytes.
const CHUNK: usize = 1 << 20;

async fn copy_deals(
    conn: &mut PgConnection,
    gen: &mut DealGenerator,
    count: usize,
    accounts: &[AccountRef],
    owners: &[Uuid],
) -> Result<u64, BoxError> {
    let mut copy = conn
        .copy_in_raw(
            "copy deals (id, name, account_id, stage_id, amount, currency, probability, expected_close_date,
                         owner_id, source, lost_reason, last_activity_at, stage_changed_at, version,
                         created_by, created_at, updated_by, updated_at, deleted_at, deleted_by)
             from stdin",
        )
        .await?;
    let mut buf = String::with_capacity(CHUNK + 4096);
    for _ in 0..count {
        let row = gen.deal(accounts, owners);
        push_row(&mut buf, &row);
        if buf.len() >= CHUNK {
            copy.send(std::mem::take(&mut buf).into_bytes()).await?;
            buf.reserve(CHUNK + 4096);
        }
    }
    if !buf.is_empty() {
        copy.send(buf.into_bytes()).await?;
    }
    Ok(copy.finish().await?)
}

// ------------------------------------------------------------------ realistic data

/// Stage id, default probability, share of all deals. A pipeline a few years old:
/// most deals are closed, the open ones thin out towards negotiation.
const STAGES: [(&str, i32, f64); 6] = [
    ("lead", 10, 18.0),
    ("qualified", 20, 14.0),
    ("proposal", 40, 12.0),
    ("negotiation", 70, 8.0),
    ("won", 100, 20.0),
    ("lost", 0, 28.0),
];
const LOST_REASONS: &[&str] = &[
    "가격 경쟁력 부족",
    "경쟁사 선정",
    "예산 삭감",
    "프로젝트 보류",
    "요구사항 불일치",
    "의사결정 지연 후 취소",
    "담당자 연락 두절",
    "내부 개발로 전환",
];
const SOURCES: &[&str] = &["웹사이트 문의", "기존 고객", "소개", "전시회", "파트너", "콜드콜", "세미나", "입찰 공고"];
const PROJECTS: &[&str] = &[
    "ERP 구축",
    "ERP 고도화",
    "그룹웨어 도입",
    "클라우드 전환",
    "클라우드 마이그레이션",
    "보안 관제 서비스",
    "정보보호 컨설팅",
    "유지보수 계약 갱신",
    "라이선스 추가 구매",
    "CRM 도입",
    "데이터 분석 플랫폼 구축",
    "AI 챗봇 도입",
    "네트워크 장비 교체",
    "서버 증설",
    "스토리지 교체",
    "백업 솔루션 도입",
    "MES 구축",
    "스마트팩토리 구축",
    "홈페이지 리뉴얼",
    "모바일 앱 개발",
    "전자결재 연동",
    "DR 센터 구축",
    "VDI 도입",
    "키오스크 납품",
    "POS 시스템 교체",
    "물류 관리 시스템",
    "HR 솔루션 도입",
    "교육 플랫폼 구축",
    "IT 아웃소싱",
    "PC 일괄 교체",
];
const PHASES: &[&str] = &["1차", "2차", "3차", "확장", "추가", "파일럿", "본사업"];

struct DealGenerator {
    rng: StdRng,
    stage: WeightedIndex<f64>,
    account: WeightedIndex<f64>,
    owner: WeightedIndex<u32>,
    today: NaiveDate,
    now: DateTime<Utc>,
}

impl DealGenerator {
    fn new(seed: u64, accounts: usize) -> DealGenerator {
        DealGenerator {
            rng: StdRng::seed_from_u64(seed),
            stage: WeightedIndex::new(STAGES.iter().map(|s| s.2)).expect("stage weights"),
            // A few big customers with thousands of deals, a long tail with a few dozen.
            account: WeightedIndex::new((0..accounts).map(|i| 1.0 / ((i + 1) as f64).powf(0.7)))
                .expect("account weights"),
            owner: WeightedIndex::new(OWNER_WEIGHTS).expect("owner weights"),
            today: app::i18n::seoul_today(),
            now: Utc::now(),
        }
    }

    fn uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.gen()).into_uuid()
    }

    fn days(&mut self, from: i64, to: i64) -> NaiveDate {
        self.today + chrono::Duration::days(self.rng.gen_range(from..=to))
    }

    /// A moment between `from` and `to` (or `from` when they are the wrong way round).
    fn between(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
        let span = (to - from).num_seconds();
        if span <= 0 {
            from
        } else {
            from + chrono::Duration::seconds(self.rng.gen_range(0..=span))
        }
    }

    /// "한빛시스템 ERP 구축 2차", "가온데이터 클라우드 전환 (2026)", ...
    fn name(&mut self, brand: &str, close: Option<NaiveDate>) -> String {
        let project = PROJECTS[self.rng.gen_range(0..PROJECTS.len())];
        let roll: f64 = self.rng.gen();
        if roll < 0.30 {
            let year = close.map_or(self.today.format("%Y").to_string(), |d| d.format("%Y").to_string());
            format!("{brand} {project} ({year})")
        } else if roll < 0.50 {
            format!("{brand} {project} {}", PHASES[self.rng.gen_range(0..PHASES.len())])
        } else if roll < 0.60 {
            format!("[{brand}] {project}")
        } else {
            format!("{brand} {project}")
        }
    }

    fn deal(&mut self, accounts: &[AccountRef], owners: &[Uuid]) -> [Option<String>; 20] {
        let account = &accounts[self.account.sample(&mut self.rng)];
        let owner = if self.rng.gen_bool(0.75) { account.owner } else { owners[self.owner.sample(&mut self.rng)] };
        let (stage, default_probability, _) = STAGES[self.stage.sample(&mut self.rng)];
        let closed = matches!(stage, "won" | "lost");
        let probability = if !closed && self.rng.gen_bool(0.1) {
            // Adjusted by hand now and then.
            (default_probability + 5 * self.rng.gen_range(-2..=3)).clamp(5, 95)
        } else {
            default_probability
        };
        let undated = match stage {
            "lead" => 0.08,
            "qualified" => 0.03,
            "lost" => 0.02,
            _ => 0.0,
        };
        let close = if self.rng.gen_bool(undated) {
            None
        } else if closed {
            // Closed in the last year; a few booked with a date just ahead.
            Some(self.days(-365, 30))
        } else if self.rng.gen_bool(0.15) {
            // Overdue: the close date passed and nobody moved the deal.
            Some(self.days(-365, -1))
        } else {
            Some(self.days(-15, 548))
        };
        let no_amount = match stage {
            "lead" => 0.15,
            "qualified" => 0.05,
            "lost" => 0.03,
            _ => 0.0,
        };
        let usd = self.rng.gen_bool(0.15);
        let amount = if self.rng.gen_bool(no_amount) {
            None
        } else if usd {
            // USD 500 .. 400,000 with cents, log-uniform.
            let dollars = (self.rng.gen_range((500f64).ln()..(400_000f64).ln())).exp();
            Some(format!("{}.{:02}", dollars as u64, self.rng.gen_range(0..100)))
        } else {
            // KRW 1,000,000 .. 500,000,000 in 10,000 won steps, log-uniform; no decimals.
            let won = (self.rng.gen_range((1_000_000f64).ln()..(500_000_000f64).ln())).exp();
            Some((((won / 10_000.0) as u64).max(100) * 10_000).to_string())
        };
        let created = match close {
            Some(d) => {
                let start = d - chrono::Duration::days(self.rng.gen_range(20..300));
                let at = start.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
                    + chrono::Duration::seconds(self.rng.gen_range(9 * 3600..19 * 3600));
                at.min(self.now - chrono::Duration::days(1))
            }
            None => self.now - chrono::Duration::seconds(self.rng.gen_range(86_400..400 * 86_400)),
        };
        let updated = self.between(created, self.now);
        let stage_changed = self.between(created, updated);
        let last_activity = self.rng.gen_bool(0.7).then(|| self.between(created, self.now));
        let deleted = self.rng.gen_bool(DELETED_SHARE);
        let creator = if self.rng.gen_bool(0.9) { owner } else { owners[self.owner.sample(&mut self.rng)] };
        let owner = owner.to_string();
        let lost_reason =
            (stage == "lost").then(|| LOST_REASONS[self.rng.gen_range(0..LOST_REASONS.len())].to_string());
        let source = self.rng.gen_bool(0.8).then(|| SOURCES[self.rng.gen_range(0..SOURCES.len())].to_string());
        [
            Some(self.uuid().to_string()),
            Some(self.name(&account.brand, close)),
            Some(account.id.to_string()),
            Some(stage.to_string()),
            amount,
            Some(if usd { "USD" } else { "KRW" }.to_string()),
            Some(probability.to_string()),
            close.map(|d| d.to_string()),
            Some(owner.clone()),
            source,
            lost_reason,
            last_activity.map(|t| t.to_rfc3339()),
            Some(stage_changed.to_rfc3339()),
            Some(self.rng.gen_range(1..8).to_string()),
            Some(creator.to_string()),
            Some(created.to_rfc3339()),
            Some(owner.clone()),
            Some(updated.to_rfc3339()),
            deleted.then(|| updated.to_rfc3339()),
            deleted.then_some(owner),
        ]
    }
}

const INDUSTRIES: [&str; 10] =
    ["it", "manufacturing", "finance", "retail", "public", "healthcare", "education", "media", "logistics", "other"];
const SIZES: [&str; 4] = ["small", "medium", "large", "enterprise"];
const LEADS: &[&str] = &[
    "한빛",
    "새롬",
    "누리",
    "푸른",
    "하늘",
    "바다",
    "미래",
    "대한",
    "동양",
    "서울",
    "부산",
    "한국",
    "세종",
    "태평양",
    "삼양",
    "대성",
    "한솔",
    "에이스",
    "제일",
    "신성",
    "가온",
    "다온",
    "한결",
    "햇살",
    "은하",
    "나래",
    "라온",
    "미리내",
    "아라",
    "마루",
    "으뜸",
    "중앙",
    "경기",
    "인천",
    "대구",
    "광주",
    "대전",
    "울산",
    "제주",
    "글로벌",
    "코리아",
    "스카이",
    "블루",
    "그린",
    "스타",
    "넥스트",
    "스마트",
    "유니",
    "코어",
    "메가",
    "프라임",
    "알파",
    "구름",
    "이음",
];
const SYLLABLES: &[&str] = &[
    "가", "나", "대", "동", "서", "신", "성", "진", "영", "우", "현", "정", "승", "태", "일", "명", "광", "세", "화",
    "인", "유", "수", "경", "선", "민", "준", "호", "재", "상", "원", "한", "국", "보", "창", "덕",
];
const CORES: &[&str] = &[
    "산업",
    "전자",
    "건설",
    "상사",
    "물산",
    "유통",
    "식품",
    "기계",
    "정밀",
    "화학",
    "제약",
    "바이오",
    "시스템",
    "소프트",
    "정보통신",
    "테크",
    "네트웍스",
    "솔루션",
    "데이터",
    "디지털",
    "인포텍",
    "엔지니어링",
    "물류",
    "에너지",
    "금속",
    "모터스",
    "반도체",
    "통신",
    "헬스케어",
    "홀딩스",
    "캐피탈",
    "증권",
    "보험",
    "병원",
    "교육",
    "미디어",
];
const CITIES: &[(&str, &str)] = &[
    ("서울특별시", "강남구"),
    ("서울특별시", "영등포구"),
    ("서울특별시", "중구"),
    ("서울특별시", "구로구"),
    ("경기도", "성남시 분당구"),
    ("경기도", "수원시 영통구"),
    ("부산광역시", "해운대구"),
    ("인천광역시", "연수구"),
    ("대구광역시", "달서구"),
    ("대전광역시", "유성구"),
    ("광주광역시", "광산구"),
    ("울산광역시", "남구"),
];

/// "(주)한빛시스템", "성진정밀(주)", "주식회사 태영건설", "가온데이터솔루션"...
fn company_name(rng: &mut StdRng) -> String {
    let mut base = String::new();
    if rng.gen_bool(0.5) {
        base.push_str(LEADS[rng.gen_range(0..LEADS.len())]);
    } else {
        base.push_str(SYLLABLES[rng.gen_range(0..SYLLABLES.len())]);
        base.push_str(SYLLABLES[rng.gen_range(0..SYLLABLES.len())]);
    }
    base.push_str(CORES[rng.gen_range(0..CORES.len())]);
    if rng.gen_bool(0.2) {
        base.push_str(CORES[rng.gen_range(0..CORES.len())]);
    }
    let form: f64 = rng.gen();
    if form < 0.40 {
        format!("(주){base}")
    } else if form < 0.50 {
        format!("주식회사 {base}")
    } else if form < 0.60 {
        format!("{base}(주)")
    } else {
        base
    }
}
