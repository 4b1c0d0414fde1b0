-- Imports now keep one set of settings per sheet (`import::ImportChoices`,
-- with `sheets`), and each imported sheet's shape inside them. Choices
-- stored in the one-sheet form are rewritten to the new one, their shape
-- moved in from the column it had, so queued jobs run as previewed and
-- later files still reuse earlier mappings.
update imports
set choices = jsonb_build_object(
        'shown', choices -> 'read' -> 'sheet',
        'csv_encoding', choices -> 'read' -> 'csv_encoding',
        'csv_delimiter', choices -> 'read' -> 'csv_delimiter',
        'mode', coalesce(choices -> 'mode', '"AllOrNothing"'::jsonb),
        'sheet_names', '[]'::jsonb,
        'sheets', jsonb_build_array(jsonb_build_object(
            'sheet', coalesce(choices -> 'read' ->> 'sheet', ''),
            'import', true,
            'header_row', choices -> 'read' -> 'header_row',
            'mapping', coalesce(choices -> 'mapping', '[]'::jsonb),
            'signature', to_jsonb(header_signature))))
where choices ? 'read';

drop index imports_shape;
alter table imports drop column header_signature;
