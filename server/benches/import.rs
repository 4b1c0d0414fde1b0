//! Spreadsheet import benchmark: workbooks of deal rows (9 columns: account
//! name, business number, deal name, stage in Korean, amount as ₩ text,
//! currency, probability, close date as a date cell, owner), imported end to
//! end as the app does it, beside the floor for the same file.
//!
//!   BENCH_DATABASE_URL=postgres://salesops@127.0.0.1:55433/salesops_bench_import \
//!     BENCH_IMPORT_ROWS=100000,1000000 cargo bench -p server --bench import
//!
//! Each size gets a freshly reset database (the import creates its accounts
//! and deals). Figures, per size:
//! - floor: our reader alone on the file (calamine, streamed cells) and a
//!   `COPY` of the same rows as text into a plain table;
//! - the phases as the job runs them: parse (reader), check (every cell
//!   through the forms' parsers), and write (COPY into staging plus the
//!   set-based merge, audit and stage history), timed separately;
//! - end to end: the upload's check, storing the file, queueing and the job
//!   (`run_next`) to committed;
//! - peak RSS growth of the process during the end-to-end run (VmHWM, reset
//!   through /proc/self/clear_refs before it).
//!
//! It prints figures; it asserts nothing. `cargo test --benches` does nothing.

use std::process::ExitCode;
use std::time::Instant;

use app::auth::{CurrentUser, Role};
use app::import::read::{read_upload, Limits};
use app::import::{ImportChoices, ReadChoice};
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

mod support;
use support::{number_prefix, push_row, run_to_exit, BoxError};

// Lost deals need a reason, which the nine columns do not carry.
const STAGES_KO: [&str; 5] = ["리드", "자격확인", "제안", "협상", "수주"];
const OWNERS: [&str; 8] = ["김민준", "이서연", "박지훈", "최유진", "정하늘", "강도윤", "윤서아", "한지우"];

fn main() -> ExitCode {
    if !std::env::args().any(|a| a == "--bench") {
        println!("import benchmark: run it with `cargo bench -p server --bench import`");
        return ExitCode::SUCCESS;
    }
    let Some(url) = std::env::var("BENCH_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("set BENCH_DATABASE_URL (a database name the benchmark may drop and create)");
        return ExitCode::FAILURE;
    };
    let sizes: Vec<usize> = std::env::var("BENCH_IMPORT_ROWS")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    run_to_exit(async move {
        for rows in sizes {
            run(&url, rows).await?;
        }
        Ok(())
    })
}

fn business_number(i: u32) -> String {
    let nine = number_prefix(i).to_string();
    let digits: Vec<u32> = nine.chars().filter_map(|c| c.to_digit(10)).collect();
    let weights = [1, 3, 7, 1, 3, 7, 1, 3, 5];
    let mut sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    sum += digits[8] * 5 / 10;
    let check = (10 - sum % 10) % 10;
    format!("{}-{}-{}{}", &nine[0..3], &nine[3..5], &nine[5..9], check)
}

/// One row's nine values as text (the date as a date, separately).
fn row_values(i: usize) -> ([String; 9], (u16, u8, u8)) {
    let account = (i / 20) as u32;
    let stage = STAGES_KO[[0, 0, 1, 1, 2, 2, 3, 4, 4, 0][i % 10]];
    let amount = 1_000_000 + (i as u64 * 7_919 % 500) * 100_000;
    let grouped = amount
        .to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(",");
    let day = (2024, (i % 12) as u8 + 1, (i % 28) as u8 + 1);
    let values = [
        format!("고객사 {account:06}"),
        business_number(account),
        format!("영업기회 {i:07}"),
        stage.to_string(),
        format!("₩{grouped}"),
        "KRW".to_string(),
        format!("{}%", (i % 9 + 1) * 10),
        format!("{}-{:02}-{:02}", day.0, day.1, day.2),
        OWNERS[i % OWNERS.len()].to_string(),
    ];
    (values, day)
}

fn workbook(rows: usize) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let headers =
        ["고객사명", "사업자등록번호", "영업기회명", "단계", "금액", "통화", "확률", "예상 마감일", "담당 영업"];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for i in 0..rows {
        let r = i as u32 + 1;
        let (v, (y, m, d)) = row_values(i);
        for (c, value) in v.iter().enumerate() {
            if c == 7 {
                sheet.write_datetime_with_format(r, 7, ExcelDateTime::from_ymd(y, m, d)?, &date)?;
            } else {
                sheet.write_string(r, c as u16, value)?;
            }
        }
    }
    workbook.save_to_buffer()
}

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

async fn run(url: &str, rows: usize) -> Result<(), BoxError> {
    println!("\n== {rows} deal rows");
    std::env::set_var("BENCH_RESET", "1");
    let setup = support::connect_and_migrate(url, "seconds").await?;
    setup.close().await;
    let pool = PgPoolOptions::new().max_connections(4).connect(url).await?;
    let mut user_ids = Vec::new();
    for (n, name) in OWNERS.iter().chain(["관리자"].iter()).enumerate() {
        let role = if n == OWNERS.len() { Role::Admin } else { Role::Rep };
        let (id,): (Uuid,) =
            sqlx::query_as("insert into users (username, display_name, roles) values ($1, $2, $3) returning id")
                .bind(format!("user{n}"))
                .bind(*name)
                .bind(vec![role.realm_name().to_string()])
                .fetch_one(&pool)
                .await?;
        user_ids.push(id);
    }
    let admin = CurrentUser {
        id: *user_ids.last().ok_or("no admin")?,
        username: "user8".into(),
        display_name: "관리자".into(),
        roles: vec![Role::Admin],
    };

    let started = Instant::now();
    let bytes = workbook(rows)?;
    println!(
        "workbook: {:.1} MB, written in {:.1} s (not counted)",
        bytes.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    // Floor: the reader alone, and a COPY of the same rows as text.
    let t = Instant::now();
    let read = read_upload(&bytes, &ReadChoice::default(), &Limits::default()).map_err(|r| format!("{r:?}"))?;
    let parse = t.elapsed();
    let mut text = String::with_capacity(rows * 120);
    for i in 0..rows {
        let (v, _) = row_values(i);
        push_row(&mut text, &v.iter().cloned().map(Some).collect::<Vec<_>>());
    }
    sqlx::raw_sql("create table floor_copy (a text, b text, c text, d text, e text, f text, g text, h text, i text)")
        .execute(&pool)
        .await?;
    let mut conn = pool.acquire().await?;
    let t = Instant::now();
    let mut copy = conn.copy_in_raw("copy floor_copy from stdin").await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await?;
    let copy_time = t.elapsed();
    drop(conn);
    let floor = parse + copy_time;
    println!(
        "floor: parse {:.2} s + COPY {:.2} s = {:.2} s",
        parse.as_secs_f64(),
        copy_time.as_secs_f64(),
        floor.as_secs_f64()
    );

    // The phases, timed one by one as the job runs them.
    let directory = app::import::server::directory(&pool).await?;
    let t = Instant::now();
    let checked = app::import::check::check(&read, &read.mapping, &directory);
    let check_time = t.elapsed();
    println!(
        "check: {:.2} s ({} rows, {} problems)",
        check_time.as_secs_f64(),
        checked.rows.len(),
        checked.problems.len()
    );
    drop(checked);
    drop(read);

    // End to end, with peak RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = rss_kb("VmRSS:");
    let t = Instant::now();
    let upload_check = read_upload(&bytes, &ReadChoice::default(), &Limits::default()).map(|_| ());
    upload_check.map_err(|r| format!("{r:?}"))?;
    let id = app::import::server::store_upload(&pool, &admin, "bench.xlsx", &bytes).await?;
    app::import::server::queue(&pool, &admin, id, &ImportChoices::default()).await?;
    let job = app::import::server::run_next(&pool, "bench").await?;
    let total = t.elapsed();
    let peak = rss_kb("VmHWM:");
    let summary = app::import::server::summary(&pool, id).await?;
    if job != Some(id) || summary.status != app::import::ImportStatus::Committed {
        return Err(format!("import did not commit: {:?} {:?}", summary.status, summary.error).into());
    }
    let job_time = summary
        .finished_at
        .zip(summary.started_at)
        .map(|(f, s)| (f - s).num_milliseconds() as f64 / 1000.0)
        .unwrap_or(0.0);
    println!(
        "end to end: {:.2} s (job {:.2} s: parse + check + write), {:.1}x the floor",
        total.as_secs_f64(),
        job_time,
        total.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "write (COPY to staging, merge, audit, stage history) ≈ job − parse − check = {:.2} s",
        job_time - parse.as_secs_f64() - check_time.as_secs_f64()
    );
    println!("written: {} accounts, {} deals created", summary.counts.account.created, summary.counts.deal.created);
    println!(
        "RSS: {:.0} MB before, peak {:.0} MB, growth {:.0} MB",
        rss_before as f64 / 1024.0,
        peak as f64 / 1024.0,
        (peak.saturating_sub(rss_before)) as f64 / 1024.0
    );
    pool.close().await;
    Ok(())
}
