use leptos::config::get_configuration;
use server::{Config, StartupError};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        // Start-up failures are operator errors: say what is wrong and stop.
        eprintln!("salesops: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), StartupError> {
    let config = Config::from_env()?;
    // Both formats print the fields of the enclosing spans, so every line
    // logged while serving a request carries its request id (observability.rs).
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if config.log_json {
        tracing_subscriber::fmt().with_env_filter(filter).json().init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let leptos_options = get_configuration(None).map_err(|e| StartupError::Leptos(e.to_string()))?.leptos_options;
    let addr = leptos_options.site_addr;
    let pool = server::connect(&config).await?;
    if config.seed_demo {
        server::demo::seed(&pool).await?;
    }
    let state = server::state(pool, config, leptos_options)?;
    let _housekeeping = server::spawn_housekeeping(&state);
    let _imports = server::imports::spawn_worker(&state);
    let app = server::router(state);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "listening");
    // The peer's address, for the per-client sign-in rate limit.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
