//! Contracts benchmark at 1,000,000 contracts over 2,000 accounts and 8 owners.
//!
//!   BENCH_DATABASE_URL=postgres://salesops@127.0.0.1:55433/salesops_bench_contracts \
//!     cargo bench -p server --bench contracts
//!
//! Creates the database when it is missing (BENCH_RESET=1 drops it first) and
//! runs the migrations. When it holds fewer than 1,000,000 contracts it loads
//! them in one `insert … select` from `generate_series` (deterministic: every
//! value is a hash of the row number): 8 owners (7 reps and a manager), 2,000
//! accounts, contracts with terms of 12, 24 or 36 months starting over the
//! last five years (so about a fifth are live and some end in any window),
//! 80% signed, 12% draft, 8% terminated, notice periods of 0 to 90 days, ~85%
//! KRW, monthly, annual and one-time billing, 1% soft-deleted; then VACUUM
//! ANALYZE. Later runs reuse the data.
//!
//! It then times `app::contracts::server::list` exactly as the pages call it
//! (the contract list, first and deep page; the renewal queue for 30 and 90
//! days, for everyone and for one owner) and prints p50/p95/max per case.
//! It prints figures; it asserts nothing. `cargo test --benches` does nothing.

use std::process::ExitCode;
use std::time::Instant;

use app::auth::{CurrentUser, Role};
use app::contracts::ContractQuery;
use sqlx::PgPool;
use uuid::Uuid;

mod support;
use support::{pad, BoxError};

const TARGET_CONTRACTS: i64 = 1_000_000;
const DEEP_OFFSET: i64 = 900_000;
const WARMUP: usize = 10;
const ITERATIONS: usize = 200;
const TARGET_P95_MS: f64 = 20.0;

fn main() -> ExitCode {
    // `cargo bench` passes --bench; `cargo test --benches` does not: then this is no test.
    if !std::env::args().any(|a| a == "--bench") {
        println!("contracts benchmark: run it with `cargo bench -p server --bench contracts`");
        return ExitCode::SUCCESS;
    }
    let Some(url) = std::env::var("BENCH_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!(
            "BENCH_DATABASE_URL is not set. Run:\n\n  \
             scripts/postgres.sh start test   # if not running already\n  \
             BENCH_DATABASE_URL=postgres://salesops@127.0.0.1:55433/salesops_bench_contracts \\\n    \
             cargo bench -p server --bench contracts\n"
        );
        return ExitCode::from(1);
    };
    support::run_to_exit(run(&url))
}

async fn run(url: &str) -> Result<(), BoxError> {
    let pool = support::connect_and_migrate(url, "a minute").await?;
    let (manager, rep) = load_if_needed(&pool).await?;
    let (count, live, size): (i64, i64, String) = sqlx::query_as(
        "select count(*), count(*) filter (where deleted_at is null), pg_size_pretty(pg_total_relation_size('contracts'))
         from contracts",
    )
    .fetch_one(&pool)
    .await?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    println!("\n{count} contracts ({live} live, {size}); {cores} cores; load average {}", load.trim());
    let (deep_title, deep_id): (String, Uuid) =
        sqlx::query_as("select title, id from contracts where deleted_at is null order by title, id offset $1 limit 1")
            .bind(DEEP_OFFSET)
            .fetch_one(&pool)
            .await?;
    let query = |f: &dyn Fn(&mut ContractQuery)| {
        let mut q = ContractQuery::default();
        f(&mut q);
        q
    };
    let owner = rep.id.to_string();
    let cases: Vec<(String, CurrentUser, ContractQuery)> = vec![
        ("list first page (manager)".into(), manager.clone(), query(&|_| {})),
        (
            format!("list deep page (after row {DEEP_OFFSET}) (manager)"),
            manager.clone(),
            query(&|q| q.after = format!("{deep_title}|{deep_id}")),
        ),
        ("list first page (rep, own contracts)".into(), rep.clone(), query(&|_| {})),
        ("list by end date, first page (manager)".into(), manager.clone(), query(&|q| q.sort = "end".into())),
        ("list by end date, a rep's own (rep)".into(), rep.clone(), query(&|q| q.sort = "end".into())),
        (
            "list status=active, currency=USD (manager)".into(),
            manager.clone(),
            query(&|q| {
                q.status = "active".into();
                q.currency = "USD".into();
            }),
        ),
        ("renewals 30 days, everyone (manager)".into(), manager.clone(), query(&|q| q.within = "30".into())),
        ("renewals 90 days, everyone (manager)".into(), manager.clone(), query(&|q| q.within = "90".into())),
        (
            "renewals 30 days, one owner (manager filter)".into(),
            manager.clone(),
            query(&|q| {
                q.within = "30".into();
                q.owner = owner.clone();
            }),
        ),
        ("renewals 90 days, a rep's own (rep)".into(), rep.clone(), query(&|q| q.within = "90".into())),
    ];
    println!("\n{ITERATIONS} timed calls per case after {WARMUP} warm-up calls; wall-clock ms of one");
    println!("app::contracts::server::list call (query + decoding + derived figures), one connection.\n");
    println!("{:<48} {:>5} {:>8} {:>8} {:>8}  target", "case", "rows", "p50 ms", "p95 ms", "max ms");
    for (label, user, q) in &cases {
        for _ in 0..WARMUP {
            app::contracts::server::list(&pool, user, q).await.map_err(|e| format!("{label}: {e:?}"))?;
        }
        let mut times = Vec::with_capacity(ITERATIONS);
        let mut rows = 0;
        for _ in 0..ITERATIONS {
            let start = Instant::now();
            let page = app::contracts::server::list(&pool, user, q).await.map_err(|e| format!("{label}: {e:?}"))?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            rows = page.rows.len();
        }
        times.sort_by(f64::total_cmp);
        let pct = |p: f64| times[((p / 100.0 * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1];
        let p95 = pct(95.0);
        let verdict = if p95 <= TARGET_P95_MS { "ok" } else { "MISSED" };
        println!(
            "{} {:>5} {:>8.2} {:>8.2} {:>8.2}  {verdict} (p95 <= {TARGET_P95_MS} ms)",
            pad(label, 48),
            rows,
            pct(50.0),
            p95,
            times[times.len() - 1]
        );
    }
    export_everything(&pool, &manager).await
}

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// The whole contract list exported as the export route writes it (the same
/// batches and writers; the bytes go to a temporary file instead of a
/// socket), once per format, with the process's peak RSS growth (VmHWM reset
/// through /proc/self/clear_refs before each).
async fn export_everything(pool: &PgPool, manager: &CurrentUser) -> Result<(), BoxError> {
    use app::record::export::ExportFormat;
    use server::exports::{write_all, Batches, List};
    println!("\nExport of the whole contract list (manager), as /export/contracts writes it:\n");
    println!("{:<8} {:>9} {:>9} {:>10} {:>16}", "format", "rows", "seconds", "file MB", "peak RSS growth");
    for format in [ExportFormat::Csv, ExportFormat::Xlsx] {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let rss_before = rss_kb("VmRSS:");
        let start = Instant::now();
        let list = List::from_path("contracts").ok_or("no contracts list")?;
        let lang = app::i18n::Lang::Ko;
        let mut batches = Batches::new(list, &Default::default(), pool.clone(), manager.clone(), lang);
        let first = batches.next().await.map_err(|e| format!("{e:?}"))?;
        let file = std::env::temp_dir().join(format!("salesops-export-bench.{}", format.extension()));
        let out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        let runtime = tokio::runtime::Handle::current();
        let rows = tokio::task::spawn_blocking(move || write_all(&runtime, format, list, lang, first, batches, out))
            .await?
            .map_err(|e| format!("{e:?}"))?;
        let seconds = start.elapsed().as_secs_f64();
        let growth = rss_kb("VmHWM:").saturating_sub(rss_before);
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        let _ = std::fs::remove_file(&file);
        println!(
            "{:<8} {rows:>9} {seconds:>9.1} {:>10.1} {:>13.1} MB",
            format.extension(),
            size as f64 / 1e6,
            growth as f64 / 1024.0
        );
    }
    Ok(())
}

/// Loads the data once; returns the manager and the third rep as the pages see them.
async fn load_if_needed(pool: &PgPool) -> Result<(CurrentUser, CurrentUser), BoxError> {
    sqlx::query(
        "insert into users (username, display_name, roles)
         select 'bench.owner' || n, '담당자' || n, case when n = 8 then array['sales-manager'] else array['sales-rep'] end
         from generate_series(1, 8) n
         on conflict (username) do nothing",
    )
    .execute(pool)
    .await?;
    let owners: Vec<(Uuid,)> =
        sqlx::query_as("select id from users where username like 'bench.owner%' order by username")
            .fetch_all(pool)
            .await?;
    let user = |i: usize, role: Role| CurrentUser {
        id: owners[i].0,
        username: format!("bench.owner{}", i + 1),
        display_name: format!("담당자{}", i + 1),
        roles: vec![role],
    };
    let (manager, rep) = (user(7, Role::Manager), user(2, Role::Rep));
    let (have,): (i64,) = sqlx::query_as("select count(*) from contracts").fetch_one(pool).await?;
    if have >= TARGET_CONTRACTS {
        return Ok((manager, rep));
    }
    println!("loading {TARGET_CONTRACTS} contracts (one statement; a minute or two) …");
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    sqlx::query("delete from contracts").execute(&mut *tx).await?;
    sqlx::query(
        "insert into accounts (name, owner_id, created_by, updated_by)
         select '벤치고객사 ' || lpad(n::text, 4, '0'), o.id, o.id, o.id
         from generate_series(1, 2000) n
         join (select id, row_number() over (order by username) - 1 as k from users
               where username like 'bench.owner%') o on o.k = n % 8
         where not exists (select 1 from accounts where name like '벤치고객사 %')",
    )
    .execute(&mut *tx)
    .await?;
    // h(n, salt): a deterministic pseudo-random integer per row.
    sqlx::query(
        "with owners as (select id, row_number() over (order by username) - 1 as k from users
                         where username like 'bench.owner%'),
              accounts_n as (select id, row_number() over (order by name) - 1 as k from accounts
                             where name like '벤치고객사 %'),
              g as (select n, hashint4(n)::bigint & 2147483647 as h1, hashint4(n + 7919)::bigint & 2147483647 as h2,
                           hashint4(n + 104729)::bigint & 2147483647 as h3
                    from generate_series(1, 1000000) n),
              v as (select n, h1, h2, h3,
                           (current_date - interval '5 years')::date + (h1 % 1826)::int as start_date,
                           (array[12, 24, 36])[(1 + h2 % 3)::int] as months
                    from g)
         insert into contracts (account_id, title, contract_number, state, start_date, end_date, amount, currency,
                                billing_period, auto_renew, notice_days, owner_id, terminated_on,
                                termination_reason, created_by, updated_by, deleted_at)
         select a.id,
                (array['MSP 운영', 'Azure 관리', '보안 관제', '백업 서비스', 'DR 구성', '라이선스'])[(1 + h3 % 6)::int]
                    || ' 계약 ' || n,
                case when h2 % 4 = 0 then null else 'BN-' || n end,
                case when h1 % 100 < 80 then 'signed' when h1 % 100 < 92 then 'draft' else 'terminated' end,
                start_date, (start_date + make_interval(months => months))::date - 1,
                case when h3 % 100 < 85 then (1 + h2 % 500) * 100000 else (1 + h2 % 900) * 10 end,
                case when h3 % 100 < 85 then 'KRW' else 'USD' end,
                (array['monthly', 'annual', 'one-time'])[(1 + h1 % 3)::int],
                h2 % 2 = 0, (array[0, 30, 60, 90])[(1 + h3 % 4)::int], o.id,
                case when h1 % 100 >= 92 then start_date end,
                case when h1 % 100 >= 92 then '고객 사정' end,
                o.id, o.id,
                case when h2 % 100 = 0 then now() end
         from v join owners o on o.k = v.h3 % 8 join accounts_n a on a.k = v.h2 % 2000",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // One statement each: VACUUM cannot run in the implicit transaction of a multi-statement string.
    sqlx::query("vacuum analyze contracts").execute(pool).await?;
    sqlx::query("vacuum analyze accounts").execute(pool).await?;
    println!("loaded in {:.0} s", started.elapsed().as_secs_f64());
    Ok((manager, rep))
}
