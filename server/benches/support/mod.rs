//! Helpers both benchmarks share: database creation, COPY rows, notice
//! capture (for auto_explain plans), table padding.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use std::future::Future;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Notices = Arc<Mutex<Vec<String>>>;

/// Left-aligns `text` in `width` terminal columns (Hangul takes two).
pub fn pad(text: &str, width: usize) -> String {
    let wide = |c: char| matches!(c as u32, 0x1100..=0x115F | 0x3130..=0x318F | 0xAC00..=0xD7A3);
    let used: usize = text.chars().map(|c| if wide(c) { 2 } else { 1 }).sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

/// Collects the server notices sqlx reports (auto_explain sends plans as notices).
pub fn install_notice_capture() -> Notices {
    use tracing::field::{Field, Visit};
    use tracing::subscriber::Interest;
    use tracing::{Event, Metadata, Subscriber};
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    const TARGET: &str = "sqlx::postgres::notice";
    struct Capture(Notices);
    impl<S: Subscriber> Layer<S> for Capture {
        fn register_callsite(&self, m: &'static Metadata<'static>) -> Interest {
            if m.target() == TARGET {
                Interest::always()
            } else {
                Interest::never()
            }
        }
        fn enabled(&self, m: &Metadata<'_>, _: Context<'_, S>) -> bool {
            m.target() == TARGET
        }
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            struct Message(Option<String>);
            impl Visit for Message {
                fn record_str(&mut self, f: &Field, v: &str) {
                    if f.name() == "message" {
                        self.0 = Some(v.to_string());
                    }
                }
                fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
                    if f.name() == "message" && self.0.is_none() {
                        self.0 = Some(format!("{v:?}"));
                    }
                }
            }
            let mut m = Message(None);
            event.record(&mut m);
            if let Some(text) = m.0 {
                self.0.lock().expect("notice lock").push(text);
            }
        }
    }
    let notices = Notices::default();
    let subscriber = tracing_subscriber::registry().with(Capture(notices.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("tracing subscriber");
    notices
}

pub async fn ensure_database(options: &PgConnectOptions) -> Result<(), BoxError> {
    let name = options.get_database().ok_or("BENCH_DATABASE_URL names no database")?.to_string();
    let mut conn = PgConnection::connect_with(&options.clone().database("postgres")).await?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    if std::env::var("BENCH_RESET").is_ok_and(|v| v == "1") {
        println!("BENCH_RESET=1: dropping database {name}");
        sqlx::raw_sql(&format!("drop database if exists {quoted} with (force)")).execute(&mut conn).await?;
    }
    let exists: Option<(i32,)> =
        sqlx::query_as("select 1 from pg_database where datname = $1").bind(&name).fetch_optional(&mut conn).await?;
    if exists.is_none() {
        println!("creating database {name}");
        sqlx::raw_sql(&format!("create database {quoted}")).execute(&mut conn).await?;
    }
    conn.close().await?;
    Ok(())
}

/// One line of COPY text format: tab-separated, `\N` for null, backslash escapes.
pub fn push_row(buf: &mut String, fields: &[Option<String>]) {
    for (n, field) in fields.iter().enumerate() {
        if n > 0 {
            buf.push('\t');
        }
        match field {
            None => buf.push_str("\\N"),
            Some(text) => {
                for c in text.chars() {
                    match c {
                        '\\' => buf.push_str("\\\\"),
                        '\t' => buf.push_str("\\t"),
                        '\n' => buf.push_str("\\n"),
                        '\r' => buf.push_str("\\r"),
                        c => buf.push(c),
                    }
                }
            }
        }
    }
    buf.push('\n');
}

/// Spreads account numbers over the real 101..999 tax-office prefixes; a bijection
/// on 0..900,000,000 (7919 is coprime to it), so every account gets its own number.
pub fn number_prefix(i: u32) -> u32 {
    100_000_000 + ((i as u64 * 7919) % 900_000_000) as u32
}

/// Runs a benchmark's body on a single-threaded runtime and turns its error into
/// the process's exit status.
pub fn run_to_exit<F: Future<Output = Result<(), BoxError>>>(body: F) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("benchmark failed: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(body) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Creates the benchmark database if missing, connects and migrates it.
/// `reload_time` goes into the hint shown when a migration changed since the load.
pub async fn connect_and_migrate(url: &str, reload_time: &str) -> Result<PgPool, BoxError> {
    let options = PgConnectOptions::from_str(url)?;
    ensure_database(&options).await?;
    // One connection: every call reuses the same prepared statements, as a busy
    // server connection would (Postgres may switch to a generic plan after 5 runs).
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(600))
        .connect_with(options)
        .await?;
    match server::MIGRATOR.run(&pool).await {
        Ok(()) => Ok(pool),
        Err(sqlx::migrate::MigrateError::VersionMismatch(v)) => Err(format!(
            "migration {v} changed since it was applied to this database; \
             rerun with BENCH_RESET=1 to drop and reload it ({reload_time})"
        )
        .into()),
        Err(e) => Err(e.into()),
    }
}
