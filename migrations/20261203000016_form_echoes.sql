-- A form refused without JavaScript comes back with what was typed and why.
-- That echo used to travel in the redirect's URL (`__err`), where a crafted
-- link could forge it and typed personal data landed in browser history and
-- proxy logs. It is kept here instead, behind a random one-time id, for the
-- session that submitted it, for a few minutes (see server/src/echo.rs).
create table form_echoes (
    id           text primary key,
    session_hash text not null,
    path         text not null,
    error        text not null,
    created_at   timestamptz not null default now()
);
create index form_echoes_created on form_echoes (created_at);
