//! The browser bundle as it travels: a release build made with `--precompress`
//! leaves `.br` and `.gz` files beside each asset, and the server sends those to
//! browsers that accept them (the sizes in docs/benchmarks.md are those files).

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use uuid::Uuid;

use crate::helpers::*;

/// A site root with one WASM file and its brotli and gzip forms. The bytes are
/// stand-ins: only which file is sent matters here.
fn site_with_precompressed_wasm() -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("salesops-site-{}", Uuid::new_v4().simple()));
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).expect("create site dir");
    std::fs::write(pkg.join("salesops.wasm"), "raw wasm bytes").expect("write wasm");
    std::fs::write(pkg.join("salesops.wasm.br"), "brotli bytes").expect("write .br");
    std::fs::write(pkg.join("salesops.wasm.gz"), "gzip bytes").expect("write .gz");
    root
}

fn get(path: &str, accept_encoding: Option<&str>) -> Request<Body> {
    let mut req = Request::get(path);
    if let Some(encodings) = accept_encoding {
        req = req.header(header::ACCEPT_ENCODING, encodings);
    }
    req.body(Body::empty()).expect("request")
}

#[tokio::test]
async fn the_wasm_is_sent_brotli_compressed_to_browsers_that_accept_it_even_before_sign_in() {
    let root = site_with_precompressed_wasm();
    let app = TestApp::spawn_with(Overrides::new().site_root(root.to_str().expect("utf-8 path"))).await;

    let res = app.send(get("/pkg/salesops.wasm", Some("gzip, deflate, br, zstd"))).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()), Some("br"));
    assert_eq!(res.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("application/wasm"));
    assert_eq!(res.body, "brotli bytes");

    let res = app.send(get("/pkg/salesops.wasm", Some("gzip"))).await;
    assert_eq!(res.headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()), Some("gzip"));
    assert_eq!(res.body, "gzip bytes");

    // A client that accepts no encoding gets the file itself.
    let res = app.send(get("/pkg/salesops.wasm", None)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(res.body, "raw wasm bytes");

    std::fs::remove_dir_all(&root).ok();
}
