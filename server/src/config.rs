//! Typed configuration from environment variables. Secrets may also come from
//! files (`NAME_FILE`), as container platforms and secret managers provide them.
//! Secrets are held as `Secret`, so `{:?}` of the configuration is safe to log.

use std::time::Duration;
use url::Url;

use crate::secret::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("cannot read {name}_FILE ({path}): {source}")]
    File { name: &'static str, path: String, source: std::io::Error },
}

#[derive(Clone, Debug)]
pub struct OidcConfig {
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Holds the database password.
    pub database_url: SecretString,
    pub database_max_connections: u32,
    /// Longest a statement of a request may run before Postgres cancels it.
    pub database_statement_timeout: Duration,
    /// The URL users reach the app at (origin checks, redirect URIs, Secure cookies).
    pub public_url: Url,
    pub oidc: OidcConfig,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    /// How often a session asks Keycloak again (roles, disabled users).
    pub session_revalidate: Duration,
    pub seed_demo: bool,
    pub log_json: bool,
    /// Sign-in starts allowed per client address per minute (`/auth/login`).
    pub login_rate_per_minute: u32,
    /// Most sign-ins in progress at once, over all clients: the bound on the
    /// `login_attempts` table that anonymous requests fill.
    pub login_attempts_max: u32,
    /// Whether a reverse proxy in front sets `X-Forwarded-For`: only then is
    /// its first hop taken as the client's address (anyone can send the header).
    pub trusted_proxy: bool,
}

/// A variable's value, or the contents of the file named by `NAME_FILE`.
fn value(name: &'static str, lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<String>, ConfigError> {
    if let Some(v) = lookup(name).filter(|v| !v.is_empty()) {
        return Ok(Some(v));
    }
    match lookup(&format!("{name}_FILE")).filter(|v| !v.is_empty()) {
        Some(path) => std::fs::read_to_string(&path)
            .map(|s| Some(s.trim_end_matches(['\n', '\r']).to_string()))
            .map_err(|source| ConfigError::File { name, path, source }),
        None => Ok(None),
    }
}

fn number<N: std::str::FromStr>(
    name: &'static str,
    default: N,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<N, ConfigError> {
    match lookup(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid { name, reason: format!("not a number: {v}") }),
    }
}

/// A limit: zero would lock everyone out, so it is refused at start-up.
fn positive(name: &'static str, default: u32, lookup: &impl Fn(&str) -> Option<String>) -> Result<u32, ConfigError> {
    match number(name, default, lookup)? {
        0 => Err(ConfigError::Invalid { name, reason: "must be at least 1".into() }),
        n => Ok(n),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let database_url = value("DATABASE_URL", &lookup)?.ok_or(ConfigError::Missing("DATABASE_URL"))?;
        let public_url_raw = value("SALESOPS_PUBLIC_URL", &lookup)?.unwrap_or_else(|| "http://127.0.0.1:3000".into());
        let public_url = Url::parse(&public_url_raw)
            .map_err(|e| ConfigError::Invalid { name: "SALESOPS_PUBLIC_URL", reason: e.to_string() })?;
        let oidc = OidcConfig {
            issuer_url: value("OIDC_ISSUER_URL", &lookup)?
                .unwrap_or_else(|| "http://127.0.0.1:8180/realms/salesops".into()),
            client_id: value("OIDC_CLIENT_ID", &lookup)?.unwrap_or_else(|| "salesops".into()),
            client_secret: value("OIDC_CLIENT_SECRET", &lookup)?
                .map(SecretString::from)
                .ok_or(ConfigError::Missing("OIDC_CLIENT_SECRET"))?,
        };
        let flag = |name: &str| lookup(name).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        Ok(Config {
            database_url: SecretString::from(database_url),
            database_max_connections: number("DATABASE_MAX_CONNECTIONS", 10, &lookup)?,
            database_statement_timeout: Duration::from_millis(u64::from(positive(
                "DATABASE_STATEMENT_TIMEOUT_MS",
                5_000,
                &lookup,
            )?)),
            public_url,
            oidc,
            session_idle: Duration::from_secs(60 * number::<u64>("SESSION_IDLE_MINUTES", 120, &lookup)?),
            session_absolute: Duration::from_secs(3600 * number::<u64>("SESSION_ABSOLUTE_HOURS", 12, &lookup)?),
            session_revalidate: Duration::from_secs(u64::from(positive(
                "SALESOPS_SESSION_REVALIDATE_SECS",
                300,
                &lookup,
            )?)),
            seed_demo: flag("SALESOPS_SEED_DEMO"),
            log_json: lookup("SALESOPS_LOG_FORMAT").is_some_and(|v| v == "json"),
            login_rate_per_minute: positive("SALESOPS_LOGIN_RATE_PER_MINUTE", 30, &lookup)?,
            login_attempts_max: positive("SALESOPS_LOGIN_ATTEMPTS_MAX", 10_000, &lookup)?,
            trusted_proxy: flag("SALESOPS_TRUSTED_PROXY"),
        })
    }

    /// `scheme://host:port` of the public URL, as browsers send it in Origin.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// Keycloak's origin (for the CSP: sign-out redirects there).
    pub fn issuer_origin(&self) -> String {
        Url::parse(&self.oidc.issuer_url).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
    }

    pub fn secure_cookies(&self) -> bool {
        self.https()
    }

    /// Users reach the app over https: cookies are `Secure` and browsers are
    /// told to keep to https (HSTS).
    pub fn https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// An absolute URL under the public URL (keeps any path prefix).
    pub fn public(&self, path: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(map: HashMap<&'static str, String>) -> impl Fn(&str) -> Option<String> {
        move |k| map.get(k).cloned()
    }

    #[test]
    fn secrets_can_come_from_files() {
        let dir = std::env::temp_dir().join(format!("salesops-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("secret");
        std::fs::write(&path, "s3cret\n").expect("write secret");
        let cfg = Config::from_lookup(lookup(HashMap::from([
            ("DATABASE_URL", "postgres://x@localhost/db".to_string()),
            ("OIDC_CLIENT_SECRET_FILE", path.display().to_string()),
        ])))
        .expect("config");
        assert_eq!(cfg.oidc.client_secret.expose(), "s3cret");
        assert!(!cfg.secure_cookies());
        assert_eq!(cfg.public_origin(), "http://127.0.0.1:3000");
    }

    #[test]
    fn missing_and_invalid_values_are_named() {
        let err = Config::from_lookup(lookup(HashMap::new())).expect_err("no database url");
        assert_eq!(err.to_string(), "DATABASE_URL is not set");
        let err = Config::from_lookup(lookup(HashMap::from([
            ("DATABASE_URL", "postgres://x@localhost/db".to_string()),
            ("OIDC_CLIENT_SECRET", "x".to_string()),
            ("SESSION_IDLE_MINUTES", "soon".to_string()),
        ])))
        .expect_err("bad number");
        assert!(err.to_string().contains("SESSION_IDLE_MINUTES"));
    }

    #[test]
    fn https_public_url_means_secure_cookies() {
        let cfg = Config::from_lookup(lookup(HashMap::from([
            ("DATABASE_URL", "postgres://x@localhost/db".to_string()),
            ("OIDC_CLIENT_SECRET", "x".to_string()),
            ("SALESOPS_PUBLIC_URL", "https://crm.example.co.kr/salesops/".to_string()),
        ])))
        .expect("config");
        assert!(cfg.secure_cookies());
        assert_eq!(cfg.public("/auth/callback"), "https://crm.example.co.kr/salesops/auth/callback");
    }

    #[test]
    fn debug_output_hides_the_database_password_and_the_client_secret() {
        let cfg = Config::from_lookup(lookup(HashMap::from([
            ("DATABASE_URL", "postgres://salesops:db-pa55word@localhost/db".to_string()),
            ("OIDC_CLIENT_SECRET", "client-s3cret".to_string()),
        ])))
        .expect("config");
        for shown in [format!("{cfg:?}"), format!("{cfg:#?}"), format!("{:?}", cfg.oidc)] {
            assert!(!shown.contains("db-pa55word"), "database password in {shown}");
            assert!(!shown.contains("client-s3cret"), "client secret in {shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
        }
        // Still there for the two places that need them.
        assert_eq!(cfg.database_url.expose(), "postgres://salesops:db-pa55word@localhost/db");
        assert_eq!(cfg.oidc.client_secret.expose(), "client-s3cret");
    }
}
