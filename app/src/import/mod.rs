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
    /// The sheet, by its position in the workbook (0 for a CSV).
    #[serde(default)]
    pub sheet: u32,
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
    /// A deal's SalesOps id, as an export writes it: matches that deal.
    DealId,
    DealName,
    Stage,
    Amount,
    Currency,
    Probability,
    CloseDate,
    Source,
    LostReason,
    ContractTitle,
    ContractNumber,
    ContractStart,
    ContractEnd,
    ContractAmount,
    BillingPeriod,
    AutoRenew,
    NoticeDays,
    ContractStatus,
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
            ImportField::DealId => T::ImportDealId,
            ImportField::DealName => T::DealName,
            ImportField::Stage => T::Stage,
            ImportField::Amount => T::Amount,
            ImportField::Currency => T::Currency,
            ImportField::Probability => T::Probability,
            ImportField::CloseDate => T::ExpectedCloseDate,
            ImportField::Source => T::Source,
            ImportField::LostReason => T::LostReason,
            ImportField::ContractTitle => T::ContractTitle,
            ImportField::ContractNumber => T::ContractNumber,
            ImportField::ContractStart => T::ImportContractStart,
            ImportField::ContractEnd => T::ImportContractEnd,
            ImportField::ContractAmount => T::ImportContractAmount,
            ImportField::BillingPeriod => T::BillingPeriod,
            ImportField::AutoRenew => T::AutoRenew,
            ImportField::NoticeDays => T::NoticeDays,
            ImportField::ContractStatus => T::ImportContractStatus,
        }
    }
}

impl ImportField {
    pub const ALL: [ImportField; 32] = [
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
        ImportField::DealId,
        ImportField::DealName,
        ImportField::Stage,
        ImportField::Amount,
        ImportField::Currency,
        ImportField::Probability,
        ImportField::CloseDate,
        ImportField::Source,
        ImportField::LostReason,
        ImportField::ContractTitle,
        ImportField::ContractNumber,
        ImportField::ContractStart,
        ImportField::ContractEnd,
        ImportField::ContractAmount,
        ImportField::BillingPeriod,
        ImportField::AutoRenew,
        ImportField::NoticeDays,
        ImportField::ContractStatus,
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
            ImportField::DealId => "deal_id",
            ImportField::DealName => "deal_name",
            ImportField::Stage => "stage",
            ImportField::Amount => "amount",
            ImportField::Currency => "currency",
            ImportField::Probability => "probability",
            ImportField::CloseDate => "close_date",
            ImportField::Source => "source",
            ImportField::LostReason => "lost_reason",
            ImportField::ContractTitle => "contract_title",
            ImportField::ContractNumber => "contract_number",
            ImportField::ContractStart => "contract_start",
            ImportField::ContractEnd => "contract_end",
            ImportField::ContractAmount => "contract_amount",
            ImportField::BillingPeriod => "billing_period",
            ImportField::AutoRenew => "auto_renew",
            ImportField::NoticeDays => "notice_days",
            ImportField::ContractStatus => "contract_status",
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
/// (as text; `ImportChoices::from_params` reads them). The form shows one
/// sheet at a time: `shown` names the sheet its `header`, `use_sheet` and
/// mapping belong to, `sheet` the sheet to show next, and `sheets` carries
/// every sheet's settings from page to page (so nothing is kept on the
/// server between two previews, and the pages work without JavaScript).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportParams {
    #[serde(default)]
    pub sheet: String,
    #[serde(default)]
    pub shown: String,
    /// `encode_sheets`' form.
    #[serde(default)]
    pub sheets: String,
    /// "yes" or "no": import the shown sheet.
    #[serde(default)]
    pub use_sheet: String,
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

/// One sheet's settings as the admin left them; what is `None` or missing
/// keeps what was detected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetChoice {
    /// By name; empty is the file's only (CSV) or first visible sheet.
    pub sheet: String,
    /// Import this sheet; by default a visible sheet with a header row is imported.
    #[serde(default)]
    pub import: Option<bool>,
    /// 1-based, as the sheet shows it.
    #[serde(default)]
    pub header_row: Option<u32>,
    /// Columns mapped by hand (column, field or `None` to ignore); the
    /// others keep the suggested field.
    #[serde(default)]
    pub mapping: Vec<(u32, Option<ImportField>)>,
    /// The header row's shape, recorded when the import runs: the key under
    /// which a later file of the same shape reuses this sheet's mapping.
    #[serde(default)]
    pub signature: Option<String>,
}

impl SheetChoice {
    /// The suggested mapping with these changes applied.
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

/// Workbooks with more sheets than this import their first ones only.
pub const MAX_SHEETS: usize = 20;

/// Everything the preview and the job need to read and map the file again:
/// what the admin chose, stored with the import when it is committed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportChoices {
    /// The sheet the page shows; by default the first one imported.
    #[serde(default)]
    pub shown: Option<String>,
    #[serde(default)]
    pub csv_encoding: Option<CsvEncoding>,
    #[serde(default)]
    pub csv_delimiter: Option<Delimiter>,
    /// Per sheet the admin touched; the others keep what was detected.
    #[serde(default)]
    pub sheets: Vec<SheetChoice>,
    /// The workbook's sheet names in order, recorded by the job so that the
    /// problems it stores (by sheet position) can name their sheet.
    #[serde(default)]
    pub sheet_names: Vec<String>,
    #[serde(default)]
    pub mode: ImportMode,
}

impl ImportChoices {
    /// From the preview's query (or the commit form's hidden fields): each
    /// value as the page wrote it; anything else is ignored, i.e. detected.
    pub fn from_params(params: &ImportParams) -> Self {
        let name = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty() && s.chars().count() <= 1000);
        let csv_encoding = match params.enc.as_str() {
            "UTF-8" => Some(CsvEncoding::Utf8),
            "UTF-16LE" => Some(CsvEncoding::Utf16Le),
            "UTF-16BE" => Some(CsvEncoding::Utf16Be),
            "EUC-KR" => Some(CsvEncoding::EucKr),
            _ => None,
        };
        let mut sheets = decode_sheets(&params.sheets);
        // The form's visible fields belong to `shown`; without one (a CSV's
        // only sheet has no name, a hand-written request may omit it) they
        // belong to the sheet the request names. The commit form sends none.
        let has_fields = !(params.header.is_empty() && params.mapping.is_empty() && params.use_sheet.is_empty());
        let form_sheet = match name(&params.shown) {
            Some(shown) => Some(shown),
            None if has_fields || params.sheets.is_empty() => Some(params.sheet.clone()),
            None => None,
        };
        if let Some(sheet) = form_sheet {
            let own = SheetChoice {
                import: match params.use_sheet.as_str() {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                },
                header_row: params.header.trim().parse::<u32>().ok().filter(|n| (1..=1_048_576).contains(n)),
                mapping: parse_mapping(&params.mapping),
                signature: None,
                sheet,
            };
            sheets.retain(|s| s.sheet != own.sheet);
            sheets.push(own);
        }
        ImportChoices {
            shown: name(&params.sheet).or_else(|| name(&params.shown)),
            csv_encoding,
            csv_delimiter: Delimiter::ALL.into_iter().find(|d| d.code() == params.delim),
            sheets,
            sheet_names: Vec::new(),
            mode: ImportMode::from_code(&params.mode).unwrap_or_default(),
        }
    }

    /// The admin's settings for this sheet (`default` is the name the file's
    /// first sheet answers to when the form left it empty).
    pub fn sheet(&self, name: &str, default: &str) -> SheetChoice {
        self.sheets
            .iter()
            .find(|s| s.sheet == name)
            .or_else(|| self.sheets.iter().find(|s| s.sheet.is_empty() && name == default))
            .cloned()
            .map(|s| SheetChoice { sheet: name.to_string(), ..s })
            .unwrap_or_else(|| SheetChoice { sheet: name.to_string(), ..SheetChoice::default() })
    }

    /// What the reader needs for one sheet.
    pub fn read_choice(&self, sheet: Option<&str>, header_row: Option<u32>) -> ReadChoice {
        ReadChoice {
            sheet: sheet.filter(|s| !s.is_empty()).map(str::to_string),
            header_row,
            csv_encoding: self.csv_encoding.clone(),
            csv_delimiter: self.csv_delimiter,
        }
    }
}

/// Every sheet's settings as one form value (JSON: sheet names may hold any
/// character). A value that does not parse is ignored: the detected settings stand.
pub fn encode_sheets(sheets: &[SheetChoice]) -> String {
    serde_json::to_string(sheets).unwrap_or_default()
}

pub fn decode_sheets(raw: &str) -> Vec<SheetChoice> {
    // Bounded before parsing: a query can be long, a workbook's settings are not.
    if raw.is_empty() || raw.len() > 256 * 1024 {
        return Vec::new();
    }
    let mut sheets: Vec<SheetChoice> = serde_json::from_str(raw).unwrap_or_default();
    sheets.truncate(MAX_SHEETS);
    for s in &mut sheets {
        s.mapping.retain(|(c, _)| *c < 16_384);
        s.mapping.truncate(16_384);
        s.header_row = s.header_row.filter(|n| (1..=1_048_576).contains(n));
        // Recorded by the job only.
        s.signature = None;
    }
    sheets.retain(|s| s.sheet.chars().count() <= 1000);
    sheets
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
    #[serde(default)]
    pub contract: ChangeCounts,
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

/// One sheet of the workbook as the preview sums it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetSummary {
    pub name: String,
    pub hidden: bool,
    /// Imported with the current settings.
    pub imported: bool,
    pub header: Option<HeaderRow>,
    pub data_rows: u32,
    pub invalid_rows: u32,
    pub problems: u32,
    /// The sheet could not be read (and is not imported).
    pub refusal: Option<Refusal>,
}

/// A problem of one sheet as a whole (no account column mapped, no header row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetProblem {
    pub sheet: u32,
    pub problem: T,
}

/// The preview of an uploaded file with the current choices applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub import: ImportSummary,
    /// The file could not be read at all (and why).
    pub refusal: Option<Refusal>,
    pub format: Option<FileFormat>,
    /// Every sheet of the workbook, in order (one for a CSV).
    pub sheets: Vec<SheetSummary>,
    /// The sheet shown, by name, and its position in `sheets`.
    pub sheet: String,
    pub shown: u32,
    /// Every sheet's settings as they stand, for the forms to carry on.
    pub settings: Vec<SheetChoice>,
    pub csv: Option<CsvSettings>,
    /// The shown sheet's header row and mapping.
    pub header: Option<HeaderRow>,
    pub mapping: Vec<ColumnMapping>,
    pub mode: ImportMode,
    /// Data rows below the header, over every imported sheet.
    pub data_rows: u32,
    /// Of which rows with at least one problem.
    pub invalid_rows: u32,
    pub problem_count: u32,
    pub file_problems: Vec<SheetProblem>,
    /// One page of the problems, by sheet, row, then column.
    pub problems: Vec<CellProblem>,
    pub problem_page: u32,
    /// The shown sheet's first data rows, to check the mapping against.
    pub sample: Vec<SheetRow>,
    /// Nothing stops a commit (with skip-invalid, problems do not).
    pub can_commit: bool,
    /// The shown sheet's mapping was taken over from this earlier file of the same shape.
    pub mapping_from: Option<String>,
}

/// The rows a finished import left out, and the workbook's sheet names
/// (more than one: the problems name their sheet).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredProblems {
    pub problems: Vec<CellProblem>,
    pub sheet_names: Vec<String>,
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

    #[test]
    fn the_form_fields_belong_to_the_shown_sheet_and_the_others_ride_along() {
        let deals = SheetChoice {
            sheet: "영업기회".into(),
            import: Some(true),
            header_row: Some(2),
            mapping: vec![(0, Some(ImportField::DealName))],
            signature: Some("sent by a browser".into()),
        };
        let params = ImportParams {
            sheet: "영업기회".into(),
            shown: "고객사".into(),
            sheets: encode_sheets(std::slice::from_ref(&deals)),
            use_sheet: "no".into(),
            header: "3".into(),
            mapping: "0=account_name;1=".into(),
            ..ImportParams::default()
        };
        let choices = ImportChoices::from_params(&params);
        assert_eq!(choices.shown.as_deref(), Some("영업기회"), "the sheet to show next");
        let accounts = choices.sheet("고객사", "고객사");
        assert_eq!(accounts.import, Some(false));
        assert_eq!(accounts.header_row, Some(3));
        assert_eq!(accounts.mapping, vec![(0, Some(ImportField::AccountName)), (1, None)]);
        let carried = choices.sheet("영업기회", "고객사");
        assert_eq!(carried.mapping, deals.mapping, "the other sheet's settings are kept");
        assert_eq!(carried.signature, None, "only the job records a shape");

        // A single-sheet form names no `shown`: its fields are the sheet's.
        let single = ImportChoices::from_params(&ImportParams { header: "4".into(), ..ImportParams::default() });
        assert_eq!(single.sheet("", "").header_row, Some(4));
        assert_eq!(single.sheet("Sheet1", "Sheet1").header_row, Some(4), "empty names the first sheet");
        // A CSV's page: its one sheet has no name, and the form still counts.
        let csv = ImportChoices::from_params(&ImportParams {
            sheets: encode_sheets(&[SheetChoice { header_row: Some(1), ..SheetChoice::default() }]),
            header: "2".into(),
            mapping: "0=notes".into(),
            ..ImportParams::default()
        });
        assert_eq!(csv.sheets.len(), 1);
        assert_eq!((csv.sheets[0].header_row, csv.sheets[0].mapping[0]), (Some(2), (0, Some(ImportField::Notes))));
        // Garbage is ignored, never an error.
        assert_eq!(decode_sheets("[{"), Vec::new());
        assert_eq!(decode_sheets(&"x".repeat(300 * 1024)), Vec::new());
    }

    #[test]
    fn choices_rewritten_by_migration_9_still_read() {
        // What migration 9 makes of a one-sheet import's stored choices.
        let stored = r#"{"mode": "SkipInvalid", "shown": null, "sheets": [{"sheet": "", "import": true,
            "mapping": [[0, "AccountName"], [1, null]], "signature": "sig", "header_row": 2}],
            "sheet_names": [], "csv_encoding": "EucKr", "csv_delimiter": "Tab"}"#;
        let choices: ImportChoices = serde_json::from_str(stored).expect("the rewritten choices decode");
        assert_eq!(choices.mode, ImportMode::SkipInvalid);
        assert_eq!(choices.csv_encoding, Some(CsvEncoding::EucKr));
        let sheet = choices.sheet("Sheet1", "Sheet1");
        assert_eq!((sheet.header_row, sheet.mapping[0]), (Some(2), (0, Some(ImportField::AccountName))));
        assert_eq!(sheet.signature.as_deref(), Some("sig"));
    }
}
