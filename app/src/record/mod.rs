//! The record layer, below every domain: the shared vocabulary (from `kit`),
//! the kit's SQL (lock, conflict, soft delete, restore, audit, owner rule) and
//! the one pair of delete/restore server functions and island every record
//! kind uses.

pub mod api;
#[cfg(feature = "ssr")]
pub mod export;
#[cfg(feature = "ssr")]
pub mod server;
pub mod views;

pub use kit::record::*;
