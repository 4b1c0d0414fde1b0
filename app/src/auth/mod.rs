//! Who is signed in and what their Keycloak realm roles allow.

pub mod api;
#[cfg(feature = "ssr")]
pub mod server;

pub use kit::auth::{CurrentUser, Role, UserRef};
