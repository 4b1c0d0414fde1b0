-- Contact and deal searches served by an index for every pattern of two
-- characters or more, as account search already is (one character is
-- refused): two-character words through the bigram index (pg_trgm finds no
-- trigram in them), longer ones through the trigram indexes.
create index deals_name_bigram on deals using gin (name_bigrams(name));
create index contacts_phone_trgm on contacts using gin (phone gin_trgm_ops);
