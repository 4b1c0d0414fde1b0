-- Search at a million accounts (see docs/benchmarks.md).
-- Business-number digits anywhere in the number: trigram index.
create index accounts_business_number_trgm on accounts using gin (business_number gin_trgm_ops);

-- Most Korean words are two syllables, and pg_trgm finds no trigram in a
-- two-character pattern: a bigram array with its own GIN index serves those.
create function name_bigrams(t text) returns text[] language sql immutable strict parallel safe as
$$ select coalesce(array_agg(distinct substr(lower(t), i, 2)), '{}') from generate_series(1, char_length(t) - 1) i $$;
create index accounts_name_bigram on accounts using gin (name_bigrams(name));
create index contacts_name_bigram on contacts using gin (name_bigrams(name));
