-- A sign-in finishes only in the browser that started it: /auth/login sets a
-- random HttpOnly cookie and keeps its SHA-256 here; /auth/callback compares.
-- Attempts in flight when this runs have no binding: they are dropped, and
-- those users are asked to sign in again (an attempt lives ten minutes anyway).
delete from login_attempts;
alter table login_attempts add column browser_binding bytea not null
    check (octet_length(browser_binding) = 32);

-- Anonymous requests create attempts: counting the live ones (the table's
-- bound) and purging the expired ones (a timer, once a minute) must not scan
-- the whole table.
create index login_attempts_created_at on login_attempts(created_at);
