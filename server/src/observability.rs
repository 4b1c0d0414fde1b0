//! Request ids and request spans. Every request gets an `x-request-id` (the
//! gateway's, when it sent a usable one; otherwise a new UUID). The id goes
//! back on the response and is a field of the request's span, so every log
//! line written while serving the request carries it, in text and JSON logs
//! alike. The span also gets the user id once the session is known.

use axum::extract::Request;
use axum::http::HeaderName;
use axum::middleware;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, MakeSpan, TraceLayer};
use tower_http::LatencyUnit;
use tracing::{Level, Span};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longer incoming ids are replaced: a log field is no place for a payload.
const MAX_REQUEST_ID_LEN: usize = 128;

/// The request's span: method, path and request id. Never the query string,
/// which may carry personal data (search terms) or sign-in codes.
/// `user_id` is filled in by the session middleware.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &axum::http::Request<B>) -> Span {
        let request_id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %req.method(),
            path = req.uri().path(),
            request_id,
            user_id = tracing::field::Empty,
        )
    }
}

/// An id from outside is kept only if it is short and plain (letters,
/// digits, `-`, `_`, `.`), so it cannot forge log fields; otherwise a new one
/// is made.
pub fn usable_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

async fn drop_unusable_request_id(mut req: Request) -> Request {
    let usable = req.headers().get(&REQUEST_ID).map(|v| v.to_str().is_ok_and(usable_request_id));
    if usable == Some(false) {
        req.headers_mut().remove(&REQUEST_ID);
    }
    req
}

/// Wraps every route: the id is set first, the span opened with it, and
/// the id copied onto the response last. The response's status and latency
/// are logged at info.
pub fn layer(router: Router) -> Router {
    // `Router::layer` wraps what is already there: the last call is the outermost.
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(RequestSpan)
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(middleware::map_request(drop_unusable_request_id))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// Log output captured in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
        }
    }

    /// Sends one request through a one-route router with the layers, and
    /// returns the response's request id and everything logged meanwhile.
    fn serve(uri: &str, incoming_id: Option<&str>) -> (String, String) {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(Level::INFO)
            .finish();
        let response_id = tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            runtime.block_on(async {
                let router = layer(Router::new().route(
                    "/accounts",
                    get(|| async {
                        tracing::info!("handler ran");
                        "ok"
                    }),
                ));
                let mut req = axum::http::Request::builder().uri(uri);
                if let Some(id) = incoming_id {
                    req = req.header(&REQUEST_ID, id);
                }
                let res = router.oneshot(req.body(Body::empty()).expect("request")).await.expect("response");
                res.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
            })
        });
        (response_id, logs.text())
    }

    #[test]
    fn every_line_of_a_request_carries_its_id_and_never_the_query() {
        let (id, logs) = serve("/accounts?q=%EA%B9%80%EB%AF%BC%EC%A4%80", None);
        assert_eq!(id.len(), 36, "a new UUID: {id}");
        let lines: Vec<&str> = logs.lines().collect();
        assert!(lines.iter().any(|l| l.contains("handler ran")), "{logs}");
        assert!(lines.iter().any(|l| l.contains("finished processing request") && l.contains("status=200")), "{logs}");
        for line in &lines {
            // Text fields are recorded quoted and escaped, so a path cannot forge another field.
            assert!(line.contains(&format!("request_id=\"{id}\"")), "line without the id: {line}");
            assert!(line.contains("path=\"/accounts\"") && !line.contains("q="), "{line}");
        }
    }

    #[test]
    fn a_plain_incoming_id_is_kept_and_a_forged_one_replaced() {
        let (id, logs) = serve("/accounts", Some("gw-42"));
        assert_eq!(id, "gw-42");
        assert!(logs.contains("request_id=\"gw-42\""), "{logs}");
        let (id, logs) = serve("/accounts", Some("x user_id=someone"));
        assert_eq!(id.len(), 36, "replaced by a UUID: {id}");
        assert!(!logs.contains("someone"), "{logs}");
    }

    #[test]
    fn only_plain_short_ids_are_kept() {
        assert!(usable_request_id("3f2b8c1e-6a7d-4e7b-9a51-0c2f1d9e8b7a"));
        assert!(usable_request_id("gw.01HZX_abc"));
        assert!(!usable_request_id(""));
        assert!(!usable_request_id("a b"));
        assert!(!usable_request_id("x\" user_id=\"someone"));
        assert!(!usable_request_id(&"a".repeat(MAX_REQUEST_ID_LEN + 1)));
    }
}
