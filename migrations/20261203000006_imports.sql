-- Spreadsheet imports (issue 10). The uploaded file is kept here, not on an
-- instance's disk, so any instance can preview it, run it or report on it.
-- An import runs as a job: `queued` jobs are claimed with
-- `for update skip locked` and kept alive by a heartbeat; a running job whose
-- heartbeat stopped is marked failed by whichever instance notices. A job
-- writes everything in one transaction, so a failed job wrote nothing.
create table imports (
    id             uuid primary key default gen_random_uuid(),
    file_name      text not null check (char_length(file_name) between 1 and 255),
    file_size      integer not null check (file_size > 0),
    file           bytea not null,
    status         text not null default 'uploaded'
                   check (status in ('uploaded', 'queued', 'running', 'committed', 'failed', 'undone')),
    -- What the admin chose on the preview (sheet, header row, CSV settings,
    -- column mapping, mode); set when the import is committed.
    choices        jsonb,
    mode           text check (mode in ('all-or-nothing', 'skip-invalid')),
    -- Progress, written by the job's heartbeat (the job's own transaction is
    -- invisible until it commits): rows read, checked, written.
    rows_read      integer not null default 0,
    rows_checked   integer not null default 0,
    rows_written   integer not null default 0,
    -- Per kind of record: {"account": {"created": n, "updated": n, "unchanged": n}, ...}.
    counts         jsonb not null default '{}',
    -- Rows not imported.
    skipped        integer not null default 0,
    -- The header row's shape (column and normalised name of each header
    -- cell): the next file of the same shape starts from this mapping.
    header_signature text,
    -- Rows not imported and why: [{row, column, problem}] for the error report.
    problems       jsonb not null default '[]',
    -- A message code (kit::i18n::T) when the job failed.
    error          text,
    claimed_by     text,
    heartbeat_at   timestamptz,
    created_by     uuid not null references users(id),
    created_at     timestamptz not null default now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    undone_by      uuid references users(id),
    undone_at      timestamptz
);
create index imports_created on imports(created_at desc, id);
create index imports_queue on imports(created_at) where status in ('queued', 'running');
create index imports_shape on imports(header_signature, created_at desc) where status in ('committed', 'undone');

-- What an import did to each record, for undo: created records are removed,
-- updated ones get their before-state back. `version_after` is the record's
-- version right after the import; a different version now means someone
-- edited it since, and undo refuses.
create table import_changes (
    import_id      uuid not null references imports(id) on delete cascade,
    entity         text not null check (entity in ('account', 'contact', 'deal')),
    entity_id      uuid not null,
    action         text not null check (action in ('created', 'updated')),
    before         jsonb,
    version_after  integer not null,
    primary key (import_id, entity, entity_id)
);
create index import_changes_entity on import_changes(entity, entity_id);
