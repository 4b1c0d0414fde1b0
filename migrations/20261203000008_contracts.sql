-- Contracts (계약): what a won deal becomes, and what the team renews.
-- `state` is what a person decided (draft, signed, terminated); whether a
-- signed contract is active or expired follows from its dates when it is
-- read, never from a scheduled job that might not run.

create table contracts (
    id                 uuid primary key default gen_random_uuid(),
    account_id         uuid not null references accounts(id),
    -- The deal it came from, if any (a won one: the server checks).
    deal_id            uuid references deals(id),
    title              text not null check (char_length(title) between 1 and 200),
    contract_number    text check (char_length(contract_number) between 1 and 50),
    state              text not null default 'draft' check (state in ('draft', 'signed', 'terminated')),
    start_date         date not null,
    end_date           date not null,
    -- Exact decimal per billing period; KRW has no minor unit, USD two.
    amount             numeric(20, 2) not null check (amount >= 0),
    currency           text not null check (currency in ('KRW', 'USD')),
    billing_period     text not null check (billing_period in ('one-time', 'monthly', 'annual')),
    auto_renew         boolean not null default false,
    notice_days        integer not null default 0 check (notice_days between 0 and 3650),
    owner_id           uuid not null references users(id),
    notes              text,
    terminated_on      date,
    termination_reason text,
    version            integer not null default 1,
    created_by         uuid not null references users(id),
    created_at         timestamptz not null default now(),
    updated_by         uuid not null references users(id),
    updated_at         timestamptz not null default now(),
    deleted_at         timestamptz,
    deleted_by         uuid references users(id),
    check (end_date >= start_date),
    check (currency <> 'KRW' or amount = trunc(amount)),
    check ((state = 'terminated') = (terminated_on is not null and termination_reason is not null))
);
-- Unique when present, deleted ones included: a restored contract keeps its number.
create unique index contracts_number on contracts (lower(contract_number)) where contract_number is not null;
create index contracts_title_id on contracts (title, id) where deleted_at is null;
create index contracts_owner_title_id on contracts (owner_id, title, id) where deleted_at is null;
create index contracts_account on contracts (account_id) where deleted_at is null;
create index contracts_deal on contracts (deal_id) where deleted_at is null;
-- The renewal queue: signed contracts by end date and by notice deadline.
create index contracts_renewal_end on contracts (end_date, id) where deleted_at is null and state = 'signed';
create index contracts_renewal_notice on contracts ((end_date - notice_days), id)
    where deleted_at is null and state = 'signed';
create index contracts_title_trgm on contracts using gin (title gin_trgm_ops);

alter table audit_log drop constraint audit_log_entity_check;
alter table audit_log add constraint audit_log_entity_check
    check (entity in ('account', 'contact', 'deal', 'activity', 'contract'));
