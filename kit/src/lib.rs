//! The leaf crate of SalesOps: the types every layer above shares and that
//! depend on nothing of ours. The server (`ssr`) and the browser build both
//! use it; with `ssr`, database errors map into `AppError` here, once.

pub mod auth;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod record;
