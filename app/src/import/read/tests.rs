//! The reader on files the tests write themselves: friendly workbooks and CSVs
//! as Korean offices produce them, and hostile files, each of which must be
//! refused quickly and without allocating what it claims.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::*;
use crate::import::column_name;

// --- Measuring what a read allocates ---------------------------------------

/// Counts live heap bytes and their peak, so hostile-file tests can show that
/// nothing near the claimed size was allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Hostile reads run one at a time, so one's peak is not another's.
static MEASURED: Mutex<()> = Mutex::new(());

/// Reads `bytes`, expecting `refusal`, within a time and a memory budget
/// (other tests run alongside, so the budget has room for them).
fn refused_quickly(bytes: &[u8], limits: &Limits, refusal: Refusal) {
    let _one_at_a_time = MEASURED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let started = Instant::now();
    let result = read_upload(bytes, &ReadChoice::default(), limits);
    let elapsed = started.elapsed();
    let grown = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    assert_eq!(result.err(), Some(refusal));
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(grown < 96 * 1024 * 1024, "allocated {} MB", grown / (1024 * 1024));
}

fn read(bytes: &[u8]) -> SheetRead {
    match read_upload(bytes, &ReadChoice::default(), &Limits::default()) {
        Ok(sheet) => sheet,
        Err(refusal) => panic!("refused: {refusal:?}"),
    }
}

fn text(s: &str) -> CellValue {
    CellValue::Text(s.to_string())
}

fn row(sheet: &SheetRead, number: u32) -> &SheetRow {
    sheet.rows.iter().find(|r| r.number == number).unwrap_or_else(|| panic!("no row {number}"))
}

fn fields(sheet: &SheetRead) -> Vec<Option<ImportField>> {
    sheet.mapping.iter().map(|m| m.field).collect()
}

// --- Fixtures ----------------------------------------------------------------

/// A sales sheet as people keep them: a merged title, a blank row, a note,
/// then the header, numbers stored as text, a date cell, formulas, markup.
fn sales_workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut workbook = Workbook::new();
        let hidden = workbook.add_worksheet();
        hidden.set_name("코드표")?.set_hidden(true);
        hidden.write_string(0, 0, "내부용")?;
        let sheet = workbook.add_worksheet();
        // Excel never hides the active sheet, so the sales sheet is the active one.
        sheet.set_name("2024 영업기회")?.set_active(true);
        sheet.merge_range(0, 0, 0, 7, "2024년 영업기회 현황 (영업1팀)", &Format::new().set_bold())?;
        sheet.write_string(2, 0, "작성: 김민준")?;
        let headers = ["고객사", "사업자번호", "영업기회", "금액 (원)", "확률", "예상 마감일", "내부코드", "합계"];
        for (column, header) in headers.iter().enumerate() {
            sheet.write_string(3, column as u16, *header)?;
        }
        let date = Format::new().set_num_format("yyyy-mm-dd");
        sheet.write_string(4, 0, "구름소프트")?;
        sheet.write_string(4, 1, "220-81-62517")?;
        sheet.write_string(4, 2, "Azure 전환")?;
        sheet.write_string(4, 3, "12000000")?; // a number stored as text
        sheet.write_number(4, 4, 0.4)?;
        sheet.write_datetime_with_format(4, 5, ExcelDateTime::from_ymd(2022, 12, 31)?, &date)?;
        sheet.write_string(4, 6, "X-1")?;
        sheet.write_formula(4, 7, Formula::new("=D5*2").set_result("24000000"))?;
        // Row 6 left blank between records.
        sheet.write_string(6, 0, "<script>alert(1)</script>")?;
        sheet.write_number(6, 1, 2_208_162_517.0)?;
        sheet.write_string(6, 2, "=cmd|' /C calc'!A0")?;
        sheet.write_string(6, 3, "₩3,500,000")?;
        sheet.write_string(6, 4, "40%")?;
        sheet.write_string(6, 5, "2023.01.15")?;
        workbook.save_to_buffer()
    };
    build().expect("xlsx fixture")
}

/// A minimal xlsx written by hand around one sheet's XML, for what
/// rust_xlsxwriter will not write (a formula without a cached value, a lying
/// dimension).
fn minimal_xlsx(sheet_xml: &str) -> Vec<u8> {
    minimal_xlsx_with(sheet_xml, &[])
}

/// `minimal_xlsx` with more parts after the sheet (a shared-strings part).
fn minimal_xlsx_with(sheet_xml: &str, more: &[(&str, &[u8])]) -> Vec<u8> {
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet_xml),
    ];
    zip_of(parts.iter().map(|(name, text)| (*name, text.as_bytes())).chain(more.iter().copied()))
}

fn zip_of<'a>(entries: impl Iterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(name, options).expect("zip entry");
        writer.write_all(bytes).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

fn sheet_xml(dimension: &str, cells: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData>{cells}</sheetData></worksheet>"#
    )
}

/// An OLE compound file (512-byte sectors) with the given streams, each
/// stored in whole sectors (at least 4096 bytes, so none goes to the mini
/// stream): the container of xls files and of password-protected xlsx.
fn compound_file(streams: &[(&str, Vec<u8>)]) -> Vec<u8> {
    const END: u32 = 0xFFFF_FFFE;
    const FREE: u32 = 0xFFFF_FFFF;
    let sectors_of = |len: usize| len.div_ceil(512).max(8);
    // Sector 0 is the FAT, sector 1 the directory, then each stream's sectors.
    let mut fat = vec![0xFFFF_FFFD, END];
    let mut starts = Vec::new();
    for (_, bytes) in streams {
        let first = fat.len() as u32;
        starts.push(first);
        let count = sectors_of(bytes.len()) as u32;
        for i in 0..count {
            fat.push(if i + 1 == count { END } else { first + i + 1 });
        }
    }
    assert!(fat.len() <= 128, "one FAT sector in this builder");
    fat.resize(128, FREE);
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    header[0x18..0x1A].copy_from_slice(&0x3Eu16.to_le_bytes());
    header[0x1A..0x1C].copy_from_slice(&3u16.to_le_bytes());
    header[0x1C..0x1E].copy_from_slice(&0xFFFEu16.to_le_bytes());
    header[0x1E..0x20].copy_from_slice(&9u16.to_le_bytes());
    header[0x20..0x22].copy_from_slice(&6u16.to_le_bytes());
    header[0x2C..0x30].copy_from_slice(&1u32.to_le_bytes());
    header[0x30..0x34].copy_from_slice(&1u32.to_le_bytes());
    header[0x38..0x3C].copy_from_slice(&4096u32.to_le_bytes());
    header[0x3C..0x40].copy_from_slice(&END.to_le_bytes());
    header[0x44..0x48].copy_from_slice(&END.to_le_bytes());
    for i in 0..109 {
        let value = if i == 0 { 0 } else { FREE };
        header[0x4C + 4 * i..0x50 + 4 * i].copy_from_slice(&value.to_le_bytes());
    }
    let entry = |name: &str, kind: u8, start: u32, size: u32| {
        let mut raw = vec![0u8; 128];
        let units: Vec<u16> = name.encode_utf16().chain([0]).collect();
        for (i, unit) in units.iter().enumerate() {
            raw[2 * i..2 * i + 2].copy_from_slice(&unit.to_le_bytes());
        }
        raw[64..66].copy_from_slice(&((units.len() * 2) as u16).to_le_bytes());
        raw[66] = kind;
        raw[116..120].copy_from_slice(&start.to_le_bytes());
        raw[120..124].copy_from_slice(&size.to_le_bytes());
        raw
    };
    let mut directory = entry("Root Entry", 5, END, 0);
    for ((name, bytes), start) in streams.iter().zip(&starts) {
        directory.extend(entry(name, 2, *start, bytes.len() as u32));
    }
    assert!(directory.len() <= 512, "one directory sector in this builder");
    directory.resize(512, 0);
    let mut file = header;
    file.extend(fat.iter().flat_map(|v| v.to_le_bytes()));
    file.extend(directory);
    for (_, bytes) in streams {
        let mut padded = bytes.clone();
        padded.resize(sectors_of(bytes.len()) * 512, 0);
        file.extend(padded);
    }
    file
}

fn biff_record(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut record = kind.to_le_bytes().to_vec();
    record.extend((data.len() as u16).to_le_bytes());
    record.extend_from_slice(data);
    record
}

/// A BIFF8 workbook stream: globals, then one sheet with the given records.
fn biff_stream(sheet_records: &[Vec<u8>]) -> Vec<u8> {
    let bof = biff_record(0x0809, &[0x00, 0x06, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let eof = biff_record(0x000A, &[]);
    let mut stream = [bof.clone(), eof.clone(), bof].concat();
    for record in sheet_records {
        stream.extend(record);
    }
    stream.extend(eof);
    stream.resize(stream.len().max(4096), 0);
    stream
}

// --- Workbooks ---------------------------------------------------------------

#[test]
fn xlsx_header_row_is_found_below_a_merged_title_and_a_note() {
    let sheet = read(&sales_workbook());
    assert_eq!(sheet.format, FileFormat::Xlsx);
    assert_eq!(
        sheet.sheets,
        vec![
            SheetInfo { name: "코드표".into(), hidden: true },
            SheetInfo { name: "2024 영업기회".into(), hidden: false }
        ]
    );
    assert_eq!(sheet.sheet, "2024 영업기회", "the first visible sheet is read");
    assert_eq!(sheet.header, Some(HeaderRow { number: 4, matched: 6 }));
    assert_eq!(
        fields(&sheet),
        vec![
            Some(ImportField::AccountName),
            Some(ImportField::BusinessNumber),
            Some(ImportField::DealName),
            Some(ImportField::Amount),
            Some(ImportField::Probability),
            Some(ImportField::CloseDate),
            None,
            None,
        ]
    );
    assert_eq!(sheet.mapping[3].header, "금액 (원)");
}

#[test]
fn xlsx_values_come_as_the_cells_hold_them() {
    let sheet = read(&sales_workbook());
    let first = row(&sheet, 5);
    assert_eq!(first.cells[1], text("220-81-62517"));
    assert_eq!(first.cells[3], text("12000000"), "numbers stored as text stay text");
    assert_eq!(first.cells[4], CellValue::Number(0.4));
    assert_eq!(first.cells[5], CellValue::Date(NaiveDate::from_ymd_opt(2022, 12, 31).expect("date")));
    assert_eq!(first.cells[7], CellValue::Number(24_000_000.0), "a formula gives its cached value");
    assert!(sheet.rows.iter().all(|r| r.number != 6), "blank rows are left out");
    let second = row(&sheet, 7);
    assert_eq!(second.cells[0], text("<script>alert(1)</script>"), "markup is kept as text");
    assert_eq!(second.cells[1].to_text(), "2208162517");
    assert_eq!(second.cells[2], text("=cmd|' /C calc'!A0"), "formula-like text is text, never a formula");
    assert!(sheet.problems.is_empty(), "{:?}", sheet.problems);
    // The cells parse with the same parsers the forms use.
    use crate::domain::{parse_amount, parse_date_lenient, parse_probability, BusinessNumber, Currency};
    assert!(BusinessNumber::parse(&second.cells[1].to_text()).is_ok());
    assert_eq!(parse_amount(&second.cells[3].to_text(), Currency::Krw), Ok(Some(3_500_000.into())));
    assert_eq!(parse_probability(&second.cells[4].to_text()), Ok(Some(40)));
    assert_eq!(parse_probability(&first.cells[4].to_text()), Ok(Some(40)));
    assert_eq!(parse_date_lenient(&second.cells[5].to_text()), Ok(NaiveDate::from_ymd_opt(2023, 1, 15)));
}

#[test]
fn a_chosen_sheet_and_header_row_win() {
    let bytes = sales_workbook();
    let choice = ReadChoice { sheet: Some("코드표".into()), header_row: Some(1), ..ReadChoice::default() };
    let sheet = read_upload(&bytes, &choice, &Limits::default()).expect("read");
    assert_eq!(sheet.sheet, "코드표");
    assert_eq!(sheet.header, Some(HeaderRow { number: 1, matched: 0 }));
    assert_eq!(sheet.mapping, vec![ColumnMapping { column: 0, header: "내부용".into(), field: None }]);
    let missing = ReadChoice { sheet: Some("없는 시트".into()), ..ReadChoice::default() };
    assert_eq!(read_upload(&bytes, &missing, &Limits::default()).err(), Some(Refusal::SheetNotFound));
}

#[test]
fn a_formula_without_a_cached_value_is_a_problem_for_its_cell() {
    let xml = sheet_xml(
        r#"<dimension ref="A1:C2"/>"#,
        r#"<row r="1"><c r="A1" t="inlineStr"><is><t>고객사</t></is></c><c r="B1" t="inlineStr"><is><t>금액</t></is></c><c r="C1" t="inlineStr"><is><t>확률</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>구름</t></is></c><c r="B2"><f>SUM(X1:X9)</f></c><c r="C2"><f>1/0</f><v>1</v></c></row>"#,
    );
    let sheet = read(&minimal_xlsx(&xml));
    assert_eq!(
        sheet.problems,
        vec![CellProblem { sheet: 0, row: 2, column: 1, problem: T::ImportFormulaWithoutValue }]
    );
    assert_eq!(column_name(sheet.problems[0].column), "B");
    assert_eq!(row(&sheet, 2).cells[2], CellValue::Number(1.0));
}

// --- CSV -----------------------------------------------------------------------

const CSV_TEXT: &str = "2024 영업 현황\n\n회사명,사업자등록번호,딜,단계,금액,통화,이메일\n\
                        구름소프트,220-81-62517,\"Azure 전환, 1차\",제안,\"₩12,000,000\",KRW,kim@gurum.co.kr\n\
                        하늘정보,,AVD 도입,협상,1억 2000만원,KRW,\n";

fn assert_sales_csv(sheet: &SheetRead, encoding: CsvEncoding, delimiter: Delimiter) {
    assert_eq!(sheet.format, FileFormat::Csv);
    assert_eq!(sheet.csv, Some(CsvSettings { encoding, delimiter }));
    assert_eq!(sheet.header, Some(HeaderRow { number: 3, matched: 7 }));
    assert_eq!(
        fields(sheet),
        vec![
            Some(ImportField::AccountName),
            Some(ImportField::BusinessNumber),
            Some(ImportField::DealName),
            Some(ImportField::Stage),
            Some(ImportField::Amount),
            Some(ImportField::Currency),
            Some(ImportField::Email),
        ]
    );
    let first = row(sheet, 4);
    assert_eq!(first.cells[0], text("구름소프트"));
    assert_eq!(first.cells[2], text("Azure 전환, 1차"));
    let amount = crate::domain::parse_amount(&first.cells[4].to_text(), crate::domain::Currency::Krw);
    assert_eq!(amount, Ok(Some(12_000_000.into())));
    assert_eq!(row(sheet, 5).cells[4], text("1억 2000만원"));
    assert!(sheet.problems.is_empty(), "{:?}", sheet.problems);
}

#[test]
fn csv_in_utf8_with_and_without_bom() {
    assert_sales_csv(&read(CSV_TEXT.as_bytes()), CsvEncoding::Utf8, Delimiter::Comma);
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), CSV_TEXT.as_bytes()].concat();
    let sheet = read(&with_bom);
    assert_sales_csv(&sheet, CsvEncoding::Utf8, Delimiter::Comma);
    assert_eq!(sheet.mapping[0].header, "회사명", "the byte-order mark is not part of the first header");
}

#[test]
fn csv_as_korean_excel_saves_it_in_cp949() {
    // 똠 and 햏 are outside EUC-KR's 2,350 syllables: CP949 only.
    // CP949 has no U+20A9 won sign; Korean text has the full-width ￦ instead.
    let csv = CSV_TEXT.replace("하늘정보", "똠햏정보").replace('₩', "￦");
    let (bytes, _, unmappable) = encoding_rs::EUC_KR.encode(&csv);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err());
    let sheet = read(&bytes);
    assert_sales_csv(&sheet, CsvEncoding::EucKr, Delimiter::Comma);
    assert_eq!(row(&sheet, 5).cells[0], text("똠햏정보"));
}

#[test]
fn csv_as_excel_unicode_text_utf16le_tabs() {
    let tsv = "2024 영업 현황\n\n회사명\t사업자등록번호\t딜\t단계\t금액\t통화\t이메일\n\
               구름소프트\t220-81-62517\tAzure 전환, 1차\t제안\t₩12,000,000\tKRW\tkim@gurum.co.kr\n\
               하늘정보\t\tAVD 도입\t협상\t1억 2000만원\tKRW\t\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(tsv.encode_utf16().flat_map(u16::to_le_bytes));
    assert_sales_csv(&read(&bytes), CsvEncoding::Utf16Le, Delimiter::Tab);
}

#[test]
fn csv_with_semicolons_and_pipes() {
    let semicolons = "고객사;금액;확률\n구름;\"1,000\";40%\n하늘;2000;0.5\n";
    let sheet = read(semicolons.as_bytes());
    assert_eq!(sheet.csv.as_ref().map(|c| c.delimiter), Some(Delimiter::Semicolon));
    assert_eq!(row(&sheet, 2).cells[1], text("1,000"));
    let pipes = "고객사|금액\n구름|1000\n";
    assert_eq!(read(pipes.as_bytes()).csv.map(|c| c.delimiter), Some(Delimiter::Pipe));
}

#[test]
fn csv_encoding_and_delimiter_can_be_overridden() {
    let (bytes, _, _) = encoding_rs::EUC_KR.encode("고객사;금액\n구름;1,000\n");
    let choice = ReadChoice {
        csv_encoding: Some(CsvEncoding::EucKr),
        csv_delimiter: Some(Delimiter::Comma),
        ..ReadChoice::default()
    };
    let sheet = read_upload(&bytes, &choice, &Limits::default()).expect("read");
    assert_eq!(row(&sheet, 2).cells, vec![text("구름;1"), text("000")]);
    // Read as UTF-8 against the detector's advice, the Korean is undecodable.
    let wrong = ReadChoice { csv_encoding: Some(CsvEncoding::Utf8), ..ReadChoice::default() };
    let sheet = read_upload(&bytes, &wrong, &Limits::default()).expect("read");
    assert!(sheet.problems.iter().all(|p| p.problem == T::ImportUndecodableText));
    assert!(!sheet.problems.is_empty());
    let unknown = ReadChoice { csv_encoding: Some(CsvEncoding::Other("klingon".into())), ..ReadChoice::default() };
    assert_eq!(read_upload(&bytes, &unknown, &Limits::default()).err(), Some(Refusal::UnsupportedEncoding));
}

// --- Hostile files ------------------------------------------------------------

#[test]
fn an_empty_or_oversized_upload_is_refused_before_sniffing() {
    refused_quickly(b"", &Limits::default(), Refusal::EmptyFile);
    let limits = Limits { max_upload_bytes: 1000, ..Limits::default() };
    refused_quickly(&[b'a'; 1001], &limits, Refusal::FileTooLarge);
}

#[test]
fn random_bytes_are_not_a_spreadsheet() {
    // xorshift: the same "random" bytes every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    refused_quickly(&bytes, &Limits::default(), Refusal::NotSpreadsheet);
    // A zip that is no spreadsheet, and a compound file that is no workbook.
    let not_a_workbook = zip_of([("word/document.xml", b"<w/>".as_slice())].into_iter());
    refused_quickly(&not_a_workbook, &Limits::default(), Refusal::NotSpreadsheet);
    refused_quickly(&compound_file(&[("WordDocument", vec![0; 4096])]), &Limits::default(), Refusal::NotSpreadsheet);
}

#[test]
fn a_truncated_xlsx_is_damaged() {
    let bytes = sales_workbook();
    refused_quickly(&bytes[..bytes.len() / 2], &Limits::default(), Refusal::Damaged);
    refused_quickly(&bytes[..bytes.len() - 10], &Limits::default(), Refusal::Damaged);
}

#[test]
fn a_zip_bomb_is_refused_by_its_central_directory() {
    // 50 MB of zeros packs to about 50 KB: a ratio near 1000:1.
    let zeros = vec![0u8; 50 * 1024 * 1024];
    let bomb = zip_of([("xl/sharedStrings.xml", zeros.as_slice())].into_iter());
    drop(zeros);
    assert!(bomb.len() < 1024 * 1024);
    refused_quickly(&bomb, &Limits::default(), Refusal::CompressionBomb);
    // The same entry under a lax ratio still exceeds a smaller total.
    let limits = Limits { max_entry_ratio: u64::MAX, max_unpacked_bytes: 10 * 1024 * 1024, ..Limits::default() };
    refused_quickly(&bomb, &limits, Refusal::CompressionBomb);
}

#[test]
fn a_zip_entry_lying_about_its_size_inflates_no_more_than_it_claims() {
    // A shared-strings part of 8 MB that claims 1000 bytes, in its local
    // header and in the central directory alike (so no ratio looks wrong).
    let mut strings =
        br#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#
            .to_vec();
    strings.resize(8 * 1024 * 1024, b'a');
    let mut bomb = minimal_xlsx_with(&sheet_xml("", ""), &[("xl/sharedStrings.xml", &strings)]);
    let claim = 1000u32.to_le_bytes();
    let name = b"xl/sharedStrings.xml";
    let local = bomb.windows(4 + 26 + name.len()).position(|w| w.starts_with(b"PK\x03\x04") && w.ends_with(name));
    let local = local.expect("local header");
    bomb[local + 22..local + 26].copy_from_slice(&claim);
    let central = bomb.windows(4 + 42 + name.len()).position(|w| w.starts_with(b"PK\x01\x02") && w.ends_with(name));
    let central = central.expect("central directory");
    bomb[central + 24..central + 28].copy_from_slice(&claim);
    // zip stops the entry at its claim with an error, so the file reads as damaged.
    {
        let mut archive = zip::ZipArchive::new(Cursor::new(bomb.as_slice())).expect("zip");
        let mut entry = archive.by_name("xl/sharedStrings.xml").expect("entry");
        let error = io::copy(&mut entry, &mut io::sink()).expect_err("stopped at the claimed size");
        assert!(error.to_string().contains("larger than its declared"), "{error}");
    }
    refused_quickly(&bomb, &Limits::default(), Refusal::Damaged);
}

#[test]
fn a_shared_string_count_claiming_a_trillion_is_refused_before_calamine_reserves_it() {
    let claim = |count: &str| {
        let strings = format!(
            r#"<?xml version="1.0"?><!-- {} --><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount = '{count}'><si><t>a</t></si></sst>"#,
            "padding ".repeat(20_000)
        );
        minimal_xlsx_with(&sheet_xml("", ""), &[("xl/sharedStrings.xml", strings.as_bytes())])
    };
    refused_quickly(&claim("1000000000000"), &Limits::default(), Refusal::TooManyCells);
    refused_quickly(&claim("99999999999999999999999999"), &Limits::default(), Refusal::TooManyCells);
    refused_quickly(&claim("1e12"), &Limits::default(), Refusal::Damaged);
    assert!(read_upload(&claim("1"), &ReadChoice::default(), &Limits::default()).is_ok());
}

#[test]
fn a_sheet_claiming_every_cell_is_refused_before_reading() {
    let xml = sheet_xml(
        r#"<dimension ref="A1:XFD1048576"/>"#,
        r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#,
    );
    refused_quickly(&minimal_xlsx(&xml), &Limits::default(), Refusal::SheetTooLarge);
    // Without a dimension, the far cell itself is refused as it streams in.
    let xml = sheet_xml("", r#"<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#);
    refused_quickly(&minimal_xlsx(&xml), &Limits::default(), Refusal::SheetTooLarge);
    // A reversed dimension is not a reason to panic.
    // (calamine subtracts the corners unchecked: in a debug build that panics
    // inside calamine, and the panic becomes a refusal.)
    let xml = sheet_xml(r#"<dimension ref="C3:A1"/>"#, r#"<row r="1"><c r="A1"><v>1</v></c></row>"#);
    let result = read_upload(&minimal_xlsx(&xml), &ReadChoice::default(), &Limits::default());
    assert!(matches!(result, Ok(_) | Err(Refusal::Damaged)), "{result:?}");
}

#[test]
fn cell_count_and_cell_length_are_capped_while_streaming() {
    let cells: String = (1..=50).map(|r| format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#)).collect();
    let limits = Limits { max_cells: 10, ..Limits::default() };
    refused_quickly(&minimal_xlsx(&sheet_xml("", &cells)), &limits, Refusal::TooManyCells);
    let long = "가".repeat(40_000);
    let xml = sheet_xml("", &format!(r#"<row r="1"><c r="A1" t="inlineStr"><is><t>{long}</t></is></c></row>"#));
    refused_quickly(&minimal_xlsx(&xml), &Limits::default(), Refusal::CellTooLong);
    let csv = format!("고객사,메모\n구름,{long}\n");
    refused_quickly(csv.as_bytes(), &Limits::default(), Refusal::CellTooLong);
}

#[test]
fn an_endless_csv_line_is_refused_at_the_line_cap() {
    let endless = vec![b'a'; 15 * 1024 * 1024];
    refused_quickly(&endless, &Limits::default(), Refusal::CsvLineTooLong);
}

#[test]
fn password_protected_files_are_named_as_such() {
    // Excel wraps an encrypted xlsx in a compound file with these two streams.
    let encrypted = compound_file(&[("EncryptionInfo", vec![4; 4096]), ("EncryptedPackage", vec![7; 4096])]);
    refused_quickly(&encrypted, &Limits::default(), Refusal::PasswordProtected);
    // An xls with FILEPASS: everything after it is encrypted.
    let xls = compound_file(&[("Workbook", biff_stream(&[biff_record(0x002F, &[1, 0, 0, 0])]))]);
    refused_quickly(&xls, &Limits::default(), Refusal::PasswordProtected);
    // calamine's own check agrees (the route the brief asks to keep).
    assert!(matches!(Xlsx::new(Cursor::new(encrypted.as_slice())), Err(XlsxError::Password)));
}

#[test]
fn an_xls_claiming_a_huge_sheet_is_refused_before_calamine_opens_it() {
    // DIMENSIONS: rows 0..65536, columns 0..256 (calamine would reserve that many cells).
    let mut dimensions = Vec::new();
    dimensions.extend(0u32.to_le_bytes());
    dimensions.extend(65_536u32.to_le_bytes());
    dimensions.extend(0u16.to_le_bytes());
    dimensions.extend(256u16.to_le_bytes());
    dimensions.extend(0u16.to_le_bytes());
    let xls = compound_file(&[("Workbook", biff_stream(&[biff_record(0x0200, &dimensions)]))]);
    refused_quickly(&xls, &Limits::default(), Refusal::SheetTooLarge);
    // Two cells far apart: the bounding box calamine would fill.
    let number = |row: u16, column: u16| {
        let mut data = row.to_le_bytes().to_vec();
        data.extend(column.to_le_bytes());
        data.extend(0u16.to_le_bytes());
        data.extend(1.0f64.to_le_bytes());
        biff_record(0x0203, &data)
    };
    let xls = compound_file(&[("Workbook", biff_stream(&[number(0, 0), number(65_535, 150)]))]);
    refused_quickly(&xls, &Limits::default(), Refusal::SheetTooLarge);
}

#[test]
fn xls_and_ods_have_the_lower_size_limit() {
    let mut xls = compound_file(&[("Workbook", biff_stream(&[]))]);
    xls.resize(11 * 1024 * 1024, 0);
    refused_quickly(&xls, &Limits::default(), Refusal::LegacyFileTooLarge);
}

/// An ods around its content.xml, with the manifest calamine requires.
fn ods_of(content: &str) -> Vec<u8> {
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    zip_of(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet".as_slice()),
            ("META-INF/manifest.xml", manifest.as_bytes()),
            ("content.xml", content.as_bytes()),
        ]
        .into_iter(),
    )
}

#[test]
fn an_ods_repeating_a_row_a_million_times_is_refused_before_calamine_opens_it() {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Sheet1"><table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="150" office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    let ods = ods_of(content);
    refused_quickly(&ods, &Limits::default(), Refusal::SheetTooLarge);
}

#[test]
fn an_ods_with_libreoffice_padding_is_read() {
    // LibreOffice pads every sheet with empty repeated rows and columns to the sheet's edge.
    let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="고객"><table:table-row><table:table-cell office:value-type="string"><text:p>고객사</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>마감일</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16382"/></table:table-row><table:table-row><table:table-cell office:value-type="string"><text:p>구름</text:p></table:table-cell><table:table-cell office:value-type="date" office:date-value="2022-12-31"><text:p>2022-12-31</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16382"/></table:table-row><table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="16384"/></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    let ods = ods_of(content);
    let sheet = read(&ods);
    assert_eq!(sheet.format, FileFormat::Ods);
    assert_eq!(sheet.sheet, "고객");
    assert_eq!(fields(&sheet), vec![Some(ImportField::AccountName), Some(ImportField::CloseDate)]);
    assert_eq!(row(&sheet, 2).cells[1], CellValue::Date(NaiveDate::from_ymd_opt(2022, 12, 31).expect("date")));
}

// --- Header names -------------------------------------------------------------

#[test]
fn header_names_are_compared_normalised() {
    assert_eq!(normalise_header("  예상 마감일 "), "예상마감일");
    assert_eq!(normalise_header("금액 (원)"), "금액");
    assert_eq!(normalise_header("Amount [KRW]"), "amount");
    assert_eq!(normalise_header("ＥＭＡＩＬ"), "email");
    assert_eq!(normalise_header("E-mail"), "email");
    assert_eq!(normalise_header("Close_Date"), "closedate");
    assert_eq!(field_for_header("사업자 번호"), Some(ImportField::BusinessNumber));
    assert_eq!(field_for_header("Business No."), Some(ImportField::BusinessNumber));
    assert_eq!(field_for_header("Lead time"), None);
    assert_eq!(field_for_header("Business number"), Some(ImportField::BusinessNumber));
    assert_eq!(field_for_header("Deal Name"), Some(ImportField::DealName));
    assert_eq!(field_for_header("고객사*"), Some(ImportField::AccountName));
    assert_eq!(field_for_header("담당자"), Some(ImportField::Owner));
    assert_eq!(field_for_header("고객 담당자"), Some(ImportField::ContactName));
    assert_eq!(field_for_header("2024년 영업 현황"), None);
    assert_eq!(field_for_header(""), None);
}

#[test]
fn header_detection_skips_titles_and_takes_the_first_mostly_known_row() {
    let row_of = |number: u32, cells: &[&str]| SheetRow {
        number,
        cells: cells.iter().map(|c| if c.is_empty() { CellValue::Empty } else { text(c) }).collect(),
    };
    let rows = vec![
        row_of(1, &["고객사 목록"]),
        row_of(2, &["기준일", "2024-01-01"]),
        row_of(4, &["No", "고객사", "Owner", "Stage", "비고 2", "x"]),
        row_of(5, &["1", "구름", "김민준", "리드", "", ""]),
    ];
    assert_eq!(detect_header(&rows), Some(HeaderRow { number: 4, matched: 3 }));
    let mapping = suggest_mapping(&rows[2]);
    assert_eq!(
        mapping.iter().map(|m| m.field).collect::<Vec<_>>(),
        vec![None, Some(ImportField::AccountName), Some(ImportField::Owner), Some(ImportField::Stage), None, None]
    );
    // A field named twice goes to its first column only.
    let twice = suggest_mapping(&row_of(1, &["금액", "Amount", "통화"]));
    assert_eq!(
        twice.iter().map(|m| m.field).collect::<Vec<_>>(),
        vec![Some(ImportField::Amount), None, Some(ImportField::Currency)]
    );
    assert_eq!(detect_header(&[row_of(1, &["a", "b"]), row_of(2, &["1", "2"])]), None);
}

#[test]
fn csv_rows_keep_the_numbers_excel_shows() {
    let numbers = |csv: &str| read(csv.as_bytes()).rows.iter().map(|r| r.number).collect::<Vec<_>>();
    // A quoted field over two lines, a blank line, CRLF endings.
    assert_eq!(numbers("고객사,메모\r\n구름,\"두 줄\r\n메모\"\r\n\r\n하늘,x\r\n"), vec![1, 2, 5]);
    // Old Mac files end lines with a lone CR.
    assert_eq!(numbers("고객사,메모\r구름,x\r\r하늘,y"), vec![1, 2, 4]);
    let limits = Limits { max_rows: 3, ..Limits::default() };
    refused_quickly(b"a,b\n1,2\n3,4\n5,6\n", &limits, Refusal::SheetTooLarge);
}
