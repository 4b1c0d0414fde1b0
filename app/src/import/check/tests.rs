use super::*;
use crate::import::read::{detect_header, suggest_mapping};
use crate::import::FileFormat;

fn text(s: &str) -> CellValue {
    if s.is_empty() {
        CellValue::Empty
    } else {
        CellValue::Text(s.to_string())
    }
}

fn sheet(rows: Vec<Vec<CellValue>>) -> SheetRead {
    let rows: Vec<SheetRow> =
        rows.into_iter().enumerate().map(|(i, cells)| SheetRow { number: i as u32 + 1, cells }).collect();
    let header = detect_header(&rows);
    let mapping =
        header.and_then(|h| rows.iter().find(|r| r.number == h.number)).map(suggest_mapping).unwrap_or_default();
    SheetRead {
        format: FileFormat::Xlsx,
        sheets: Vec::new(),
        sheet: "Sheet1".into(),
        csv: None,
        epoch_1904: false,
        rows,
        problems: Vec::new(),
        header,
        mapping,
    }
}

fn stage(id: &str, ko: &str, en: &str, position: i32, won: bool, lost: bool) -> StageInfo {
    StageInfo {
        id: id.into(),
        position,
        name_ko: ko.into(),
        name_en: en.into(),
        default_probability: 10,
        is_won: won,
        is_lost: lost,
    }
}

fn directory() -> Directory {
    Directory {
        stages: vec![
            stage("lead", "리드", "Lead", 1, false, false),
            stage("proposal", "제안", "Proposal", 3, false, false),
            stage("won", "수주", "Won", 5, true, false),
        ],
        people: vec![Person {
            id: Uuid::from_u128(7),
            display_name: "김민준".into(),
            username: "minjun".into(),
            email: Some("minjun@example.co.kr".into()),
        }],
    }
}

fn header() -> Vec<CellValue> {
    ["고객사명", "사업자등록번호", "영업기회명", "단계", "금액", "예상 마감일", "담당 영업"].map(text).to_vec()
}

fn check_rows(rows: Vec<Vec<CellValue>>) -> Checked {
    let read = sheet(rows);
    check(&read, &read.mapping, &directory())
}

#[test]
fn korean_values_are_read_as_the_forms_read_them() {
    let checked = check_rows(vec![
        vec![text("2024년 영업 현황")],
        header(),
        vec![
            text(" 구름클라우드 "),
            text("220-81-62517"),
            text("ERP 클라우드 이전"),
            text("수주"),
            text("₩12,000,000"),
            CellValue::Date(NaiveDate::from_ymd_opt(2024, 3, 31).expect("date")),
            text("김민준"),
        ],
        vec![
            text("하늘데이터"),
            text(""),
            text("백업 구축"),
            text("제안"),
            text("1.5억"),
            CellValue::Number(45_657.0),
            text("minjun@example.co.kr"),
        ],
    ]);
    assert_eq!(checked.problems, vec![], "no problems");
    assert_eq!(checked.data_rows, 2);
    let first = &checked.rows[0];
    assert_eq!(first.row, 3, "rows keep the numbers Excel shows");
    assert_eq!(first.account_name.as_deref(), Some("구름클라우드"));
    assert_eq!(first.business_number.as_deref(), Some("2208162517"));
    assert_eq!(first.stage_id.as_deref(), Some("won"));
    assert_eq!(first.amount, Some(Decimal::from(12_000_000)));
    assert_eq!(first.owner_id, Some(Uuid::from_u128(7)));
    let second = &checked.rows[1];
    assert_eq!(second.amount, Some(Decimal::from(150_000_000)));
    assert_eq!(second.close_date, NaiveDate::from_ymd_opt(2024, 12, 31), "an Excel serial date");
    assert_eq!(second.account_key().as_deref(), Some("n:하늘데이터"));
}

#[test]
fn every_problem_is_reported_at_its_row_and_column() {
    let checked = check_rows(vec![
        header(),
        vec![text("구름클라우드"), text("220-81-62518"), text("A"), text("리드")],
        vec![text("구름클라우드"), text(""), text("B"), text("없는단계")],
        vec![text("구름클라우드"), text(""), text("C"), text("수주"), text("")],
        vec![text("구름클라우드"), text(""), text("D"), text("리드"), text("많이")],
        vec![text("구름클라우드"), text(""), text("E"), text("리드"), text(""), text("2022-02-30")],
        vec![text("구름클라우드"), text(""), text("F"), text("리드"), text(""), text(""), text("아무개")],
        vec![text("구름클라우드"), text(""), text("F"), text("리드")],
        vec![text("합계"), text(""), text(""), text(""), text("₩1,000")],
        vec![text(""), text(""), text("G")],
    ]);
    let found: Vec<(u32, String, T)> =
        checked.problems.iter().map(|p| (p.row, crate::import::column_name(p.column), p.problem)).collect();
    assert_eq!(
        found,
        vec![
            (2, "B".into(), T::BusinessNumberCheckDigit),
            (3, "D".into(), T::InvalidStage),
            (4, "D".into(), T::WonNeedsAmountAndDate),
            (5, "E".into(), T::InvalidAmount),
            (6, "F".into(), T::InvalidDate),
            (7, "G".into(), T::ImportUnknownOwner),
            (8, "C".into(), T::ImportDuplicateRow),
            (9, "A".into(), T::ImportTotalRow),
            (10, "A".into(), T::ImportMissingAccount),
        ]
    );
    assert_eq!(checked.invalid_rows, 9);
    assert!(checked.rows.is_empty());
}

#[test]
fn a_mapping_without_an_account_column_cannot_be_imported() {
    let read = sheet(vec![header(), vec![text("구름클라우드"), text(""), text("A")]]);
    let mapping: Vec<ColumnMapping> = read
        .mapping
        .iter()
        .map(|m| ColumnMapping {
            field: m.field.filter(|f| !matches!(f, ImportField::AccountName | ImportField::BusinessNumber)),
            ..m.clone()
        })
        .collect();
    let checked = check(&read, &mapping, &directory());
    assert_eq!(checked.file_problems, vec![SheetProblem { sheet: 0, problem: T::ImportNoAccountColumn }]);
}
