-- Imports write contracts too (contract rows: `import::ImportField::Contract*`).
alter table import_changes drop constraint import_changes_entity_check;
alter table import_changes add constraint import_changes_entity_check
    check (entity in ('account', 'contact', 'deal', 'contract'));
