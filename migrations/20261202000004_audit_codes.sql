-- The audit trail's record kinds and actions are typed in the code
-- (`kit::record::Entity`, `AuditAction`); the database admits only their
-- codes, so a mistyped string can no longer reach the history.
alter table audit_log drop constraint if exists audit_log_action_check;
alter table audit_log
    add constraint audit_log_action_check
        check (action in ('create', 'update', 'stage', 'delete', 'restore', 'import', 'undo-import')),
    add constraint audit_log_entity_check
        check (entity in ('account', 'contact', 'deal', 'activity'));
