-- Roles and account status follow Keycloak within minutes: a session keeps
-- Keycloak's refresh token and, every SALESOPS_SESSION_REVALIDATE_SECS, asks
-- Keycloak again with it (server/src/oidc.rs, `revalidate`). A disabled user
-- or an ended Keycloak session gets `invalid_grant` and the session ends; new
-- roles replace the stored ones. Sessions from before this have no refresh
-- token and keep their roles until they expire, as before.
alter table sessions add column refresh_token text;
alter table sessions add column validated_at timestamptz not null default now();
