-- The dashboard's two duration figures, kept exact by the same kind of
-- statement-level triggers as the pipeline totals, so that reading them costs
-- the same at a million deals as at ten.
--
-- Days are Seoul calendar days: a deal that moves on the day it arrived spent
-- 0 days in the stage; one that arrived on Monday and moved on Wednesday, 2.

-- 1. Days to close: from a deal's creation to its last stage change (for a won
--    or lost deal, the day it closed), summed per pipeline_totals row, so the
--    average per owner over won deals is close_days_sum / deal_count.
alter table pipeline_totals add column close_days_sum bigint not null default 0;

create function deal_close_days(d deals) returns integer language sql immutable as $$
    select greatest(0, (d.stage_changed_at at time zone 'Asia/Seoul')::date
                       - (d.created_at at time zone 'Asia/Seoul')::date);
$$;

update pipeline_totals t set close_days_sum = s.days
from (select owner_id, stage_id, currency,
             coalesce(date_trunc('month', expected_close_date)::date, date '0001-01-01') as close_month,
             sum(deal_close_days(d)) as days
      from deals d where deleted_at is null group by 1, 2, 3, 4) s
where (t.owner_id, t.stage_id, t.currency, t.close_month) = (s.owner_id, s.stage_id, s.currency, s.close_month);

create or replace function pipeline_totals_insert() returns trigger language plpgsql as $$
begin
    insert into pipeline_totals as t (owner_id, stage_id, currency, close_month, deal_count, amount_sum,
                                      weighted_sum, close_days_sum)
    select owner_id, stage_id, currency,
           coalesce(date_trunc('month', expected_close_date)::date, date '0001-01-01'),
           count(*), sum(coalesce(amount, 0)), sum(coalesce(amount, 0) * probability / 100),
           sum(deal_close_days(n))
    from new_rows n where deleted_at is null
    group by 1, 2, 3, 4 order by 1, 2, 3, 4
    on conflict (owner_id, stage_id, currency, close_month) do update
        set deal_count = t.deal_count + excluded.deal_count,
            amount_sum = t.amount_sum + excluded.amount_sum,
            weighted_sum = t.weighted_sum + excluded.weighted_sum,
            close_days_sum = t.close_days_sum + excluded.close_days_sum;
    return null;
end;
$$;

create or replace function pipeline_totals_update() returns trigger language plpgsql as $$
begin
    insert into pipeline_totals as t (owner_id, stage_id, currency, close_month, deal_count, amount_sum,
                                      weighted_sum, close_days_sum)
    select owner_id, stage_id, currency, close_month, sum(n), sum(amount), sum(weighted), sum(days)
    from (
        select owner_id, stage_id, currency,
               coalesce(date_trunc('month', expected_close_date)::date, date '0001-01-01') as close_month,
               -1 as n, -coalesce(amount, 0) as amount, -(coalesce(amount, 0) * probability / 100) as weighted,
               -deal_close_days(o) as days
        from old_rows o where deleted_at is null
        union all
        select owner_id, stage_id, currency,
               coalesce(date_trunc('month', expected_close_date)::date, date '0001-01-01'),
               1, coalesce(amount, 0), coalesce(amount, 0) * probability / 100, deal_close_days(n)
        from new_rows n where deleted_at is null
    ) c
    group by 1, 2, 3, 4 order by 1, 2, 3, 4
    on conflict (owner_id, stage_id, currency, close_month) do update
        set deal_count = t.deal_count + excluded.deal_count,
            amount_sum = t.amount_sum + excluded.amount_sum,
            weighted_sum = t.weighted_sum + excluded.weighted_sum,
            close_days_sum = t.close_days_sum + excluded.close_days_sum;
    return null;
end;
$$;

create or replace function pipeline_totals_delete() returns trigger language plpgsql as $$
begin
    insert into pipeline_totals as t (owner_id, stage_id, currency, close_month, deal_count, amount_sum,
                                      weighted_sum, close_days_sum)
    select owner_id, stage_id, currency,
           coalesce(date_trunc('month', expected_close_date)::date, date '0001-01-01'),
           -count(*), -sum(coalesce(amount, 0)), -sum(coalesce(amount, 0) * probability / 100),
           -sum(deal_close_days(o))
    from old_rows o where deleted_at is null
    group by 1, 2, 3, 4 order by 1, 2, 3, 4
    on conflict (owner_id, stage_id, currency, close_month) do update
        set deal_count = t.deal_count + excluded.deal_count,
            amount_sum = t.amount_sum + excluded.amount_sum,
            weighted_sum = t.weighted_sum + excluded.weighted_sum,
            close_days_sum = t.close_days_sum + excluded.close_days_sum;
    return null;
end;
$$;

-- 2. Time in stage: every finished stay (a deal entered a stage and later left
--    it) of a live deal, counted per owner, stage, currency and length in days.
--    A histogram rather than a sum, so the median is exact too; its size is
--    bounded by stages x owners x currencies x distinct lengths, never by deals.
--    A stay belongs to the deal's current owner and currency, as every other
--    dashboard figure does.
create table stage_time_totals (
    owner_id   uuid not null,
    stage_id   text not null,
    currency   text not null,
    days       integer not null,
    stay_count bigint not null default 0,
    primary key (owner_id, stage_id, currency, days)
);

-- A deal's stays come from its history in order: each row is the entry into
-- `to_stage`, and the next row (by id) is when the deal left it.

-- After history rows are added: the affected deals' stays without the new
-- rows are taken away and their stays with them are added, in one upsert in
-- key order (two statements can never wait on each other in opposite orders).
create function stage_time_history_insert() returns trigger language plpgsql as $$
begin
    insert into stage_time_totals as t (owner_id, stage_id, currency, days, stay_count)
    select d.owner_id, x.to_stage, d.currency,
           greatest(0, (x.left_at at time zone 'Asia/Seoul')::date - (x.changed_at at time zone 'Asia/Seoul')::date),
           sum(x.sign)
    from (
        select h.deal_id, h.to_stage, h.changed_at, v.sign,
               lead(h.changed_at) over (partition by h.deal_id, v.sign order by h.id) as left_at
        from deal_stage_history h
        cross join (values (-1), (1)) v(sign)
        where h.deal_id in (select deal_id from new_rows)
          and (v.sign = 1 or h.id not in (select id from new_rows))
    ) x
    join deals d on d.id = x.deal_id and d.deleted_at is null
    where x.left_at is not null
    group by 1, 2, 3, 4 having sum(x.sign) <> 0 order by 1, 2, 3, 4
    on conflict (owner_id, stage_id, currency, days) do update
        set stay_count = t.stay_count + excluded.stay_count;
    return null;
end;
$$;

-- After history rows are removed (an import's undo removes the deals it
-- created, history first): the stays with the removed rows are taken away
-- and the stays without them added.
create function stage_time_history_delete() returns trigger language plpgsql as $$
begin
    insert into stage_time_totals as t (owner_id, stage_id, currency, days, stay_count)
    select d.owner_id, x.to_stage, d.currency,
           greatest(0, (x.left_at at time zone 'Asia/Seoul')::date - (x.changed_at at time zone 'Asia/Seoul')::date),
           sum(x.sign)
    from (
        select h.deal_id, h.to_stage, h.changed_at, h.sign,
               lead(h.changed_at) over (partition by h.deal_id, h.sign order by h.id) as left_at
        from (
            select h.id, h.deal_id, h.to_stage, h.changed_at, v.sign
            from deal_stage_history h cross join (values (-1), (1)) v(sign)
            where h.deal_id in (select deal_id from old_rows)
            union all
            select o.id, o.deal_id, o.to_stage, o.changed_at, -1 from old_rows o
        ) h
    ) x
    join deals d on d.id = x.deal_id and d.deleted_at is null
    where x.left_at is not null
    group by 1, 2, 3, 4 having sum(x.sign) <> 0 order by 1, 2, 3, 4
    on conflict (owner_id, stage_id, currency, days) do update
        set stay_count = t.stay_count + excluded.stay_count;
    return null;
end;
$$;

-- After deals change owner or currency, or are deleted or restored: their
-- stays move from the old attribution to the new one.
create function stage_time_deals_update() returns trigger language plpgsql as $$
begin
    insert into stage_time_totals as t (owner_id, stage_id, currency, days, stay_count)
    select c.owner_id, x.to_stage, c.currency,
           greatest(0, (x.left_at at time zone 'Asia/Seoul')::date - (x.changed_at at time zone 'Asia/Seoul')::date),
           sum(c.sign)
    from (
        select o.id, o.owner_id, o.currency, -1 as sign
        from old_rows o join new_rows n on n.id = o.id
        where o.deleted_at is null
          and (n.deleted_at is not null or n.owner_id <> o.owner_id or n.currency <> o.currency)
        union all
        select n.id, n.owner_id, n.currency, 1
        from old_rows o join new_rows n on n.id = o.id
        where n.deleted_at is null
          and (o.deleted_at is not null or n.owner_id <> o.owner_id or n.currency <> o.currency)
    ) c
    join (
        select h.deal_id, h.to_stage, h.changed_at,
               lead(h.changed_at) over (partition by h.deal_id order by h.id) as left_at
        from deal_stage_history h
        where h.deal_id in (
            select o.id from old_rows o join new_rows n on n.id = o.id
            where (o.deleted_at is null) <> (n.deleted_at is null) or n.owner_id <> o.owner_id
               or n.currency <> o.currency)
    ) x on x.deal_id = c.id
    where x.left_at is not null
    group by 1, 2, 3, 4 having sum(c.sign) <> 0 order by 1, 2, 3, 4
    on conflict (owner_id, stage_id, currency, days) do update
        set stay_count = t.stay_count + excluded.stay_count;
    return null;
end;
$$;

create trigger deal_stage_history_stage_time_insert after insert on deal_stage_history
    referencing new table as new_rows for each statement execute function stage_time_history_insert();
create trigger deal_stage_history_stage_time_delete after delete on deal_stage_history
    referencing old table as old_rows for each statement execute function stage_time_history_delete();
create trigger deals_stage_time_update after update on deals
    referencing old table as old_rows new table as new_rows for each statement execute function stage_time_deals_update();

-- The stays that exist already.
insert into stage_time_totals (owner_id, stage_id, currency, days, stay_count)
select d.owner_id, x.to_stage, d.currency,
       greatest(0, (x.left_at at time zone 'Asia/Seoul')::date - (x.changed_at at time zone 'Asia/Seoul')::date),
       count(*)
from (select deal_id, to_stage, changed_at, lead(changed_at) over (partition by deal_id order by id) as left_at
      from deal_stage_history) x
join deals d on d.id = x.deal_id and d.deleted_at is null
where x.left_at is not null
group by 1, 2, 3, 4;
