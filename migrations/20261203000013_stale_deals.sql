-- The dashboard's stale deals: live deals by their last activity (or their
-- creation, before any), oldest first, for everyone and per owner.
create index deals_stale on deals ((coalesce(last_activity_at, created_at)), id) where deleted_at is null;
create index deals_owner_stale on deals (owner_id, (coalesce(last_activity_at, created_at)), id)
    where deleted_at is null;
