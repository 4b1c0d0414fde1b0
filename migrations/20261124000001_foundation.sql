-- Foundation: users (mirrored from Keycloak), sessions, accounts, contacts, audit trail.
create extension if not exists pg_trgm;

create table users (
    id           uuid primary key default gen_random_uuid(),
    -- Keycloak's subject; null for demo users until their first sign-in claims them.
    subject      text unique,
    username     text not null unique,
    display_name text not null,
    email        text,
    roles        text[] not null default '{}',
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);

-- Server-side sign-in state: single use, expires (see server/src/auth.rs).
create table login_attempts (
    state          text primary key,
    nonce          text not null,
    pkce_verifier  text not null,
    return_to      text not null,
    created_at     timestamptz not null default now()
);

create table sessions (
    -- SHA-256 of the cookie value: a database leak does not leak live cookies.
    token_hash     text primary key,
    user_id        uuid not null references users(id) on delete cascade,
    id_token       text not null,
    keycloak_sid   text,
    created_at     timestamptz not null default now(),
    last_seen_at   timestamptz not null default now(),
    expires_at     timestamptz not null
);
create index sessions_user on sessions(user_id);
create index sessions_keycloak_sid on sessions(keycloak_sid);

create table accounts (
    id               uuid primary key default gen_random_uuid(),
    name             text not null check (char_length(name) between 1 and 200),
    business_number  text check (business_number ~ '^[0-9]{10}$'),
    industry         text,
    company_size     text,
    address          text,
    main_phone       text,
    website          text,
    notes            text,
    owner_id         uuid not null references users(id),
    version          integer not null default 1,
    created_by       uuid not null references users(id),
    created_at       timestamptz not null default now(),
    updated_by       uuid not null references users(id),
    updated_at       timestamptz not null default now(),
    deleted_at       timestamptz,
    deleted_by       uuid references users(id)
);
-- Unique when present, including deleted accounts, so a restore can never collide.
create unique index accounts_business_number on accounts(business_number) where business_number is not null;
create index accounts_name_id on accounts(name, id) where deleted_at is null;
create index accounts_updated_id on accounts(updated_at, id) where deleted_at is null;
create index accounts_created_id on accounts(created_at, id) where deleted_at is null;
create index accounts_owner_name_id on accounts(owner_id, name, id) where deleted_at is null;
create index accounts_industry_name_id on accounts(industry, name, id) where deleted_at is null;
create index accounts_name_trgm on accounts using gin (name gin_trgm_ops);

create table contacts (
    id           uuid primary key default gen_random_uuid(),
    account_id   uuid not null references accounts(id),
    name         text not null check (char_length(name) between 1 and 100),
    title        text,
    department   text,
    email        text,
    phone        text,
    version      integer not null default 1,
    created_by   uuid not null references users(id),
    created_at   timestamptz not null default now(),
    updated_by   uuid not null references users(id),
    updated_at   timestamptz not null default now(),
    deleted_at   timestamptz,
    deleted_by   uuid references users(id)
);
create index contacts_account on contacts(account_id) where deleted_at is null;
create index contacts_name_id on contacts(name, id) where deleted_at is null;
create index contacts_name_trgm on contacts using gin (name gin_trgm_ops);
create index contacts_email_trgm on contacts using gin (email gin_trgm_ops);

create table audit_log (
    id          bigserial primary key,
    entity      text not null,
    entity_id   uuid not null,
    action      text not null check (action in ('create', 'update', 'delete', 'restore', 'import')),
    actor_id    uuid not null references users(id),
    at          timestamptz not null default now(),
    before      jsonb,
    after       jsonb
);
create index audit_log_entity on audit_log(entity, entity_id, id);
