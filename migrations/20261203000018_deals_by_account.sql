-- An account's deals in list order (the account page and the list's account
-- filter): the largest account has ~33,000 deals at a million, and walking
-- the whole name order to find its first page read ~94,000 rows (367 ms p95
-- in the deals benchmark). Replaces the plain account index, which this one
-- serves as well.
create index deals_account_name_id on deals (account_id, name, id) where deleted_at is null;
drop index deals_account;
