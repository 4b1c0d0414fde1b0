//! The server's integration tests, as one test binary: every module drives the
//! full router on its own freshly migrated database (see `helpers`). One
//! binary because each test binary links the whole server again.
//!
//! Needs `TEST_DATABASE_URL` (see `helpers`). One module or one test:
//! `cargo test -p server --test api accounts::`,
//! `cargo test -p server --test api accounts::stale_version`.

// Test tables spell out their row types where they are used; naming each
// tuple once would only move it away from the table it describes.
#![allow(clippy::type_complexity)]

mod helpers;

mod accounts;
mod assets;
mod authorization;
mod callback;
mod contacts;
mod contracts;
mod dashboard;
mod deals;
mod exports;
mod imports;
mod robustness;
mod search;
mod sessions;
mod sign_in_limits;
