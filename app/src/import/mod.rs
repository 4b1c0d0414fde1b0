//! Spreadsheet import (issue 10): what the preview pages show about an uploaded
//! file, i.e. its format, its sheets, the header row found, the columns' suggested
//! fields and every problem by row and column. These types travel to the
//! browser; the reading itself is server-only (`read`), so no reader, decoder
//! or zip code reaches the WASM bundle.
//!
//! The import will reach into every domain's validated values; those live in
//! `kit` (`crate::domain`), not in the domains, so this domain still uses no
//! other domain.

pub mod api;
#[cfg(feature = "ssr")]
pub mod check;
#[cfg(feature = "ssr")]
pub mod read;
#[cfg(feature = "ssr")]
pub mod server;
pub mod views;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::i18n::T;

/// What an upload turned out to be, by its bytes (never by its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileFormat {
    Xlsx,
    /// Xlsx with macros; the macros are never read.
    Xlsm,
    Xlsb,
    /// Excel 97-2003.
    Xls,
    Ods,
    /// Delimited text: CSV, TSV, Excel's "Unicode text".
    Csv,
}

impl FileFormat {
    /// Formats whose readers load every sheet in full when the file opens,
    /// which is why they get a lower size limit.
    pub fn is_read_whole(self) -> bool {
        matches!(self, FileFormat::Xls | FileFormat::Ods)
    }

    pub fn label(self) -> &'static str {
        match self {
            FileFormat::Xlsx => "xlsx",
            FileFormat::Xlsm => "xlsm",
            FileFormat::Xlsb => "xlsb",
            FileFormat::Xls => "xls",
            FileFormat::Ods => "ods",
            FileFormat::Csv => "csv",
        }
    }
}

/// Why a whole file is not read. Each has its message in both languages;
/// none says more about the file than the user already knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    #[error("empty file")]
    EmptyFile,
    #[error("file too large")]
    FileTooLarge,
    #[error("xls/ods file too large for a whole-file reader")]
    LegacyFileTooLarge,
    #[error("not a spreadsheet")]
    NotSpreadsheet,
    #[error("damaged or truncated file")]
    Damaged,
    #[error("password-protected")]
    PasswordProtected,
    #[error("compression bomb")]
    CompressionBomb,
    #[error("sheet too large")]
    SheetTooLarge,
    #[error("too many cells")]
    TooManyCells,
    #[error("cell text too long")]
    CellTooLong,
    #[error("CSV line too long")]
    CsvLineTooLong,
    #[error("no such sheet")]
    SheetNotFound,
    #[error("no sheets")]
    NoSheets,
    #[error("unsupported text encoding")]
    UnsupportedEncoding,
}

impl Refusal {
    const ALL: [Refusal; 14] = [
        Refusal::EmptyFile,
        Refusal::FileTooLarge,
        Refusal::LegacyFileTooLarge,
        Refusal::NotSpreadsheet,
        Refusal::Damaged,
        Refusal::PasswordProtected,
        Refusal::CompressionBomb,
        Refusal::SheetTooLarge,
        Refusal::TooManyCells,
        Refusal::CellTooLong,
        Refusal::CsvLineTooLong,
        Refusal::SheetNotFound,
        Refusal::NoSheets,
        Refusal::UnsupportedEncoding,
    ];

    /// For a redirect's query (the upload route refuses before storing anything).
    pub fn code(self) -> String {
        format!("{self:?}")
    }

    pub fn from_code(code: &str) -> Option<Refusal> {
        Refusal::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn message(self) -> T {
        match self {
            Refusal::EmptyFile => T::ImportEmptyFile,
            Refusal::FileTooLarge => T::ImportFileTooLarge,
            Refusal::LegacyFileTooLarge => T::ImportLegacyFileTooLarge,
            Refusal::NotSpreadsheet => T::ImportNotSpreadsheet,
            Refusal::Damaged => T::ImportDamagedFile,
            Refusal::PasswordProtected => T::ImportPasswordProtected,
            Refusal::CompressionBomb => T::ImportCompressionBomb,
            Refusal::SheetTooLarge => T::ImportSheetTooLarge,
            Refusal::TooManyCells => T::ImportTooManyCells,
            Refusal::CellTooLong => T::ImportCellTooLong,
            Refusal::CsvLineTooLong => T::ImportCsvLineTooLong,
            Refusal::SheetNotFound => T::ImportSheetNotFound,
            Refusal::NoSheets => T::ImportNoSheets,
            Refusal::UnsupportedEncoding => T::ImportUnsupportedEncoding,
        }
    }
}

/// A sheet the user can choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetInfo {
    pub name: String,
    /// Hidden sheets are listed (old workbooks hide their data sheets too) but
    /// never chosen by default.
    pub hidden: bool,
}

/// A CSV's text encoding, detected or chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CsvEncoding {
    Utf8,
    /// Excel's "Unicode text" (always with a byte-order mark).
    Utf16Le,
    Utf16Be,
    /// What Excel on Korean Windows writes. WHATWG's EUC-KR is windows-949, so
    /// it decodes CP949's extra syllables too.
    EucKr,
    /// Any other WHATWG encoding label the detector or the user named.
    Other(String),
}

impl CsvEncoding {
    pub fn label(&self) -> &str {
        match self {
            CsvEncoding::Utf8 => "UTF-8",
            CsvEncoding::Utf16Le => "UTF-16LE",
            CsvEncoding::Utf16Be => "UTF-16BE",
            CsvEncoding::EucKr => "EUC-KR",
            CsvEncoding::Other(label) => label,
        }
    }
}

/// A CSV's field separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delimiter {
    Comma,
    Tab,
    Semicolon,
    Pipe,
}

impl Delimiter {
    pub const ALL: [Delimiter; 4] = [Delimiter::Comma, Delimiter::Tab, Delimiter::Semicolon, Delimiter::Pipe];

    pub fn code(self) -> &'static str {
        match self {
            Delimiter::Comma => "comma",
            Delimiter::Tab => "tab",
            Delimiter::Semicolon => "semicolon",
            Delimiter::Pipe => "pipe",
        }
    }

    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Tab => b'\t',
            Delimiter::Semicolon => b';',
            Delimiter::Pipe => b'|',
        }
    }
}

/// How a CSV was read: what was detected, or what the user chose instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvSettings {
    pub encoding: CsvEncoding,
    pub delimiter: Delimiter,
}

/// The user's choices on the preview page; `None` means "detect it".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadChoice {
    /// The sheet by name; by default the first visible one.
    pub sheet: Option<String>,
    /// The header row by its number as the sheet shows it (1-based).
    pub header_row: Option<u32>,
    pub csv_encoding: Option<CsvEncoding>,
    pub csv_delimiter: Option<Delimiter>,
}

/// One cell's value as the file holds it, before any field's parsing.
/// Text is kept exactly as text, whatever it looks like (markup, script,
/// `=cmd|…`): it is stored as text and always rendered escaped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CellValue {
    Empty,
    Text(String),
    /// Numbers, including date serials in cells without a date format and
    /// times of day.
    Number(f64),
    Bool(bool),
    /// A date cell (or an ODS date); the time of day is dropped, as every date
    /// field of ours is a day.
    Date(#[serde(with = "crate::domain::iso_date")] NaiveDate),
    /// An error value such as `#DIV/0!` (also reported as a problem).
    Error(String),
}

impl CellValue {
    pub fn is_empty(&self) -> bool {
        match self {
            CellValue::Empty => true,
            CellValue::Text(text) => text.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as a field's text parser takes it. Whole numbers lose the
    /// ".0" a float would print, so a business number or an amount stored as
    /// a number reads as its digits.
    pub fn to_text(&self) -> String {
        match self {
            CellValue::Empty => String::new(),
            CellValue::Text(text) => text.clone(),
            CellValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            CellValue::Number(n) => n.to_string(),
            CellValue::Bool(b) => b.to_string(),
            // By hand: chrono's strftime engine would join the browser bundle.
            CellValue::Date(d) => {
                use chrono::Datelike;
                format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
            }
            CellValue::Error(e) => e.clone(),
        }
    }
}

/// One row as the sheet numbers it (1-based, blank rows keep their numbers
/// so problems point at the row the user sees in Excel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SheetRow {
    pub number: u32,
    /// By column, from column A; trailing empty cells are not kept.
    pub cells: Vec<CellValue>,
}

impl SheetRow {
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(CellValue::is_empty)
    }
}

/// A problem with one cell, shown at its row and column before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellProblem {
    /// 1-based, as the sheet shows it.
    pub row: u32,
    /// 0-based; `column_name` gives the letters the sheet shows.
    pub column: u32,
    pub problem: T,
}

/// A column's letters as spreadsheets show them: 0 → A, 25 → Z, 26 → AA.
pub fn column_name(column: u32) -> String {
    let mut n = u64::from(column) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rest = (n - 1) % 26;
        letters.push(char::from(b'A' + rest as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// The fields a column can be imported into, across accounts, contacts and deals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImportField {
    AccountName,
    BusinessNumber,
    Industry,
    CompanySize,
    Address,
    MainPhone,
    Website,
    Owner,
    Notes,
    ContactName,
    ContactTitle,
    Department,
    Email,
    Phone,
    DealName,
    Stage,
    Amount,
    Currency,
    Probability,
    CloseDate,
    Source,
    LostReason,
}

impl ImportField {
    pub fn label(self) -> T {
        match self {
            ImportField::AccountName => T::AccountName,
            ImportField::BusinessNumber => T::BusinessNumber,
            ImportField::Industry => T::Industry,
            ImportField::CompanySize => T::CompanySize,
            ImportField::Address => T::Address,
            ImportField::MainPhone => T::MainPhone,
            ImportField::Website => T::Website,
            ImportField::Owner => T::Owner,
            ImportField::Notes => T::Notes,
            ImportField::ContactName => T::ContactName,
            ImportField::ContactTitle => T::Title,
            ImportField::Department => T::Department,
            ImportField::Email => T::Email,
            ImportField::Phone => T::Phone,
            ImportField::DealName => T::DealName,
            ImportField::Stage => T::Stage,
            ImportField::Amount => T::Amount,
            ImportField::Currency => T::Currency,
            ImportField::Probability => T::Probability,
            ImportField::CloseDate => T::ExpectedCloseDate,
            ImportField::Source => T::Source,
            ImportField::LostReason => T::LostReason,
        }
    }
}

impl ImportField {
    pub const ALL: [ImportField; 22] = [
        ImportField::AccountName,
        ImportField::BusinessNumber,
        ImportField::Industry,
        ImportField::CompanySize,
        ImportField::Address,
        ImportField::MainPhone,
        ImportField::Website,
        ImportField::Owner,
        ImportField::Notes,
        ImportField::ContactName,
        ImportField::ContactTitle,
        ImportField::Department,
        ImportField::Email,
        ImportField::Phone,
        ImportField::DealName,
        ImportField::Stage,
        ImportField::Amount,
        ImportField::Currency,
        ImportField::Probability,
        ImportField::CloseDate,
        ImportField::Source,
        ImportField::LostReason,
    ];

    /// The field's name in forms and URLs.
    pub fn code(self) -> &'static str {
        match self {
            ImportField::AccountName => "account_name",
            ImportField::BusinessNumber => "business_number",
            ImportField::Industry => "industry",
            ImportField::CompanySize => "company_size",
            ImportField::Address => "address",
            ImportField::MainPhone => "main_phone",
            ImportField::Website => "website",
            ImportField::Owner => "owner",
            ImportField::Notes => "notes",
            ImportField::ContactName => "contact_name",
            ImportField::ContactTitle => "contact_title",
            ImportField::Department => "department",
            ImportField::Email => "email",
            ImportField::Phone => "phone",
            ImportField::DealName => "deal_name",
            ImportField::Stage => "stage",
            ImportField::Amount => "amount",
            ImportField::Currency => "currency",
            ImportField::Probability => "probability",
            ImportField::CloseDate => "close_date",
            ImportField::Source => "source",
            ImportField::LostReason => "lost_reason",
        }
    }

    pub fn from_code(code: &str) -> Option<ImportField> {
        ImportField::ALL.into_iter().find(|f| f.code() == code)
    }
}

/// What happens to rows with a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ImportMode {
    /// Any problem and nothing is written.
    #[default]
    AllOrNothing,
    /// Rows with a problem are left out (and listed); the rest are written.
    SkipInvalid,
}

impl ImportMode {
    pub fn code(self) -> &'static str {
        match self {
            ImportMode::AllOrNothing => "all-or-nothing",
            ImportMode::SkipInvalid => "skip-invalid",
        }
    }

    pub fn from_code(code: &str) -> Option<ImportMode> {
        [ImportMode::AllOrNothing, ImportMode::SkipInvalid].into_iter().find(|m| m.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportStatus {
    /// Uploaded, being previewed; nothing written.
    Uploaded,
    Queued,
    Running,
    Committed,
    /// Nothing of it was written.
    Failed,
    Undone,
}

impl ImportStatus {
    pub fn code(self) -> &'static str {
        match self {
            ImportStatus::Uploaded => "uploaded",
            ImportStatus::Queued => "queued",
            ImportStatus::Running => "running",
            ImportStatus::Committed => "committed",
            ImportStatus::Failed => "failed",
            ImportStatus::Undone => "undone",
        }
    }

    pub fn from_code(code: &str) -> Option<ImportStatus> {
        [
            ImportStatus::Uploaded,
            ImportStatus::Queued,
            ImportStatus::Running,
            ImportStatus::Committed,
            ImportStatus::Failed,
            ImportStatus::Undone,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    pub fn label(self) -> T {
        match self {
            ImportStatus::Uploaded => T::ImportStatusUploaded,
            ImportStatus::Queued => T::ImportStatusQueued,
            ImportStatus::Running => T::ImportStatusRunning,
            ImportStatus::Committed => T::ImportStatusCommitted,
            ImportStatus::Failed => T::ImportStatusFailed,
            ImportStatus::Undone => T::ImportStatusUndone,
        }
    }

    /// Still to finish: the page refreshes itself.
    pub fn in_progress(self) -> bool {
        matches!(self, ImportStatus::Queued | ImportStatus::Running)
    }
}

/// The admin's choices as the preview's form and the commit form send them
/// (as text; `ImportChoices::from_params` reads them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportParams {
    #[serde(default)]
    pub sheet: String,
    #[serde(default)]
    pub header: String,
    #[serde(default)]
    pub enc: String,
    #[serde(default)]
    pub delim: String,
    /// `encode_mapping`'s form.
    #[serde(default)]
    pub mapping: String,
    #[serde(default)]
    pub mode: String,
}

/// Everything the preview and the job need to read and map the file again:
/// what the admin chose, stored with the import when it is committed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportChoices {
    pub read: ReadChoice,
    /// Columns the admin mapped by hand (column, field or `None` to ignore);
    /// the others keep the suggested field.
    pub mapping: Vec<(u32, Option<ImportField>)>,
    pub mode: ImportMode,
}

impl ImportChoices {
    /// From the preview's query (or the commit form's hidden fields): each
    /// value as the page wrote it; anything else is ignored, i.e. detected.
    pub fn from_params(params: &ImportParams) -> Self {
        let sheet = Some(params.sheet.clone()).filter(|s| !s.is_empty() && s.chars().count() <= 200);
        let header_row = params.header.trim().parse::<u32>().ok().filter(|n| (1..=1_048_576).contains(n));
        let csv_encoding = match params.enc.as_str() {
            "UTF-8" => Some(CsvEncoding::Utf8),
            "UTF-16LE" => Some(CsvEncoding::Utf16Le),
            "UTF-16BE" => Some(CsvEncoding::Utf16Be),
            "EUC-KR" => Some(CsvEncoding::EucKr),
            _ => None,
        };
        let csv_delimiter = Delimiter::ALL.into_iter().find(|d| d.code() == params.delim);
        ImportChoices {
            read: ReadChoice { sheet, header_row, csv_encoding, csv_delimiter },
            mapping: parse_mapping(&params.mapping),
            mode: ImportMode::from_code(&params.mode).unwrap_or_default(),
        }
    }

    /// The suggested mapping with the admin's changes applied.
    pub fn apply(&self, suggested: &[ColumnMapping]) -> Vec<ColumnMapping> {
        suggested
            .iter()
            .map(|m| match self.mapping.iter().find(|(c, _)| *c == m.column) {
                Some((_, field)) => ColumnMapping { field: *field, ..m.clone() },
                None => m.clone(),
            })
            .collect()
    }
}

/// A mapping as one form value: `0=account_name;1=;3=deal_name` (empty is
/// "ignore this column").
pub fn encode_mapping(mapping: &[ColumnMapping]) -> String {
    mapping
        .iter()
        .map(|m| format!("{}={}", m.column, m.field.map(ImportField::code).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(";")
}

/// The mapping a form sent; unreadable parts are ignored (the suggestion stands).
pub fn parse_mapping(raw: &str) -> Vec<(u32, Option<ImportField>)> {
    raw.split(';')
        .filter_map(|part| {
            let (column, code) = part.split_once('=')?;
            let column = column.trim().parse::<u32>().ok().filter(|c| *c < 16_384)?;
            match code.trim() {
                "" => Some((column, None)),
                code => ImportField::from_code(code).map(|f| (column, Some(f))),
            }
        })
        .take(16_384)
        .collect()
}

/// Created, updated and unchanged records of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCounts {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
}

/// What an import wrote, per kind of record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    #[serde(default)]
    pub account: ChangeCounts,
    #[serde(default)]
    pub contact: ChangeCounts,
    #[serde(default)]
    pub deal: ChangeCounts,
}

/// One import as the history lists it and its page heads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub id: Uuid,
    pub file_name: String,
    pub file_size: i32,
    pub status: ImportStatus,
    pub mode: Option<ImportMode>,
    pub counts: ImportCounts,
    pub skipped: i32,
    pub rows_read: i32,
    pub rows_checked: i32,
    pub rows_written: i32,
    /// Why it failed, when it did.
    pub error: Option<T>,
    pub created_by: String,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub finished_at: Option<DateTime<Utc>>,
    pub undone_by: Option<String>,
}

/// Problems shown per page of the preview.
pub const PROBLEMS_PER_PAGE: usize = 100;

/// The preview of an uploaded file with the current choices applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub import: ImportSummary,
    /// The file could not be read at all (and why).
    pub refusal: Option<Refusal>,
    pub format: Option<FileFormat>,
    pub sheets: Vec<SheetInfo>,
    pub sheet: String,
    pub csv: Option<CsvSettings>,
    pub header: Option<HeaderRow>,
    pub mapping: Vec<ColumnMapping>,
    pub mode: ImportMode,
    /// Data rows below the header.
    pub data_rows: u32,
    /// Of which rows with at least one problem.
    pub invalid_rows: u32,
    pub problem_count: u32,
    /// Problems of the file as a whole (no account column mapped, …).
    pub file_problems: Vec<T>,
    /// One page of the problems, by row then column.
    pub problems: Vec<CellProblem>,
    pub problem_page: u32,
    /// The first data rows as text, to check the mapping against.
    pub sample: Vec<SheetRow>,
    /// Nothing stops a commit (with skip-invalid, problems do not).
    pub can_commit: bool,
    /// The mapping was taken over from this earlier file of the same shape.
    pub mapping_from: Option<String>,
}

/// Undo refused: these records were changed after the import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditedSince {
    pub entity: String,
    pub id: Uuid,
    pub name: String,
}

/// The header row found (or chosen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderRow {
    /// 1-based, as the sheet shows it.
    pub number: u32,
    /// How many of its cells name a known field.
    pub matched: u32,
}

/// One column of the header row and the field suggested for it; `None` is
/// "ignore this column".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub column: u32,
    pub header: String,
    pub field: Option<ImportField>,
}

/// A sheet read for the preview: everything the next steps (mapping,
/// validation, commit) start from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SheetRead {
    pub format: FileFormat,
    pub sheets: Vec<SheetInfo>,
    /// The sheet read.
    pub sheet: String,
    /// For CSV: the encoding and delimiter used.
    pub csv: Option<CsvSettings>,
    /// The workbook counts date serials from 1904 (see `date_from_excel_serial`).
    pub epoch_1904: bool,
    /// The rows holding a value (or a problem), in sheet order; blank rows
    /// are left out and keep their numbers.
    pub rows: Vec<SheetRow>,
    /// Problems found while reading (formulas without a value, error values,
    /// undecodable text); field validation adds its own later.
    pub problems: Vec<CellProblem>,
    /// `None` when no row looks like a header: the user chooses one.
    pub header: Option<HeaderRow>,
    /// One entry per header cell.
    pub mapping: Vec<ColumnMapping>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_as_sheets_show_them() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16_383), "XFD");
    }

    #[test]
    fn whole_numbers_read_as_their_digits() {
        assert_eq!(CellValue::Number(2_208_162_517.0).to_text(), "2208162517");
        assert_eq!(CellValue::Number(0.4).to_text(), "0.4");
        let day = NaiveDate::from_ymd_opt(2022, 12, 31).expect("date");
        assert_eq!(CellValue::Date(day).to_text(), "2022-12-31");
    }

    #[test]
    fn refusals_and_values_travel_to_the_browser() {
        let json = serde_json::to_string(&Refusal::CompressionBomb).expect("encode");
        assert_eq!(serde_json::from_str::<Refusal>(&json).expect("decode"), Refusal::CompressionBomb);
        let day = NaiveDate::from_ymd_opt(2022, 12, 31).expect("date");
        let json = serde_json::to_string(&CellValue::Date(day)).expect("encode");
        assert_eq!(json, r#"{"Date":"2022-12-31"}"#);
        assert_eq!(serde_json::from_str::<CellValue>(&json).expect("decode"), CellValue::Date(day));
    }
}
