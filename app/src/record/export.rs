//! Lists taken out to Excel: any list, as filtered and sorted on screen,
//! written as .csv (UTF-8 with a byte-order mark, so Korean Excel opens it as
//! UTF-8 rather than CP949) or .xlsx (real number and date cells, column
//! widths, a frozen header row). Rows arrive a batch at a time and leave at
//! once (the xlsx sheet through rust_xlsxwriter's constant-memory mode, one
//! row at a time to a temporary file), so an export of a million rows never
//! holds them in memory.

use std::io::Write;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};

use crate::error::AppError;
use crate::i18n::{in_seoul, Lang, T};

/// How many rows one query of an export reads (one list call each).
pub const EXPORT_BATCH: i64 = 1_000;

/// The most data rows one xlsx sheet holds (Excel's 1,048,576 less the header).
pub const XLSX_MAX_ROWS: u32 = 1_048_575;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn from_param(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// One column: its header (in the user's language) and its width in
/// Excel's character units.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: T,
    pub width: f64,
}

/// One value, typed so the xlsx cell is a number or a date where it is one.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// An amount in its currency (KRW has no minor unit).
    Money(Decimal, String),
    Int(i64),
    Date(NaiveDate),
    /// Shown in Seoul time, to the minute, as on the pages.
    Time(DateTime<Utc>),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    pub fn opt_text(s: Option<&str>) -> Self {
        s.map_or(Cell::Empty, |s| Cell::Text(s.to_string()))
    }
}

/// A text cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or
/// a tab or carriage return first) gets an apostrophe in front, so opening
/// the CSV runs nothing (OWASP's advice for CSV injection).
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

fn money_text(amount: Decimal, currency: &str) -> String {
    let scale = if currency == "KRW" { 0 } else { 2 };
    amount.round_dp(scale).to_string()
}

/// Writes one sheet of rows in either format.
pub struct SheetWriter<W: Write + Send> {
    inner: Inner<W>,
}

enum Inner<W: Write + Send> {
    Csv(Box<csv::Writer<W>>),
    Xlsx(Box<XlsxSheet<W>>),
}

struct XlsxSheet<W> {
    book: Workbook,
    out: W,
    row: u32,
    formats: XlsxFormats,
}

struct XlsxFormats {
    header: Format,
    date: Format,
    time: Format,
    won: Format,
    cents: Format,
    int: Format,
}

fn xlsx_error(e: XlsxError) -> AppError {
    tracing::error!(error = %e, "xlsx export failed");
    AppError::Internal
}

fn io_error(e: impl std::fmt::Display) -> AppError {
    // The browser went away or the disk is full: nothing to tell anyone.
    tracing::warn!(error = %e, "export stopped");
    AppError::Internal
}

impl<W: Write + Send> SheetWriter<W> {
    /// Starts the file with its header row.
    pub fn new(format: ExportFormat, sheet: &str, columns: &[Column], lang: Lang, out: W) -> Result<Self, AppError> {
        let inner = match format {
            ExportFormat::Csv => {
                let mut out = out;
                out.write_all("\u{feff}".as_bytes()).map_err(io_error)?;
                let mut csv = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
                csv.write_record(columns.iter().map(|c| c.header.text(lang))).map_err(io_error)?;
                Inner::Csv(Box::new(csv))
            }
            ExportFormat::Xlsx => {
                let mut book = Workbook::new();
                let formats = XlsxFormats {
                    header: Format::new().set_bold().set_align(FormatAlign::Center),
                    date: Format::new().set_num_format("yyyy-mm-dd"),
                    time: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
                    won: Format::new().set_num_format("#,##0"),
                    cents: Format::new().set_num_format("#,##0.00"),
                    int: Format::new().set_num_format("#,##0"),
                };
                let ws = book.add_worksheet_with_constant_memory().map_err(xlsx_error)?;
                ws.set_name(sheet).map_err(xlsx_error)?;
                ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
                for (i, c) in columns.iter().enumerate() {
                    ws.set_column_width(i as u16, c.width).map_err(xlsx_error)?;
                    ws.write_string_with_format(0, i as u16, c.header.text(lang), &formats.header)
                        .map_err(xlsx_error)?;
                }
                Inner::Xlsx(Box::new(XlsxSheet { book, out, row: 0, formats }))
            }
        };
        Ok(Self { inner })
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<(), AppError> {
        match &mut self.inner {
            Inner::Csv(csv) => {
                let fields = cells.iter().map(|c| match c {
                    Cell::Text(s) => neutralise(s).into_owned(),
                    Cell::Money(amount, currency) => money_text(*amount, currency),
                    Cell::Int(n) => n.to_string(),
                    Cell::Date(d) => d.to_string(),
                    Cell::Time(at) => in_seoul(*at).format("%Y-%m-%d %H:%M").to_string(),
                    Cell::Empty => String::new(),
                });
                csv.write_record(fields).map_err(io_error)
            }
            Inner::Xlsx(x) => {
                let XlsxSheet { book, row, formats, .. } = &mut **x;
                if *row >= XLSX_MAX_ROWS {
                    return Err(AppError::BadRequest);
                }
                *row += 1;
                let ws = book.worksheet_from_index(0).map_err(xlsx_error)?;
                for (i, cell) in cells.iter().enumerate() {
                    let col = i as u16;
                    match cell {
                        // A string cell is never a formula in xlsx, whatever it starts with.
                        Cell::Text(s) => ws.write_string(*row, col, s).map(|_| ()),
                        // xlsx holds every number as a binary float; amounts of up to
                        // 15 significant digits come back exactly.
                        Cell::Money(amount, currency) => {
                            let format = if currency == "KRW" { &formats.won } else { &formats.cents };
                            ws.write_number_with_format(*row, col, amount.to_f64().unwrap_or_default(), format)
                                .map(|_| ())
                        }
                        Cell::Int(n) => ws.write_number_with_format(*row, col, *n as f64, &formats.int).map(|_| ()),
                        Cell::Date(d) => excel_date(*d, 0, 0)
                            .and_then(|x| ws.write_datetime_with_format(*row, col, &x, &formats.date).map(|_| ())),
                        Cell::Time(at) => {
                            let local = in_seoul(*at);
                            excel_date(local.date(), local.hour() as u16, local.minute() as u8)
                                .and_then(|x| ws.write_datetime_with_format(*row, col, &x, &formats.time).map(|_| ()))
                        }
                        Cell::Empty => Ok(()),
                    }
                    .map_err(xlsx_error)?;
                }
                Ok(())
            }
        }
    }

    /// Ends the file: the CSV is flushed, the xlsx zipped into `out`.
    pub fn finish(self) -> Result<(), AppError> {
        match self.inner {
            Inner::Csv(csv) => {
                let mut out = (*csv).into_inner().map_err(|e| io_error(e.error()))?;
                out.flush().map_err(io_error)
            }
            Inner::Xlsx(x) => {
                let XlsxSheet { mut book, mut out, .. } = *x;
                book.save_to_writer(&mut out).map_err(xlsx_error)?;
                out.flush().map_err(io_error)
            }
        }
    }
}

fn excel_date(d: NaiveDate, hour: u16, minute: u8) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?.and_hms(hour, minute, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 4] = [
        Column { header: T::AccountName, width: 30.0 },
        Column { header: T::Amount, width: 14.0 },
        Column { header: T::ExpectedCloseDate, width: 12.0 },
        Column { header: T::UpdatedAt, width: 16.0 },
    ];

    fn rows() -> Vec<Vec<Cell>> {
        let at = DateTime::parse_from_rfc3339("2026-12-03T01:30:00Z").map(|d| d.with_timezone(&Utc)).expect("time");
        vec![
            vec![
                Cell::text("=HYPERLINK(\"http://evil\")"),
                Cell::Money(Decimal::new(1_234_567, 0), "KRW".into()),
                Cell::Date(NaiveDate::from_ymd_opt(2026, 12, 31).expect("date")),
                Cell::Time(at),
            ],
            vec![
                Cell::text("한빛, \"제조\""),
                Cell::Money(Decimal::new(-150, 2), "USD".into()),
                Cell::Empty,
                Cell::Time(at),
            ],
            vec![Cell::text("+82-2-555-0100"), Cell::Empty, Cell::Empty, Cell::Empty],
        ]
    }

    #[test]
    fn csv_starts_with_a_bom_and_korean_headers_and_neutralises_formulas() {
        let mut out = Vec::new();
        let mut w = SheetWriter::new(ExportFormat::Csv, "고객사", &COLUMNS, Lang::Ko, &mut out).expect("start");
        for r in rows() {
            w.row(&r).expect("row");
        }
        w.finish().expect("finish");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert!(lines[0].starts_with('\u{feff}'), "a byte-order mark first");
        assert_eq!(lines[0].trim_start_matches('\u{feff}'), "회사명,금액,예상 마감일,수정");
        assert_eq!(lines[1], "\"'=HYPERLINK(\"\"http://evil\"\")\",1234567,2026-12-31,2026-12-03 10:30");
        assert_eq!(lines[2], "\"한빛, \"\"제조\"\"\",-1.50,,2026-12-03 10:30");
        assert_eq!(lines[3], "'+82-2-555-0100,,,");
    }

    #[test]
    fn xlsx_has_typed_cells_a_frozen_header_and_text_that_is_never_a_formula() {
        use calamine::{Data, Reader, Xlsx};
        let mut out = std::io::Cursor::new(Vec::new());
        let mut w = SheetWriter::new(ExportFormat::Xlsx, "Deals", &COLUMNS, Lang::En, &mut out).expect("start");
        for r in rows() {
            w.row(&r).expect("row");
        }
        w.finish().expect("finish");
        out.set_position(0);
        let mut book: Xlsx<_> = Xlsx::new(out).expect("an xlsx calamine reads");
        let range = book.worksheet_range("Deals").expect("the sheet, named");
        assert_eq!(range.get((0, 0)), Some(&Data::String(T::AccountName.text(Lang::En).to_string())));
        assert_eq!(range.get((1, 0)), Some(&Data::String("=HYPERLINK(\"http://evil\")".into())));
        assert_eq!(range.get((1, 1)), Some(&Data::Float(1_234_567.0)));
        assert!(matches!(range.get((1, 2)), Some(Data::DateTime(d)) if d.as_f64() == 46387.0), "2026-12-31 as a date");
        assert_eq!(range.get((2, 1)), Some(&Data::Float(-1.5)));
        assert_eq!(range.get((3, 0)), Some(&Data::String("+82-2-555-0100".into())));
        let formulas = book.worksheet_formula("Deals").expect("formulas");
        assert!(formulas.used_cells().next().is_none(), "no cell is a formula");
    }
}
