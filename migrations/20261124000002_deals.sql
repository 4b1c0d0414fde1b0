-- Deals, their stages (data, not code), stage history, and activities.

create table stages (
    id                  text primary key,
    position            integer not null unique,
    name_ko             text not null,
    name_en             text not null,
    default_probability integer not null check (default_probability between 0 and 100),
    is_won              boolean not null default false,
    is_lost             boolean not null default false,
    check (not (is_won and is_lost))
);
insert into stages (id, position, name_ko, name_en, default_probability, is_won, is_lost) values
    ('lead',        1, '리드',     'Lead',        10,  false, false),
    ('qualified',   2, '자격확인', 'Qualified',   20,  false, false),
    ('proposal',    3, '제안',     'Proposal',    40,  false, false),
    ('negotiation', 4, '협상',     'Negotiation', 70,  false, false),
    ('won',         5, '수주',     'Closed Won',  100, true,  false),
    ('lost',        6, '실주',     'Closed Lost', 0,   false, true);

create table deals (
    id                  uuid primary key default gen_random_uuid(),
    name                text not null check (char_length(name) between 1 and 200),
    account_id          uuid not null references accounts(id),
    stage_id            text not null references stages(id),
    -- Exact decimal; KRW has no minor unit, USD two (checked by the server and here).
    amount              numeric(20, 2) check (amount >= 0),
    currency            text not null check (currency in ('KRW', 'USD')),
    probability         integer not null check (probability between 0 and 100),
    expected_close_date date,
    owner_id            uuid not null references users(id),
    source              text,
    lost_reason         text,
    -- Kept by activities, for the stale-deal report.
    last_activity_at    timestamptz,
    stage_changed_at    timestamptz not null default now(),
    version             integer not null default 1,
    created_by          uuid not null references users(id),
    created_at          timestamptz not null default now(),
    updated_by          uuid not null references users(id),
    updated_at          timestamptz not null default now(),
    deleted_at          timestamptz,
    deleted_by          uuid references users(id),
    check (currency <> 'KRW' or amount is null or amount = trunc(amount))
);
create index deals_name_id on deals(name, id) where deleted_at is null;
create index deals_owner_name_id on deals(owner_id, name, id) where deleted_at is null;
create index deals_updated_id on deals(updated_at, id) where deleted_at is null;
create index deals_account on deals(account_id) where deleted_at is null;
-- The board: per stage, soonest expected close first, optionally per owner.
create index deals_board on deals(stage_id, expected_close_date, id) where deleted_at is null;
create index deals_board_owner on deals(owner_id, stage_id, expected_close_date, id) where deleted_at is null;
create index deals_name_trgm on deals using gin (name gin_trgm_ops);

create table deal_stage_history (
    id          bigserial primary key,
    deal_id     uuid not null references deals(id),
    from_stage  text references stages(id),
    to_stage    text not null references stages(id),
    changed_by  uuid not null references users(id),
    changed_at  timestamptz not null default now()
);
create index deal_stage_history_deal on deal_stage_history(deal_id, id);

create table activities (
    id          uuid primary key default gen_random_uuid(),
    kind        text not null check (kind in ('note', 'call', 'meeting', 'task')),
    subject     text not null check (char_length(subject) between 1 and 200),
    body        text,
    account_id  uuid references accounts(id),
    deal_id     uuid references deals(id),
    occurred_at timestamptz not null default now(),
    due_date    date,
    done        boolean not null default false,
    created_by  uuid not null references users(id),
    created_at  timestamptz not null default now(),
    check (account_id is not null or deal_id is not null)
);
create index activities_account on activities(account_id, occurred_at desc);
create index activities_deal on activities(deal_id, occurred_at desc);

alter table audit_log drop constraint if exists audit_log_action_check;
alter table audit_log add constraint audit_log_action_check
    check (action in ('create', 'update', 'delete', 'restore', 'import', 'stage'));

-- Board totals kept per owner, stage, currency and expected-close month, so the
-- pipeline board sums any number of deals by reading a few hundred rows.
create table pipeline_totals (
    owner_id     uuid not null,
    stage_id     text not null,
    currency     text not null,
    -- First day of the expected close month; 0001-01-01 when there is no date.
    close_month  date not null,
    deal_count   bigint not null default 0,
    amount_sum   numeric not null default 0,
    weighted_sum numeric not null default 0,
    primary key (owner_id, stage_id, currency, close_month)
);

create function pipeline_totals_add(d deals, sign integer) returns void language sql as $$
    insert into pipeline_totals as t (owner_id, stage_id, currency, close_month, deal_count, amount_sum, weighted_sum)
    values (d.owner_id, d.stage_id, d.currency,
            coalesce(date_trunc('month', d.expected_close_date)::date, date '0001-01-01'),
            sign, sign * coalesce(d.amount, 0), sign * coalesce(d.amount, 0) * d.probability / 100)
    on conflict (owner_id, stage_id, currency, close_month) do update
        set deal_count = t.deal_count + excluded.deal_count,
            amount_sum = t.amount_sum + excluded.amount_sum,
            weighted_sum = t.weighted_sum + excluded.weighted_sum;
$$;

create function pipeline_totals_track() returns trigger language plpgsql as $$
begin
    -- A change touches two totals rows; taking them in key order means two
    -- opposite moves can never wait on each other (no deadlock).
    if tg_op = 'UPDATE' and old.deleted_at is null and new.deleted_at is null then
        if (old.owner_id, old.stage_id, old.currency, coalesce(old.expected_close_date, date '0001-01-01'))
           <= (new.owner_id, new.stage_id, new.currency, coalesce(new.expected_close_date, date '0001-01-01')) then
            perform pipeline_totals_add(old, -1);
            perform pipeline_totals_add(new, 1);
        else
            perform pipeline_totals_add(new, 1);
            perform pipeline_totals_add(old, -1);
        end if;
        return null;
    end if;
    if tg_op in ('UPDATE', 'DELETE') and old.deleted_at is null then
        perform pipeline_totals_add(old, -1);
    end if;
    if tg_op in ('INSERT', 'UPDATE') and new.deleted_at is null then
        perform pipeline_totals_add(new, 1);
    end if;
    return null;
end;
$$;

create trigger deals_pipeline_totals after insert or update or delete on deals
    for each row execute function pipeline_totals_track();
