//! Sign-in screens are served by the server crate's auth routes (they must
//! work before any session exists); nothing here yet beyond shared helpers.
