-- The pipeline totals are kept per statement instead of per row: one
-- grouped upsert per statement, from its transition tables. Per row, an
-- import of 100,000 deals updated the same few totals rows 100,000 times
-- (3.6 s of trigger time per 20,000 rows, growing with the row count); per
-- statement it is one upsert per (owner, stage, currency, month) touched.
-- Totals rows are upserted in key order, so two statements can never wait
-- on each other's rows in opposite orders (no deadlock).
drop trigger deals_pipeline_totals on deals;
drop function pipeline_totals_track();

create function pipeline_totals_insert() returns trigger language plpgsql as $$
begin
    insert into pipeline_totals as t (owner_id, stage_id, currency, close_month, deal_count, amount_sum, weighted_sum)
    select owner_id, stage_id, currency,
           coalesce(date_trunc('month', expected_close_date)::date, date '0001-01-01'),
           count(*), sum(coalesce(amount, 0)), sum(coalesce(amount, 0) * probability / 100)
    from new_rows where deleted_at is null
    group by 1, 2, 3, 4 order by 1, 2, 3, 4
    on conflict (owner_id, stage_id, currency, close_month) do update
        set deal_count = t.deal_count + excluded.deal_count,
            amount_sum = t.amount_sum + excluded.amount_sum,
            weighted_sum = t.weighted_sum + excluded.weighted_sum;
    return null;
end;
$$;

create function pipeline_totals_update() returns trigger language plpgsql as $$
begin
    insert into pipeline_totals as t (owner_id, stage_id, currency, close_month, deal_count, amount_sum, weighted_sum)
    select owner_id, stage_id, currency, close_month, sum(n), sum(amount), sum(weighted)
    from (
        select owner_id, stage_id, currency,
               coalesce(date_trunc('month', expected_close_date)::date, date '0001-01-01') as close_month,
               -1 as n, -coalesce(amount, 0) as amount, -(coalesce(amount, 0) * probability / 100) as weighted
        from old_rows where deleted_at is null
        union all
        select owner_id, stage_id, currency,
               coalesce(date_trunc('month', expected_close_date)::date, date '0001-01-01'),
               1, coalesce(amount, 0), coalesce(amount, 0) * probability / 100
        from new_rows where deleted_at is null
    ) c
    group by 1, 2, 3, 4 order by 1, 2, 3, 4
    on conflict (owner_id, stage_id, currency, close_month) do update
        set deal_count = t.deal_count + excluded.deal_count,
            amount_sum = t.amount_sum + excluded.amount_sum,
            weighted_sum = t.weighted_sum + excluded.weighted_sum;
    return null;
end;
$$;

create function pipeline_totals_delete() returns trigger language plpgsql as $$
begin
    insert into pipeline_totals as t (owner_id, stage_id, currency, close_month, deal_count, amount_sum, weighted_sum)
    select owner_id, stage_id, currency,
           coalesce(date_trunc('month', expected_close_date)::date, date '0001-01-01'),
           -count(*), -sum(coalesce(amount, 0)), -sum(coalesce(amount, 0) * probability / 100)
    from old_rows where deleted_at is null
    group by 1, 2, 3, 4 order by 1, 2, 3, 4
    on conflict (owner_id, stage_id, currency, close_month) do update
        set deal_count = t.deal_count + excluded.deal_count,
            amount_sum = t.amount_sum + excluded.amount_sum,
            weighted_sum = t.weighted_sum + excluded.weighted_sum;
    return null;
end;
$$;

create trigger deals_pipeline_totals_insert after insert on deals
    referencing new table as new_rows for each statement execute function pipeline_totals_insert();
create trigger deals_pipeline_totals_update after update on deals
    referencing old table as old_rows new table as new_rows for each statement execute function pipeline_totals_update();
create trigger deals_pipeline_totals_delete after delete on deals
    referencing old table as old_rows for each statement execute function pipeline_totals_delete();
