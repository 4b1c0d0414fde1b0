-- The contract list sorted by end date (soonest first), keyset-paged like the others.
create index contracts_end_id on contracts (end_date, id) where deleted_at is null;
create index contracts_owner_end_id on contracts (owner_id, end_date, id) where deleted_at is null;
