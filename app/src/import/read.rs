//! Reading an uploaded spreadsheet (server only): sniff the format from its
//! bytes, refuse hostile files before doing the work each limit guards, stream
//! one sheet's cells under caps, find the header row and suggest a field for
//! each column.
//!
//! Uploads are hostile until read. The rules this module keeps (see
//! shared/notes/crates.md §1):
//! - calamine's range APIs allocate the whole bounding box of a sheet, so a
//!   small file naming cell XFD1048576 aborts the process (not a catchable
//!   panic). Xlsx and xlsb are streamed cell by cell with
//!   `worksheet_cells_reader`; xls and ods, whose readers load every sheet
//!   when they open, get a lower size limit and a pre-scan of the extent
//!   their sheets would take before calamine sees them.
//! - A zip container's central directory is checked (total size, ratio)
//!   before calamine opens it, since calamine reads `sharedStrings.xml` whole;
//!   zip itself holds each entry to its declared size. calamine also reserves
//!   room for as many strings as `<sst uniqueCount>` claims, so that number is
//!   checked first too.
//! - Nothing a file contains may panic: errors are refusals, and the whole read
//!   runs under `catch_unwind` as the last line of defence against a panic
//!   inside a third-party parser.
//! - Formulas are never evaluated: a formula cell gives its cached value.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use calamine::{Data, DataRef, Dimensions, ExcelDateTime, Ods, OdsError, Reader, SheetType, SheetVisible};
use calamine::{Xls, XlsError, Xlsb, XlsbError, Xlsx, XlsxError};
use chrono::NaiveDate;
use encoding_rs::Encoding;

use super::{
    CellProblem, CellValue, ColumnMapping, CsvEncoding, CsvSettings, Delimiter, FileFormat, HeaderRow, ImportField,
    ReadChoice, Refusal, SheetInfo, SheetRead, SheetRow,
};
use crate::domain::{parse_date_lenient, to_half_width};
use crate::i18n::T;

/// The caps on what an upload may make the server do. The messages in
/// `kit::i18n` quote the default values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Any upload.
    pub max_upload_bytes: usize,
    /// Xls and ods, whose readers hold every sheet in memory at once.
    pub max_whole_read_bytes: usize,
    /// A zip container's entries, unpacked, together.
    pub max_unpacked_bytes: u64,
    /// Unpacked ÷ packed size of one zip entry ...
    pub max_entry_ratio: u64,
    /// ... for entries unpacking to more than this (small entries cannot hurt,
    /// and very repetitive sheet XML compresses well past 100:1 legitimately).
    pub ratio_checked_above_bytes: u64,
    /// Rows of a sheet (by the last row number used or declared).
    pub max_rows: u32,
    /// Columns of a sheet (by the last column used or declared).
    pub max_columns: u32,
    /// Filled cells kept from the sheet read.
    pub max_cells: usize,
    /// Rows × columns a whole-file reader (xls, ods) would allocate for its sheets.
    pub max_whole_read_cells: u64,
    /// Characters in one cell: Excel's own limit, so no genuine cell is longer.
    pub max_cell_chars: usize,
    /// Bytes in one CSV line, before the CSV parser buffers it.
    pub max_csv_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 20 * 1024 * 1024,
            max_whole_read_bytes: 10 * 1024 * 1024,
            max_unpacked_bytes: 200 * 1024 * 1024,
            max_entry_ratio: 100,
            ratio_checked_above_bytes: 1024 * 1024,
            max_rows: 1_000_000,
            max_columns: 200,
            max_cells: 2_000_000,
            max_whole_read_cells: 5_000_000,
            max_cell_chars: 32_767,
            max_csv_line_bytes: 1024 * 1024,
        }
    }
}

/// The header row is looked for among this many non-blank rows at the top.
pub const HEADER_SEARCH_ROWS: usize = 20;
/// Records of a CSV's start that the delimiter is chosen on.
pub const DELIMITER_SAMPLE_RECORDS: usize = 50;
/// Bytes of a CSV's start that encoding and delimiter detection look at.
const SNIFF_SAMPLE_BYTES: usize = 64 * 1024;

/// Reads one sheet of an upload for the preview: format, sheet list, cells,
/// problems, header row and suggested mapping, or why the file is refused.
pub fn read_upload(bytes: &[u8], choice: &ReadChoice, limits: &Limits) -> Result<SheetRead, Refusal> {
    // A panic inside calamine or zip on crafted bytes (for instance an
    // overflowing subtraction on a reversed dimension in a debug build) becomes
    // a refusal rather than a failed request. Allocation failures abort and
    // cannot be caught: that is what the limits are for.
    catch_unwind(AssertUnwindSafe(|| read_unguarded(bytes, choice, limits))).unwrap_or(Err(Refusal::Damaged))
}

fn read_unguarded(bytes: &[u8], choice: &ReadChoice, limits: &Limits) -> Result<SheetRead, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::EmptyFile);
    }
    if bytes.len() > limits.max_upload_bytes {
        return Err(Refusal::FileTooLarge);
    }
    let format = sniff(bytes, limits)?;
    if format.is_read_whole() && bytes.len() > limits.max_whole_read_bytes {
        return Err(Refusal::LegacyFileTooLarge);
    }
    let sheet = match format {
        FileFormat::Xlsx | FileFormat::Xlsm => read_xlsx(bytes, choice, limits)?,
        FileFormat::Xlsb => read_xlsb(bytes, choice, limits)?,
        FileFormat::Xls => {
            check_biff_extent(bytes, limits)?;
            let workbook = Xls::new(Cursor::new(bytes)).map_err(xls_refusal)?;
            read_whole(workbook, choice, limits, xls_refusal)?
        }
        FileFormat::Ods => {
            check_ods_extent(bytes, limits)?;
            let workbook = Ods::new(Cursor::new(bytes)).map_err(ods_refusal)?;
            read_whole(workbook, choice, limits, ods_refusal)?
        }
        FileFormat::Csv => read_csv(bytes, choice, limits)?,
    };
    let mut read = SheetRead {
        format,
        sheets: sheet.sheets,
        sheet: sheet.name,
        csv: sheet.csv,
        epoch_1904: sheet.epoch_1904,
        rows: sheet.grid.rows(),
        problems: sheet.grid.problems,
        header: None,
        mapping: Vec::new(),
    };
    set_header(&mut read, choice.header_row);
    Ok(read)
}

/// Takes this row as the header (or finds one, for `None`) and suggests the
/// mapping from it: a changed header row needs no second read of the file.
pub fn set_header(read: &mut SheetRead, header_row: Option<u32>) {
    let rows = &read.rows;
    read.header = match header_row {
        Some(number) => {
            Some(HeaderRow { number, matched: rows.iter().find(|row| row.number == number).map_or(0, matched_fields) })
        }
        None => detect_header(rows),
    };
    read.mapping = read
        .header
        .and_then(|h| rows.iter().find(|row| row.number == h.number))
        .map(suggest_mapping)
        .unwrap_or_default();
}

// ---------------------------------------------------------------------------
// Formats

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The format by the file's first bytes; for zip containers also checks the
/// container against the compression limits (it has to be opened to tell
/// xlsx from ods anyway).
pub fn sniff(bytes: &[u8], limits: &Limits) -> Result<FileFormat, Refusal> {
    if bytes.starts_with(ZIP_MAGIC) {
        check_zip(bytes, limits)
    } else if bytes.starts_with(&CFB_MAGIC[..4]) {
        compound_format(bytes)
    } else if looks_like_text(bytes) {
        Ok(FileFormat::Csv)
    } else {
        Err(Refusal::NotSpreadsheet)
    }
}

/// Text has no NUL bytes and few control characters, unless it is UTF-16,
/// which Excel's "Unicode text" always starts with a byte-order mark.
fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let sample = &bytes[..bytes.len().min(SNIFF_SAMPLE_BYTES)];
    let controls = sample.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)).count();
    !sample.contains(&0) && controls * 100 <= sample.len()
}

/// An OLE compound file: Excel 97-2003, or an encrypted OOXML workbook (Excel
/// wraps a password-protected xlsx in one, as `EncryptionInfo` and
/// `EncryptedPackage` streams), or something else entirely (a .doc).
fn compound_format(bytes: &[u8]) -> Result<FileFormat, Refusal> {
    if !bytes.starts_with(CFB_MAGIC) {
        return Err(Refusal::NotSpreadsheet);
    }
    let compound = cfb::Compound::open(bytes).ok_or(Refusal::Damaged)?;
    if compound.has_stream("EncryptedPackage") || compound.has_stream("EncryptionInfo") {
        return Err(Refusal::PasswordProtected);
    }
    if compound.has_stream("Workbook") || compound.has_stream("Book") {
        return Ok(FileFormat::Xls);
    }
    Err(Refusal::NotSpreadsheet)
}

/// Checks a zip container before anything reads it whole, then names its format.
fn check_zip(bytes: &[u8], limits: &Limits) -> Result<FileFormat, Refusal> {
    // Opening reads only the central directory (a truncated file has none).
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| Refusal::Damaged)?;
    let mut unpacked: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(|_| Refusal::Damaged)?;
        if entry.encrypted() {
            return Err(Refusal::PasswordProtected);
        }
        let size = entry.size();
        unpacked = unpacked.saturating_add(size);
        if unpacked > limits.max_unpacked_bytes {
            return Err(Refusal::CompressionBomb);
        }
        if size > limits.ratio_checked_above_bytes && size / entry.compressed_size().max(1) > limits.max_entry_ratio {
            return Err(Refusal::CompressionBomb);
        }
    }
    // The directory's sizes are only claims, but they hold: zip stops any
    // entry at its declared size with an error ("File is larger than its
    // declared uncompressed size"), so an entry that lies is refused as damaged
    // when calamine reads it, having inflated no more than it claimed
    // (`a_zip_entry_lying_about_its_size_inflates_no_more_than_it_claims`).
    if let Some(mimetype) = small_entry(&mut archive, "mimetype", 256) {
        return if mimetype.trim() == "application/vnd.oasis.opendocument.spreadsheet" {
            Ok(FileFormat::Ods)
        } else {
            Err(Refusal::NotSpreadsheet)
        };
    }
    check_shared_string_counts(&mut archive, limits)?;
    let content_types = small_entry(&mut archive, "[Content_Types].xml", 1024 * 1024).ok_or(Refusal::NotSpreadsheet)?;
    // The workbook part's content type says which of the three it is.
    if content_types.contains("application/vnd.ms-excel.sheet.binary.macroEnabled.main") {
        Ok(FileFormat::Xlsb)
    } else if content_types.contains("application/vnd.ms-excel.sheet.macroEnabled.main+xml") {
        Ok(FileFormat::Xlsm)
    } else if content_types.contains("spreadsheetml.sheet.main+xml")
        || content_types.contains("spreadsheetml.template.main+xml")
    {
        Ok(FileFormat::Xlsx)
    } else {
        Err(Refusal::NotSpreadsheet)
    }
}

/// calamine reserves a slot for each string `<sst uniqueCount="…">` claims,
/// before reading one: a claim of a trillion aborts the process. Every
/// shared-strings part (wherever the workbook's folder is) is walked to its
/// `sst` tag, and a count above the cell cap, or one that cannot be read as a
/// plain number, is refused.
fn check_shared_string_counts(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, limits: &Limits) -> Result<(), Refusal> {
    let names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .filter(|name| name.to_ascii_lowercase().ends_with("sharedstrings.xml"))
        .map(|name| name.into_owned())
        .collect();
    for name in names {
        let entry = archive.by_name(&name).map_err(|_| Refusal::Damaged)?;
        let mut verdict = Ok(());
        for_each_tag(BufReader::new(entry), |tag| {
            let name = tag_name(tag);
            if name != b"sst" && !name.ends_with(b":sst") {
                return Ok(true);
            }
            verdict = match attribute_number(tag, b"uniqueCount") {
                Some(Some(count)) if count > limits.max_cells as u64 => Err(Refusal::TooManyCells),
                Some(None) => Err(Refusal::Damaged),
                _ => Ok(()),
            };
            Ok(false)
        })?;
        verdict?;
    }
    Ok(())
}

/// An attribute's value as a plain number: `None` when absent, `Some(None)`
/// when present but not digits (spaces around `=` allowed, either quote).
fn attribute_number(tag: &[u8], attribute: &[u8]) -> Option<Option<u64>> {
    let at = tag.windows(attribute.len()).position(|w| w == attribute)?;
    let rest = &tag[at + attribute.len()..];
    let Some(rest) = rest.trim_ascii_start().strip_prefix(b"=") else { return Some(None) };
    let rest = rest.trim_ascii_start();
    let Some((&quote, value)) = rest.split_first().filter(|(q, _)| matches!(q, b'"' | b'\'')) else {
        return Some(None);
    };
    let end = value.iter().position(|b| *b == quote)?;
    let digits = &value[..end];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Some(None);
    }
    Some(Some(digits.iter().fold(0u64, |n, d| n.saturating_mul(10).saturating_add(u64::from(d - b'0')))))
}

/// Walks the tags of an XML stream (the text between them is skipped without
/// being kept), calling `visit` with each tag's bytes between `<` and `>`
/// until it returns false. A tag longer than 1 MB is damage, not XML we read.
fn for_each_tag(
    mut reader: impl BufRead,
    mut visit: impl FnMut(&[u8]) -> Result<bool, Refusal>,
) -> Result<(), Refusal> {
    const MAX_TAG_BYTES: u64 = 1024 * 1024;
    let mut tag = Vec::new();
    while skip_past(&mut reader, b'<').map_err(|_| Refusal::Damaged)? {
        tag.clear();
        (&mut reader).take(MAX_TAG_BYTES).read_until(b'>', &mut tag).map_err(|_| Refusal::Damaged)?;
        if tag.last() != Some(&b'>') {
            return Err(Refusal::Damaged);
        }
        if !visit(&tag)? {
            break;
        }
    }
    Ok(())
}

/// A tag's name, without the `/` of an end tag.
fn tag_name(tag: &[u8]) -> &[u8] {
    let tag = tag.strip_prefix(b"/").unwrap_or(tag);
    let len = tag.iter().position(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>').unwrap_or(tag.len());
    &tag[..len]
}

/// A small text entry of a zip (already size-checked), or `None`.
fn small_entry(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str, max_bytes: u64) -> Option<String> {
    let entry = archive.by_name(name).ok()?;
    let mut text = String::new();
    entry.take(max_bytes).read_to_string(&mut text).ok()?;
    Some(text)
}

// ---------------------------------------------------------------------------
// Workbooks

/// What reading one sheet gave, before header detection.
struct SheetContent<'l> {
    sheets: Vec<SheetInfo>,
    name: String,
    csv: Option<CsvSettings>,
    epoch_1904: bool,
    grid: Grid<'l>,
}

fn read_xlsx<'l>(bytes: &[u8], choice: &ReadChoice, limits: &'l Limits) -> Result<SheetContent<'l>, Refusal> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(xlsx_refusal)?;
    let sheets = worksheets(workbook.sheets_metadata());
    let name = choose_sheet(&sheets, choice)?;
    let epoch_1904 = workbook.has_1904_epoch();
    let mut grid = Grid::new(limits);
    let mut cells = workbook.worksheet_cells_reader(&name).map_err(xlsx_refusal)?;
    check_declared_extent(cells.dimensions(), limits)?;
    while let Some(cell) = cells.next_cell_with_formula_metadata().map_err(xlsx_refusal)? {
        let (value, problem) = cell_from_ref(cell.value, limits)?;
        let problem = problem.or_else(|| formula_without_value(cell.formula.is_some(), &value));
        grid.add(cell.pos, value, problem)?;
    }
    Ok(SheetContent { sheets, name, csv: None, epoch_1904, grid })
}

/// Xlsb streams too; its cell reader does not say which cells hold formulas,
/// so a formula without a cached value reads as an empty cell there.
fn read_xlsb<'l>(bytes: &[u8], choice: &ReadChoice, limits: &'l Limits) -> Result<SheetContent<'l>, Refusal> {
    let mut workbook: Xlsb<_> = Xlsb::new(Cursor::new(bytes)).map_err(xlsb_refusal)?;
    let sheets = worksheets(workbook.sheets_metadata());
    let name = choose_sheet(&sheets, choice)?;
    let epoch_1904 = workbook.has_1904_epoch();
    let mut grid = Grid::new(limits);
    let mut cells = workbook.worksheet_cells_reader(&name).map_err(xlsb_refusal)?;
    check_declared_extent(cells.dimensions(), limits)?;
    while let Some(cell) = cells.next_cell().map_err(xlsb_refusal)? {
        let pos = cell.get_position();
        let (value, problem) = cell_from_ref(cell.get_value().clone(), limits)?;
        grid.add(pos, value, problem)?;
    }
    Ok(SheetContent { sheets, name, csv: None, epoch_1904, grid })
}

/// Xls and ods: their readers built every sheet when they opened (after the
/// pre-scan bounded what that could take), so here the sheet is copied out.
fn read_whole<'l, RS, R>(
    mut workbook: R,
    choice: &ReadChoice,
    limits: &'l Limits,
    refusal: fn(R::Error) -> Refusal,
) -> Result<SheetContent<'l>, Refusal>
where
    RS: Read + io::Seek,
    R: Reader<RS>,
{
    let sheets = worksheets(workbook.sheets_metadata());
    let name = choose_sheet(&sheets, choice)?;
    let values = workbook.worksheet_range(&name).map_err(refusal)?;
    let formulas = workbook.worksheet_formula(&name).map_err(refusal)?;
    let mut grid = Grid::new(limits);
    if let Some((top, left)) = values.start() {
        for (row, column, data) in values.used_cells() {
            let pos = (top.saturating_add(row as u32), left.saturating_add(column as u32));
            let (value, problem) = cell_from_data(data, limits)?;
            grid.add(pos, value, problem)?;
        }
    }
    if let Some((top, left)) = formulas.start() {
        for (row, column, formula) in formulas.used_cells() {
            let pos = (top.saturating_add(row as u32), left.saturating_add(column as u32));
            let cached = values.get_value(pos).is_some_and(|v| !matches!(v, Data::Empty));
            if !formula.is_empty() && !cached {
                grid.add(pos, CellValue::Empty, Some(T::ImportFormulaWithoutValue))?;
            }
        }
    }
    Ok(SheetContent { sheets, name, csv: None, epoch_1904: false, grid })
}

/// Worksheets only: chart and dialog sheets have no cells to import.
fn worksheets(metadata: &[calamine::Sheet]) -> Vec<SheetInfo> {
    metadata
        .iter()
        .filter(|sheet| sheet.typ == SheetType::WorkSheet)
        .map(|sheet| SheetInfo { name: sheet.name.clone(), hidden: sheet.visible != SheetVisible::Visible })
        .collect()
}

/// The sheet the user chose, else the first visible one.
fn choose_sheet(sheets: &[SheetInfo], choice: &ReadChoice) -> Result<String, Refusal> {
    match &choice.sheet {
        Some(name) => sheets.iter().find(|s| &s.name == name).map(|s| s.name.clone()).ok_or(Refusal::SheetNotFound),
        None => sheets
            .iter()
            .find(|s| !s.hidden)
            .or_else(|| sheets.first())
            .map(|s| s.name.clone())
            .ok_or(Refusal::NoSheets),
    }
}

/// A sheet's declared extent (`<dimension ref>`), refused before a cell is read.
fn check_declared_extent(dimensions: Dimensions, limits: &Limits) -> Result<(), Refusal> {
    let (last_row, last_column) = dimensions.end;
    if u64::from(last_row) >= u64::from(limits.max_rows) || u64::from(last_column) >= u64::from(limits.max_columns) {
        return Err(Refusal::SheetTooLarge);
    }
    Ok(())
}

fn formula_without_value(has_formula: bool, value: &CellValue) -> Option<T> {
    (has_formula && matches!(value, CellValue::Empty)).then_some(T::ImportFormulaWithoutValue)
}

fn cell_from_ref(value: DataRef<'_>, limits: &Limits) -> Result<(CellValue, Option<T>), Refusal> {
    Ok(match value {
        DataRef::Empty => (CellValue::Empty, None),
        DataRef::String(text) => (text_cell(&text, limits)?, None),
        DataRef::SharedString(text) => (text_cell(text, limits)?, None),
        DataRef::Int(n) => (CellValue::Number(n as f64), None),
        DataRef::Float(n) => (CellValue::Number(n), None),
        DataRef::Bool(b) => (CellValue::Bool(b), None),
        DataRef::DateTime(at) => date_cell(&at),
        DataRef::DateTimeIso(text) => iso_date_cell(&text, limits)?,
        DataRef::DurationIso(text) => (text_cell(&text, limits)?, None),
        DataRef::Error(error) => (CellValue::Error(error.to_string()), Some(T::ImportCellErrorValue)),
    })
}

fn cell_from_data(value: &Data, limits: &Limits) -> Result<(CellValue, Option<T>), Refusal> {
    Ok(match value {
        Data::Empty => (CellValue::Empty, None),
        Data::String(text) | Data::DurationIso(text) => (text_cell(text, limits)?, None),
        Data::Int(n) => (CellValue::Number(*n as f64), None),
        Data::Float(n) => (CellValue::Number(*n), None),
        Data::Bool(b) => (CellValue::Bool(*b), None),
        Data::DateTime(at) => date_cell(at),
        Data::DateTimeIso(text) => iso_date_cell(text, limits)?,
        Data::Error(error) => (CellValue::Error(error.to_string()), Some(T::ImportCellErrorValue)),
    })
}

/// Text, kept exactly as the cell holds it (markup and leading `=` included),
/// after the length cap: the length is checked in bytes first, so only long
/// cells are counted character by character.
fn text_cell(text: &str, limits: &Limits) -> Result<CellValue, Refusal> {
    if text.len() > limits.max_cell_chars && text.chars().count() > limits.max_cell_chars {
        return Err(Refusal::CellTooLong);
    }
    Ok(if text.is_empty() { CellValue::Empty } else { CellValue::Text(text.to_string()) })
}

/// A cell with a date format. Times of day and durations stay numbers; a day
/// the calendar lacks (Excel's 1900-02-29) is a problem for that cell.
fn date_cell(at: &ExcelDateTime) -> (CellValue, Option<T>) {
    let serial = at.as_f64();
    if !at.is_datetime() || !(1.0..3_000_000.0).contains(&serial) {
        return (CellValue::Number(serial), None);
    }
    let (year, month, day, ..) = at.to_ymd_hms_milli();
    match NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day)) {
        Some(date) => (CellValue::Date(date), None),
        None => (CellValue::Number(serial), Some(T::InvalidDate)),
    }
}

/// ODS dates come as ISO text ("2022-12-31" or "2022-12-31T10:00:00").
fn iso_date_cell(text: &str, limits: &Limits) -> Result<(CellValue, Option<T>), Refusal> {
    Ok(match parse_date_lenient(text) {
        Ok(Some(date)) => (CellValue::Date(date), None),
        _ => (text_cell(text, limits)?, None),
    })
}

/// The cells kept from one sheet, under the caps.
struct Grid<'l> {
    limits: &'l Limits,
    rows: BTreeMap<u32, Vec<CellValue>>,
    problems: Vec<CellProblem>,
    filled: usize,
}

impl<'l> Grid<'l> {
    fn new(limits: &'l Limits) -> Self {
        Grid { limits, rows: BTreeMap::new(), problems: Vec::new(), filled: 0 }
    }

    /// Adds a cell at its 0-based (row, column). Empty cells without a problem
    /// are dropped wherever they are: formatting far out is not data.
    fn add(&mut self, (row, column): (u32, u32), value: CellValue, problem: Option<T>) -> Result<(), Refusal> {
        if matches!(value, CellValue::Empty) && problem.is_none() {
            return Ok(());
        }
        if row >= self.limits.max_rows || column >= self.limits.max_columns {
            return Err(Refusal::SheetTooLarge);
        }
        self.filled += 1;
        if self.filled > self.limits.max_cells {
            return Err(Refusal::TooManyCells);
        }
        let cells = self.rows.entry(row).or_default();
        let index = column as usize;
        if cells.len() <= index {
            cells.resize(index + 1, CellValue::Empty);
        }
        cells[index] = value;
        if let Some(problem) = problem {
            self.problems.push(CellProblem { sheet: 0, row: row + 1, column, problem });
        }
        Ok(())
    }

    /// The rows holding a value or a problem, numbered as the sheet shows them.
    fn rows(&self) -> Vec<SheetRow> {
        self.rows.iter().map(|(row, cells)| SheetRow { number: row + 1, cells: cells.clone() }).collect()
    }
}

fn xlsx_refusal(error: XlsxError) -> Refusal {
    match error {
        XlsxError::Password => Refusal::PasswordProtected,
        XlsxError::WorksheetNotFound(_) => Refusal::SheetNotFound,
        other => damaged("xlsx", &other),
    }
}

fn xlsb_refusal(error: XlsbError) -> Refusal {
    match error {
        XlsbError::Password => Refusal::PasswordProtected,
        XlsbError::WorksheetNotFound(_) => Refusal::SheetNotFound,
        other => damaged("xlsb", &other),
    }
}

fn xls_refusal(error: XlsError) -> Refusal {
    match error {
        XlsError::Password => Refusal::PasswordProtected,
        XlsError::WorksheetNotFound(_) => Refusal::SheetNotFound,
        other => damaged("xls", &other),
    }
}

fn ods_refusal(error: OdsError) -> Refusal {
    match error {
        OdsError::Password => Refusal::PasswordProtected,
        OdsError::WorksheetNotFound(_) => Refusal::SheetNotFound,
        OdsError::CellLimitExceeded { .. } => Refusal::SheetTooLarge,
        other => damaged("ods", &other),
    }
}

/// The reader's own words go to the log, for support; the user gets the message.
fn damaged(format: &str, error: &dyn std::fmt::Display) -> Refusal {
    tracing::info!(format, %error, "import: unreadable file");
    Refusal::Damaged
}

// ---------------------------------------------------------------------------
// Whole-file readers: the extent their sheets would take, measured first

/// The rows and columns one sheet's cells span (0-based; ends are one past).
#[derive(Default)]
struct Extent {
    first: Option<(u64, u64)>,
    row_end: u64,
    column_end: u64,
}

impl Extent {
    fn include(&mut self, row: u64, column: u64) {
        self.first = Some(self.first.map_or((row, column), |(r, c)| (r.min(row), c.min(column))));
        self.row_end = self.row_end.max(row.saturating_add(1));
        self.column_end = self.column_end.max(column.saturating_add(1));
    }

    /// The cells of the bounding box a reader would allocate.
    fn cells(&self) -> u64 {
        self.first.map_or(0, |(row, column)| (self.row_end - row).saturating_mul(self.column_end - column))
    }

    fn check(&self, limits: &Limits) -> Result<u64, Refusal> {
        if self.row_end > u64::from(limits.max_rows) || self.column_end > u64::from(limits.max_columns) {
            return Err(Refusal::SheetTooLarge);
        }
        Ok(self.cells())
    }
}

/// Walks the BIFF records of an xls workbook stream: each sheet's declared
/// DIMENSIONS (calamine reserves rows × columns from it) and the cells it
/// actually holds (calamine allocates their bounding box) must fit before
/// calamine opens the file. A FILEPASS record means the rest is encrypted.
fn check_biff_extent(bytes: &[u8], limits: &Limits) -> Result<(), Refusal> {
    let compound = cfb::Compound::open(bytes).ok_or(Refusal::Damaged)?;
    let stream = compound.stream("Workbook").or_else(|| compound.stream("Book")).ok_or(Refusal::Damaged)?;
    let u16_at =
        |data: &[u8], at: usize| data.get(at..at + 2).map_or(0, |b| u64::from(u16::from_le_bytes([b[0], b[1]])));
    let u32_at = |data: &[u8], at: usize| {
        data.get(at..at + 4).map_or(0, |b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    };
    let mut total: u64 = 0;
    let mut depth = 0usize;
    let mut sheet = Extent::default();
    let mut pos = 0usize;
    while let Some(header) = stream.get(pos..pos + 4) {
        let kind = u16::from_le_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_le_bytes([header[2], header[3]]));
        let Some(data) = stream.get(pos + 4..pos + 4 + len) else { break };
        pos += 4 + len;
        match kind {
            0x002F => return Err(Refusal::PasswordProtected),
            0x0809 => {
                depth += 1;
                if depth == 1 {
                    sheet = Extent::default();
                }
            }
            0x000A => {
                if depth == 1 {
                    total = total.saturating_add(sheet.check(limits)?);
                    sheet = Extent::default();
                }
                depth = depth.saturating_sub(1);
            }
            // DIMENSIONS: first row, one past the last row, first column, one past the last.
            0x0200 if depth == 1 => {
                let (first_row, row_end, first_column, column_end) = if len >= 14 {
                    (u32_at(data, 0), u32_at(data, 4), u16_at(data, 8), u16_at(data, 10))
                } else {
                    (u16_at(data, 0), u16_at(data, 2), u16_at(data, 4), u16_at(data, 6))
                };
                let declared =
                    row_end.saturating_sub(first_row).saturating_mul(column_end.saturating_sub(first_column));
                if row_end > u64::from(limits.max_rows)
                    || column_end > u64::from(limits.max_columns)
                    || declared > limits.max_whole_read_cells
                {
                    return Err(Refusal::SheetTooLarge);
                }
            }
            // Cell records start with their row and column.
            0x0203 | 0x0204 | 0x00FD | 0x027E | 0x0205 | 0x0006 | 0x00D6 if depth == 1 && len >= 4 => {
                sheet.include(u16_at(data, 0), u16_at(data, 2));
            }
            // MULRK: a row, its first column, ..., its last column.
            0x00BD if depth == 1 && len >= 6 => {
                sheet.include(u16_at(data, 0), u16_at(data, 2));
                sheet.include(u16_at(data, 0), u16_at(data, len - 2));
            }
            _ => {}
        }
        if total.saturating_add(sheet.cells()) > limits.max_whole_read_cells {
            return Err(Refusal::SheetTooLarge);
        }
    }
    sheet.check(limits)?;
    Ok(())
}

/// Walks the tags of an ods `content.xml` (already size-checked as a zip
/// entry) and adds up the extent calamine's reader would expand: repeated
/// rows and columns (`number-rows-repeated="1000000"` is a few bytes) up to
/// the last cell holding a value. Conservative: a cell with any content counts.
fn check_ods_extent(bytes: &[u8], limits: &Limits) -> Result<(), Refusal> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| Refusal::Damaged)?;
    let content = archive.by_name("content.xml").map_err(|_| Refusal::Damaged)?;
    let mut total: u64 = 0;
    let mut sheet = Extent::default();
    let (mut row, mut row_repeat, mut column, mut last_value_column) = (0u64, 1u64, 0u64, 0u64);
    for_each_tag(BufReader::new(content), |tag| {
        let self_closing = tag.ends_with(b"/>");
        let row_done = match (tag.starts_with(b"/"), tag_name(tag)) {
            (false, b"table:table") => {
                sheet = Extent::default();
                row = 0;
                false
            }
            (false, b"table:table-row") => {
                row_repeat = repeat(tag, b"table:number-rows-repeated=\"");
                column = 0;
                last_value_column = 0;
                self_closing
            }
            (false, b"table:table-cell" | b"table:covered-table-cell") => {
                column = column.saturating_add(repeat(tag, b"table:number-columns-repeated=\""));
                let has_value =
                    !self_closing || contains(tag, b"office:value-type=") || contains(tag, b"table:formula=");
                if has_value {
                    last_value_column = column;
                }
                false
            }
            (true, b"table:table-row") => true,
            (true, b"table:table") => {
                total = total.saturating_add(sheet.check(limits)?);
                sheet = Extent::default();
                false
            }
            _ => false,
        };
        if row_done {
            if last_value_column > 0 {
                // Empty cells before a value are expanded too, so the box starts at column A.
                sheet.include(row, 0);
                sheet.include(row.saturating_add(row_repeat - 1), last_value_column - 1);
            }
            row = row.saturating_add(row_repeat);
            row_repeat = 1;
            last_value_column = 0;
            if total.saturating_add(sheet.check(limits)?) > limits.max_whole_read_cells {
                return Err(Refusal::SheetTooLarge);
            }
        }
        Ok(true)
    })
}

/// Skips input up to and including `byte`; false at the end of the input.
fn skip_past(reader: &mut impl BufRead, byte: u8) -> io::Result<bool> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(false);
        }
        match buffer.iter().position(|b| *b == byte) {
            Some(at) => {
                reader.consume(at + 1);
                return Ok(true);
            }
            None => {
                let len = buffer.len();
                reader.consume(len);
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A repeat count attribute's value (1 when absent, at least 1, saturating).
fn repeat(tag: &[u8], attribute: &[u8]) -> u64 {
    let Some(at) = tag.windows(attribute.len()).position(|w| w == attribute) else { return 1 };
    let digits = tag[at + attribute.len()..].iter().take_while(|b| b.is_ascii_digit());
    digits.fold(0u64, |n, d| n.saturating_mul(10).saturating_add(u64::from(d - b'0'))).max(1)
}

/// Just enough of the OLE compound file format (MS-CFB) to list its streams
/// and read one, with every sector number and chain checked against the
/// file: calamine's own reader is private, and an xls must be measured
/// before calamine opens it.
mod cfb {
    const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
    const HEADER_FAT_ENTRIES: usize = 109;

    pub struct Compound<'a> {
        bytes: &'a [u8],
        sector_size: usize,
        fat: Vec<u32>,
        mini_cutoff: u64,
        first_mini_fat: u32,
        entries: Vec<Entry>,
    }

    struct Entry {
        name: String,
        kind: u8,
        start: u32,
        size: u64,
    }

    fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
        bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
        bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    impl<'a> Compound<'a> {
        pub fn open(bytes: &'a [u8]) -> Option<Self> {
            let major = u16_at(bytes, 0x1A)?;
            let sector_size = match u16_at(bytes, 0x1E)? {
                9 => 512,
                12 => 4096,
                _ => return None,
            };
            let mut compound = Compound {
                bytes,
                sector_size,
                fat: Vec::new(),
                mini_cutoff: u64::from(u32_at(bytes, 0x38)?),
                first_mini_fat: u32_at(bytes, 0x3C)?,
                entries: Vec::new(),
            };
            // The FAT's own sectors: 109 listed in the header, the rest in a chain of DIFAT sectors.
            let sectors_in_file = bytes.len() / sector_size;
            let fat_sectors = (u32_at(bytes, 0x2C)? as usize).min(sectors_in_file);
            let mut fat_ids: Vec<u32> =
                (0..HEADER_FAT_ENTRIES).filter_map(|i| u32_at(bytes, 0x4C + 4 * i)).take(fat_sectors).collect();
            let mut difat = u32_at(bytes, 0x44)?;
            let mut hops = 0;
            while fat_ids.len() < fat_sectors && difat < END_OF_CHAIN && hops < sectors_in_file {
                let sector = compound.sector(difat)?;
                let per_sector = sector_size / 4 - 1;
                fat_ids.extend((0..per_sector).filter_map(|i| u32_at(sector, 4 * i)));
                difat = u32_at(sector, sector_size - 4)?;
                hops += 1;
            }
            fat_ids.truncate(fat_sectors);
            let mut fat = Vec::with_capacity(fat_ids.len() * sector_size / 4);
            for id in fat_ids {
                let sector = compound.sector(id)?;
                fat.extend((0..sector_size / 4).filter_map(|i| u32_at(sector, 4 * i)));
            }
            compound.fat = fat;
            let directory = compound.chain_bytes(u32_at(bytes, 0x30)?)?;
            for raw in directory.as_chunks::<128>().0 {
                let raw: &[u8] = raw;
                let name_bytes = usize::from(u16_at(raw, 64)?).min(64);
                let units: Vec<u16> = raw[..name_bytes]
                    .as_chunks::<2>()
                    .0
                    .iter()
                    .map(|b| u16::from_le_bytes(*b))
                    .take_while(|u| *u != 0)
                    .collect();
                let size =
                    u64::from(u32_at(raw, 120)?) | if major >= 4 { u64::from(u32_at(raw, 124)?) << 32 } else { 0 };
                compound.entries.push(Entry {
                    name: String::from_utf16_lossy(&units),
                    kind: raw[66],
                    start: u32_at(raw, 116)?,
                    size,
                });
            }
            Some(compound)
        }

        pub fn has_stream(&self, name: &str) -> bool {
            self.entries.iter().any(|e| e.kind == 2 && e.name.eq_ignore_ascii_case(name))
        }

        /// A stream's bytes; `None` if it is missing or its chain leaves the file.
        pub fn stream(&self, name: &str) -> Option<Vec<u8>> {
            let entry = self.entries.iter().find(|e| e.kind == 2 && e.name.eq_ignore_ascii_case(name))?;
            let size = usize::try_from(entry.size).ok()?;
            let mut bytes = if entry.size < self.mini_cutoff {
                // Small streams live in 64-byte sectors inside the root entry's stream.
                let root = self.entries.iter().find(|e| e.kind == 5)?;
                let mini_stream = self.chain_bytes(root.start)?;
                let mini_fat: Vec<u32> = self
                    .chain_bytes(self.first_mini_fat)?
                    .as_chunks::<4>()
                    .0
                    .iter()
                    .map(|b| u32::from_le_bytes(*b))
                    .collect();
                let mut out = Vec::new();
                for id in follow(&mini_fat, entry.start)? {
                    let at = id as usize * 64;
                    out.extend_from_slice(mini_stream.get(at..at + 64)?);
                }
                out
            } else {
                self.chain_bytes(entry.start)?
            };
            if bytes.len() < size {
                return None;
            }
            bytes.truncate(size);
            Some(bytes)
        }

        fn sector(&self, id: u32) -> Option<&'a [u8]> {
            let at = (id as usize).checked_add(1)?.checked_mul(self.sector_size)?;
            self.bytes.get(at..at.checked_add(self.sector_size)?)
        }

        fn chain_bytes(&self, start: u32) -> Option<Vec<u8>> {
            let mut out = Vec::new();
            for id in follow(&self.fat, start)? {
                out.extend_from_slice(self.sector(id)?);
            }
            Some(out)
        }
    }

    /// A chain of sector numbers; `None` if it loops or leaves the table.
    fn follow(table: &[u32], start: u32) -> Option<Vec<u32>> {
        let mut chain = Vec::new();
        let mut id = start;
        while id != END_OF_CHAIN {
            if chain.len() >= table.len() {
                return None;
            }
            chain.push(id);
            id = *table.get(id as usize)?;
        }
        Some(chain)
    }
}

// ---------------------------------------------------------------------------
// CSV

fn read_csv<'l>(bytes: &[u8], choice: &ReadChoice, limits: &'l Limits) -> Result<SheetContent<'l>, Refusal> {
    let encoding = choice.csv_encoding.clone().unwrap_or_else(|| detect_encoding(bytes));
    let decoder = decoder_for(&encoding).ok_or(Refusal::UnsupportedEncoding)?;
    let delimiter = choice.csv_delimiter.unwrap_or_else(|| detect_delimiter(bytes, decoder));
    let text = encoding_rs_io::DecodeReaderBytesBuilder::new().encoding(Some(decoder)).build(bytes);
    let lines = LineCap::new(text, limits);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter.byte()).from_reader(lines);
    let mut grid = Grid::new(limits);
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_refusal)? {
        // The line the record starts on is the row Excel shows it in (the
        // parser's own line count leaves out blank lines).
        let line = reader.get_ref().line_of(record.position().map_or(0, |p| p.byte()));
        let row = line.saturating_sub(1);
        for (column, field) in record.iter().enumerate() {
            if field.trim().is_empty() {
                continue;
            }
            let column = u32::try_from(column).map_err(|_| Refusal::SheetTooLarge)?;
            // The decoder puts U+FFFD where bytes were not text in the chosen encoding.
            let problem = field.contains('\u{FFFD}').then_some(T::ImportUndecodableText);
            grid.add((row, column), text_cell(field, limits)?, problem)?;
        }
    }
    let csv = Some(CsvSettings { encoding, delimiter });
    let sheets = vec![SheetInfo { name: String::new(), hidden: false }];
    Ok(SheetContent { sheets, name: String::new(), csv, epoch_1904: false, grid })
}

/// Byte-order mark first (UTF-8, or UTF-16 as Excel's "Unicode text" writes
/// it), then valid UTF-8, then chardetng told the file is Korean, which
/// answers EUC-KR for what Korean Excel saves as "CSV".
pub fn detect_encoding(bytes: &[u8]) -> CsvEncoding {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return CsvEncoding::Utf8;
    }
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return CsvEncoding::Utf16Le;
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return CsvEncoding::Utf16Be;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return CsvEncoding::Utf8;
    }
    let sample = &bytes[..bytes.len().min(SNIFF_SAMPLE_BYTES)];
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(sample, sample.len() == bytes.len());
    let guess = detector.guess(Some(b"kr"), chardetng::Utf8Detection::Allow);
    csv_encoding(guess)
}

fn csv_encoding(encoding: &'static Encoding) -> CsvEncoding {
    if encoding == encoding_rs::UTF_8 {
        CsvEncoding::Utf8
    } else if encoding == encoding_rs::EUC_KR {
        CsvEncoding::EucKr
    } else if encoding == encoding_rs::UTF_16LE {
        CsvEncoding::Utf16Le
    } else if encoding == encoding_rs::UTF_16BE {
        CsvEncoding::Utf16Be
    } else {
        CsvEncoding::Other(encoding.name().to_string())
    }
}

fn decoder_for(encoding: &CsvEncoding) -> Option<&'static Encoding> {
    match encoding {
        CsvEncoding::Utf8 => Some(encoding_rs::UTF_8),
        CsvEncoding::Utf16Le => Some(encoding_rs::UTF_16LE),
        CsvEncoding::Utf16Be => Some(encoding_rs::UTF_16BE),
        CsvEncoding::EucKr => Some(encoding_rs::EUC_KR),
        CsvEncoding::Other(label) => Encoding::for_label(label.as_bytes()),
    }
}

/// The delimiter that splits the first records most consistently into more
/// than one field (ties go to more fields); a comma when none does.
pub fn detect_delimiter(bytes: &[u8], encoding: &'static Encoding) -> Delimiter {
    let (sample, _) = encoding.decode_with_bom_removal(&bytes[..bytes.len().min(SNIFF_SAMPLE_BYTES)]);
    let mut best = (Delimiter::Comma, 0.0_f64, 0usize);
    for delimiter in Delimiter::ALL {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter.byte())
            .from_reader(sample.as_bytes());
        let counts: Vec<usize> =
            reader.records().take(DELIMITER_SAMPLE_RECORDS).map_while(Result::ok).map(|r| r.len()).collect();
        let mut frequency: BTreeMap<usize, usize> = BTreeMap::new();
        for fields in &counts {
            *frequency.entry(*fields).or_default() += 1;
        }
        let Some((fields, hits)) = frequency.into_iter().max_by_key(|(fields, hits)| (*hits, *fields)) else {
            continue;
        };
        if fields < 2 {
            continue;
        }
        let consistency = hits as f64 / counts.len() as f64;
        if consistency > best.1 || (consistency == best.1 && fields > best.2) {
            best = (delimiter, consistency, fields);
        }
    }
    best.0
}

/// The decoded text on its way to the CSV parser: refuses a line longer than
/// the limit while it streams in, before the parser's record buffer grows to
/// hold it (a CSV of one endless line), and notes where each non-blank line
/// starts and its number (a line ends at LF, CRLF or a lone CR), refusing more
/// lines than a sheet may have rows.
struct LineCap<R> {
    inner: R,
    max_line_bytes: usize,
    max_lines: u32,
    /// The current line's number (1-based) and its bytes so far.
    line: u32,
    run: usize,
    /// Bytes passed on so far.
    offset: u64,
    previous_was_cr: bool,
    /// (where it starts, its number) for each line that is not blank.
    lines: Vec<(u64, u32)>,
}

impl<R> LineCap<R> {
    fn new(inner: R, limits: &Limits) -> Self {
        LineCap {
            inner,
            max_line_bytes: limits.max_csv_line_bytes,
            max_lines: limits.max_rows,
            line: 1,
            run: 0,
            offset: 0,
            previous_was_cr: false,
            lines: Vec::new(),
        }
    }

    /// The number of the line a record starts on. The CSV parser puts a
    /// record's start before the blank lines it skipped, so this is the first
    /// non-blank line starting at or after it.
    fn line_of(&self, record_start: u64) -> u32 {
        let index = self.lines.partition_point(|(start, _)| *start < record_start);
        self.lines.get(index).map_or(self.line, |(_, number)| *number)
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        for &byte in &buffer[..read] {
            let at = self.offset;
            self.offset += 1;
            // The LF of a CRLF belongs to the line the CR already ended.
            let after_cr = std::mem::replace(&mut self.previous_was_cr, byte == b'\r');
            if byte == b'\n' && after_cr {
                continue;
            }
            if matches!(byte, b'\n' | b'\r') {
                self.line += 1;
                self.run = 0;
                if self.line > self.max_lines {
                    return Err(io::Error::other(CsvLimit::TooManyLines));
                }
                continue;
            }
            if self.run == 0 {
                self.lines.push((at, self.line));
            }
            self.run += 1;
            if self.run > self.max_line_bytes {
                return Err(io::Error::other(CsvLimit::LineTooLong));
            }
        }
        Ok(read)
    }
}

#[derive(Debug)]
enum CsvLimit {
    LineTooLong,
    TooManyLines,
}

impl std::fmt::Display for CsvLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CsvLimit::LineTooLong => "CSV line too long",
            CsvLimit::TooManyLines => "too many CSV lines",
        })
    }
}

impl std::error::Error for CsvLimit {}

fn csv_refusal(error: csv::Error) -> Refusal {
    let limit = match error.kind() {
        csv::ErrorKind::Io(io) => io.get_ref().and_then(|inner| inner.downcast_ref::<CsvLimit>()),
        _ => None,
    };
    match limit {
        Some(CsvLimit::LineTooLong) => Refusal::CsvLineTooLong,
        Some(CsvLimit::TooManyLines) => Refusal::SheetTooLarge,
        None => damaged("csv", &error),
    }
}

// ---------------------------------------------------------------------------
// Header row and column mapping

/// Known column names per field, normalised (see `normalise_header`). Korean
/// first, then English. "담당자" is the salesperson in charge (담당 영업), as
/// sales sheets use it; a customer's contact person is "고객 담당자".
const FIELD_NAMES: &[(ImportField, &[&str])] = &[
    (
        ImportField::AccountName,
        &[
            "고객사",
            "고객사명",
            "회사",
            "회사명",
            "업체",
            "업체명",
            "거래처",
            "거래처명",
            "상호",
            "법인명",
            "고객명",
            "account",
            "accountname",
            "company",
            "companyname",
            "customer",
            "customername",
        ],
    ),
    (
        ImportField::BusinessNumber,
        &[
            "사업자등록번호",
            "사업자번호",
            "사업자no",
            "사업자",
            "businessnumber",
            "businessno",
            "businessregistrationnumber",
            "brn",
            "bizno",
            "taxid",
        ],
    ),
    (ImportField::Industry, &["업종", "업태", "산업", "industry"]),
    (ImportField::CompanySize, &["규모", "기업규모", "직원수", "size", "companysize", "employees"]),
    (ImportField::Address, &["주소", "소재지", "사업장주소", "address"]),
    (ImportField::MainPhone, &["대표전화", "대표번호", "mainphone", "companyphone"]),
    (ImportField::Website, &["웹사이트", "홈페이지", "website", "homepage", "url", "web"]),
    (
        ImportField::Owner,
        &["담당자", "담당", "담당영업", "영업담당", "영업담당자", "owner", "accountowner", "dealowner", "salesrep"],
    ),
    (ImportField::Notes, &["메모", "비고", "참고", "특이사항", "notes", "note", "memo", "remarks", "comments"]),
    (
        ImportField::ContactName,
        &["고객담당자", "고객담당자명", "연락담당자", "담당자명", "성명", "contact", "contactname", "contactperson"],
    ),
    (ImportField::ContactTitle, &["직함", "직책", "직위", "title", "jobtitle", "position"]),
    (ImportField::Department, &["부서", "부서명", "department", "dept"]),
    (ImportField::Email, &["이메일", "메일", "전자우편", "email", "mail", "emailaddress"]),
    (
        ImportField::Phone,
        &["전화", "전화번호", "연락처", "휴대폰", "핸드폰", "휴대전화", "phone", "mobile", "tel", "telephone"],
    ),
    (ImportField::DealId, &["영업기회id", "딜id", "dealid", "opportunityid"]),
    (
        ImportField::DealName,
        &[
            "영업기회",
            "영업기회명",
            "딜",
            "딜명",
            "건명",
            "프로젝트",
            "프로젝트명",
            "사업명",
            "안건",
            "deal",
            "dealname",
            "opportunity",
            "opportunityname",
        ],
    ),
    (ImportField::Stage, &["단계", "진행단계", "영업단계", "stage", "dealstage", "status"]),
    (
        ImportField::Amount,
        &["금액", "예상금액", "거래금액", "매출", "예상매출", "amount", "value", "dealvalue", "dealamount"],
    ),
    (ImportField::Currency, &["통화", "화폐", "currency"]),
    (ImportField::Probability, &["확률", "수주확률", "성공확률", "가능성", "probability", "winprobability"]),
    (
        ImportField::CloseDate,
        &[
            "마감일",
            "예상마감일",
            "마감예정일",
            "수주예정일",
            "계약예정일",
            "예상계약일",
            "closedate",
            "expectedclosedate",
            "closingdate",
        ],
    ),
    (ImportField::Source, &["유입경로", "출처", "리드소스", "source", "leadsource"]),
    (ImportField::LostReason, &["실주사유", "실패사유", "lostreason"]),
    (ImportField::ContractTitle, &["계약명", "계약", "계약건명", "contract", "contracttitle", "contractname"]),
    (ImportField::ContractNumber, &["계약번호", "계약no", "contractno", "contractnumber", "contractnum"]),
    (ImportField::ContractStart, &["계약시작일", "시작일", "계약일", "계약개시일", "startdate", "contractstart"]),
    (
        ImportField::ContractEnd,
        &["계약종료일", "종료일", "만료일", "계약만료일", "enddate", "contractend", "expirydate"],
    ),
    (ImportField::ContractAmount, &["계약금액", "계약금", "contractvalue", "contractamount"]),
    (ImportField::BillingPeriod, &["청구주기", "청구", "결제주기", "billing", "billingperiod", "billingcycle"]),
    (ImportField::AutoRenew, &["자동갱신", "autorenew", "autorenewal"]),
    (ImportField::NoticeDays, &["해지통보기간", "통보기간", "해지통보", "noticedays", "noticeperiod"]),
    (ImportField::ContractStatus, &["계약상태", "contractstatus"]),
];

/// A header as compared: full-width to half-width, case-folded, spaces and
/// punctuation dropped, and bracketed units dropped ("금액 (원)", "Amount
/// [KRW]" and "금액" name the same column).
pub fn normalise_header(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0u32;
    for c in text.chars().map(to_half_width) {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// The field a header names, if any.
pub fn field_for_header(text: &str) -> Option<ImportField> {
    let name = normalise_header(text);
    if name.is_empty() {
        return None;
    }
    FIELD_NAMES.iter().find(|(_, names)| names.contains(&name.as_str())).map(|(field, _)| *field)
}

/// How many different fields a row's cells name.
fn matched_fields(row: &SheetRow) -> u32 {
    let mut fields: Vec<ImportField> = row.cells.iter().filter_map(|c| field_for_header(&c.to_text())).collect();
    fields.sort_by_key(|f| *f as u8);
    fields.dedup();
    fields.len() as u32
}

/// The first of the top non-blank rows whose filled cells mostly (at least
/// half, and at least two) name known fields. Title rows (one long cell, or a
/// merged title whose value sits in its first cell), notes and blank rows do
/// not. Failing that, the top row with any match that is at least half
/// matches; else `None`, and the user chooses.
pub fn detect_header(rows: &[SheetRow]) -> Option<HeaderRow> {
    let candidates: Vec<(u32, u32, u32)> = rows
        .iter()
        .filter(|row| !row.is_blank())
        .take(HEADER_SEARCH_ROWS)
        .map(|row| {
            let filled = row.cells.iter().filter(|c| !c.is_empty()).count() as u32;
            (row.number, matched_fields(row), filled)
        })
        .collect();
    let mostly = |min: u32| {
        candidates
            .iter()
            .find(|(_, matched, filled)| *matched >= min && matched * 2 >= *filled)
            .map(|(number, matched, _)| HeaderRow { number: *number, matched: *matched })
    };
    mostly(2).or_else(|| mostly(1))
}

/// A field for each header cell, by its name; each field goes to its first
/// column only, and unknown columns are ignored (`None`).
pub fn suggest_mapping(header: &SheetRow) -> Vec<ColumnMapping> {
    let mut used = Vec::new();
    header
        .cells
        .iter()
        .enumerate()
        .filter(|(_, cell)| !cell.is_empty())
        .map(|(column, cell)| {
            let text = cell.to_text().trim().to_string();
            let field = field_for_header(&text).filter(|f| !used.contains(f));
            if let Some(field) = field {
                used.push(field);
            }
            ColumnMapping { column: column as u32, header: text, field }
        })
        .collect()
}

#[cfg(test)]
mod tests;
