//! Checking a read sheet against the mapping: every cell of a mapped column
//! goes through the same parser the forms use (`kit::domain`), and every
//! problem is reported at its row and column before anything is written.
//! Pure: the database's part (stages, users) comes in as a `Directory`, so
//! the preview and the job check a file identically.

use std::collections::{HashMap, HashSet};

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{CellProblem, CellValue, ColumnMapping, ImportField, SheetProblem, SheetRead, SheetRow};
use crate::domain::{
    self, check_stage, BillingPeriod, BusinessNumber, Currency, StageFacts, StageInfo, COMPANY_SIZES, INDUSTRIES,
};
use crate::i18n::{Lang, T};

/// A user an Owner cell can name, by display name, username or email.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub display_name: String,
    pub username: String,
    pub email: Option<String>,
}

/// What checking needs from the database.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub stages: Vec<StageInfo>,
    pub people: Vec<Person>,
}

/// One row's values, parsed; `None` is an empty cell or an unmapped column,
/// which never clears what a record already holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowValues {
    /// The sheet's position in the workbook, and the row as the sheet numbers it.
    pub sheet: u32,
    pub row: u32,
    pub account_name: Option<String>,
    /// Ten digits.
    pub business_number: Option<String>,
    pub industry: Option<String>,
    pub company_size: Option<String>,
    pub address: Option<String>,
    pub main_phone: Option<String>,
    pub website: Option<String>,
    pub notes: Option<String>,
    pub owner_id: Option<Uuid>,
    pub contact_name: Option<String>,
    pub contact_title: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub deal_id: Option<Uuid>,
    pub deal_name: Option<String>,
    pub stage_id: Option<String>,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub probability: Option<i32>,
    pub close_date: Option<NaiveDate>,
    pub source: Option<String>,
    pub lost_reason: Option<String>,
    pub contract_title: Option<String>,
    pub contract_number: Option<String>,
    pub contract_start: Option<NaiveDate>,
    pub contract_end: Option<NaiveDate>,
    pub contract_amount: Option<Decimal>,
    /// `BillingPeriod::code`.
    pub billing_period: Option<String>,
    pub auto_renew: Option<bool>,
    pub notice_days: Option<i32>,
    /// "draft" or "signed".
    pub contract_state: Option<String>,
}

/// Rows per sheet are numbered below 2^21 (Excel has 2^20), so one number
/// orders rows across sheets and tells the sheet and row back.
const ROW_BITS: u32 = 21;

impl RowValues {
    /// The row's place in the file: sheets in workbook order, rows in sheet order.
    pub fn order(&self) -> i64 {
        (i64::from(self.sheet) << ROW_BITS) | i64::from(self.row)
    }

    /// `order`'s sheet and row.
    pub fn place(order: i64) -> (u32, u32) {
        ((order >> ROW_BITS) as u32, (order & ((1 << ROW_BITS) - 1)) as u32)
    }

    /// Which account the row belongs to: its business number, else its name.
    pub fn account_key(&self) -> Option<String> {
        match (&self.business_number, &self.account_name) {
            (Some(b), _) => Some(format!("b:{b}")),
            (None, Some(n)) => Some(format!("n:{n}")),
            (None, None) => None,
        }
    }

    fn has_contact_fields(&self) -> bool {
        self.contact_title.is_some() || self.department.is_some() || self.email.is_some() || self.phone.is_some()
    }

    fn has_contract_fields(&self) -> bool {
        self.contract_number.is_some()
            || self.contract_start.is_some()
            || self.contract_end.is_some()
            || self.contract_amount.is_some()
            || self.billing_period.is_some()
            || self.auto_renew.is_some()
            || self.notice_days.is_some()
            || self.contract_state.is_some()
    }

    fn has_deal_fields(&self) -> bool {
        self.stage_id.is_some()
            || self.amount.is_some()
            || self.probability.is_some()
            || self.close_date.is_some()
            || self.source.is_some()
            || self.lost_reason.is_some()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// Rows without a problem, in sheet order.
    pub rows: Vec<RowValues>,
    /// By row, then column.
    pub problems: Vec<CellProblem>,
    pub data_rows: u32,
    pub invalid_rows: u32,
    /// Problems of a sheet's mapping as a whole: nothing can be imported until fixed.
    pub file_problems: Vec<SheetProblem>,
}

/// One sheet to check: its position in the workbook, what was read, its mapping.
pub struct SheetInput<'a> {
    pub index: u32,
    pub read: &'a SheetRead,
    pub mapping: &'a [ColumnMapping],
}

/// A row parsed, before the checks that need the whole file.
struct Parsed {
    values: RowValues,
    problems: Vec<CellProblem>,
    columns: Columns,
}

/// Where a sheet's problems about whole records point.
#[derive(Clone, Copy)]
struct Columns {
    account: u32,
    account_name: u32,
    contact_name: u32,
    deal: u32,
    contract: u32,
}

/// Words that mark a total or subtotal row, compared without spaces or case.
const TOTAL_WORDS: &[&str] =
    &["합계", "소계", "총계", "총합계", "누계", "계", "total", "subtotal", "grandtotal", "sum"];

/// Historical files go back decades; a close date before 2000 or more than
/// ten years ahead is a typo (the forms, for live deals, allow five years back).
fn import_date_in_range(d: NaiveDate) -> bool {
    let latest = crate::i18n::seoul_today().checked_add_months(Months::new(12 * 10));
    NaiveDate::from_ymd_opt(2000, 1, 1).is_some_and(|earliest| d >= earliest) && latest.is_none_or(|l| d <= l)
}

fn compact_lower(text: &str) -> String {
    text.chars().map(domain::to_half_width).filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

/// A code list value given as its code or its label in either language.
fn code_from_list(text: &str, list: &[(&str, T)]) -> Result<Option<String>, T> {
    let wanted = compact_lower(text);
    if wanted.is_empty() {
        return Ok(None);
    }
    list.iter()
        .find(|(code, label)| {
            compact_lower(code) == wanted
                || compact_lower(label.text(Lang::Ko)) == wanted
                || compact_lower(label.text(Lang::En)) == wanted
        })
        .map(|(code, _)| Some((*code).to_string()))
        .ok_or(T::ImportUnknownChoice)
}

fn stage_for(text: &str, stages: &[StageInfo]) -> Result<Option<StageInfo>, T> {
    let wanted = compact_lower(text);
    if wanted.is_empty() {
        return Ok(None);
    }
    stages
        .iter()
        .find(|s| {
            compact_lower(&s.id) == wanted || compact_lower(&s.name_ko) == wanted || compact_lower(&s.name_en) == wanted
        })
        .cloned()
        .map(Some)
        .ok_or(T::InvalidStage)
}

fn person_for(text: &str, people: &[Person]) -> Result<Option<Uuid>, T> {
    let wanted = compact_lower(text);
    if wanted.is_empty() {
        return Ok(None);
    }
    people
        .iter()
        .find(|p| {
            compact_lower(&p.display_name) == wanted
                || compact_lower(&p.username) == wanted
                || p.email.as_deref().is_some_and(|e| compact_lower(e) == wanted)
        })
        .map(|p| Some(p.id))
        .ok_or(T::ImportUnknownOwner)
}

fn date_of(cell: &CellValue, epoch_1904: bool) -> Result<Option<NaiveDate>, T> {
    let date = match cell {
        CellValue::Date(d) => Some(*d),
        CellValue::Number(n) => Some(domain::date_from_excel_serial(*n, epoch_1904)?),
        other => domain::parse_date_lenient(&other.to_text())?,
    };
    match date {
        Some(d) if !import_date_in_range(d) => Err(T::DateOutOfRange),
        d => Ok(d),
    }
}

fn is_total_row(row: &SheetRow) -> Option<u32> {
    let (column, cell) = row.cells.iter().enumerate().find(|(_, c)| !c.is_empty())?;
    match cell {
        CellValue::Text(text) if TOTAL_WORDS.contains(&compact_lower(text).as_str()) => Some(column as u32),
        _ => None,
    }
}

/// Checks every data row below the header of one sheet.
pub fn check(read: &SheetRead, mapping: &[ColumnMapping], dir: &Directory) -> Checked {
    check_sheets(&[SheetInput { index: 0, read, mapping }], dir)
}

/// Checks the sheets of one import together: a contact or deal on one sheet
/// may name an account another sheet defines, and duplicates count across them.
pub fn check_sheets(sheets: &[SheetInput], dir: &Directory) -> Checked {
    let mut checked = Checked::default();
    let mut parsed: Vec<Parsed> = Vec::new();
    let mut invalid: HashSet<(u32, u32)> = HashSet::new();
    for sheet in sheets {
        parse_sheet(sheet, dir, &mut checked, &mut parsed, &mut invalid);
    }

    // A row naming its account only by name belongs to the business number
    // the file gives that name elsewhere (the accounts sheet, usually).
    let mut number_of_name: HashMap<String, Option<String>> = HashMap::new();
    for p in &parsed {
        if let (Some(name), Some(number)) = (&p.values.account_name, &p.values.business_number) {
            number_of_name
                .entry(name.clone())
                .and_modify(|known| {
                    if known.as_ref() != Some(number) {
                        *known = None;
                    }
                })
                .or_insert_with(|| Some(number.clone()));
        }
    }

    let mut accounts: HashMap<String, Option<String>> = HashMap::new();
    let mut contacts: HashSet<(String, String)> = HashSet::new();
    let mut deals: HashSet<String> = HashSet::new();
    let mut contracts_seen: HashSet<String> = HashSet::new();
    for Parsed { mut values, mut problems, columns } in parsed {
        let v = &mut values;
        let (sheet, number) = (v.sheet, v.row);
        let mut problem = |column: u32, t: T| problems.push(CellProblem { sheet, row: number, column, problem: t });
        if v.business_number.is_none() {
            if let Some(known) = v.account_name.as_ref().and_then(|n| number_of_name.get(n)) {
                match known {
                    Some(number) => v.business_number = Some(number.clone()),
                    None => problem(columns.account_name, T::ImportAccountAmbiguous),
                }
            }
        }
        if let Some(key) = v.account_key() {
            match accounts.get(&key) {
                Some(name) if v.account_name.is_some() && name.is_some() && *name != v.account_name => {
                    problem(columns.account_name, T::ImportAccountConflict);
                }
                Some(_) => {}
                None => {
                    accounts.insert(key.clone(), v.account_name.clone());
                }
            }
            if let Some(name) = &v.contact_name {
                let contact_key = v.email.clone().unwrap_or_else(|| format!("n:{}", name.to_lowercase()));
                if !contacts.insert((key.clone(), contact_key)) {
                    problem(columns.contact_name, T::ImportDuplicateRow);
                }
            }
            let deal_key = match (&v.deal_id, &v.deal_name) {
                (Some(id), _) => Some(format!("i:{id}")),
                (None, Some(name)) => Some(format!("{key}/{}", name.to_lowercase())),
                (None, None) => None,
            };
            if deal_key.is_some_and(|k| !deals.insert(k)) {
                problem(columns.deal, T::ImportDuplicateRow);
            }
            let contract_key = match (&v.contract_number, &v.contract_title) {
                (Some(number), _) => Some(format!("n:{}", number.to_lowercase())),
                (None, Some(title)) => Some(format!("{key}/{}", title.to_lowercase())),
                (None, None) => None,
            };
            if contract_key.is_some_and(|k| !contracts_seen.insert(k)) {
                problem(columns.contract, T::ImportDuplicateRow);
            }
        }
        if problems.is_empty() {
            checked.rows.push(values);
        } else {
            invalid.insert((sheet, number));
            checked.problems.append(&mut problems);
        }
    }
    fill_account_fields(&mut checked.rows);
    checked.invalid_rows = invalid.len() as u32;
    checked.problems.sort_by_key(|p| (p.sheet, p.row, p.column));
    checked
}

/// Parses one sheet's rows: every problem a row has on its own.
fn parse_sheet(
    sheet: &SheetInput,
    dir: &Directory,
    checked: &mut Checked,
    parsed: &mut Vec<Parsed>,
    invalid: &mut HashSet<(u32, u32)>,
) {
    let (read, mapping, index) = (sheet.read, sheet.mapping, sheet.index);
    let column_of = |field: ImportField| mapping.iter().find(|m| m.field == Some(field)).map(|m| m.column);
    if column_of(ImportField::AccountName).is_none() && column_of(ImportField::BusinessNumber).is_none() {
        checked.file_problems.push(SheetProblem { sheet: index, problem: T::ImportNoAccountColumn });
    }
    let Some(header) = read.header else {
        checked.file_problems.push(SheetProblem { sheet: index, problem: T::ImportHeaderNotFound });
        return;
    };
    let account = column_of(ImportField::AccountName).or(column_of(ImportField::BusinessNumber)).unwrap_or_default();
    let columns = Columns {
        account,
        account_name: column_of(ImportField::AccountName).unwrap_or_default(),
        contact_name: column_of(ImportField::ContactName).unwrap_or(account),
        deal: column_of(ImportField::DealId).or(column_of(ImportField::DealName)).unwrap_or(account),
        contract: column_of(ImportField::ContractNumber).or(column_of(ImportField::ContractTitle)).unwrap_or(account),
    };
    let read_problems: HashMap<(u32, u32), T> =
        read.problems.iter().filter(|p| p.row > header.number).map(|p| ((p.row, p.column), p.problem)).collect();

    for row in read.rows.iter().filter(|r| r.number > header.number && !r.is_blank()) {
        checked.data_rows += 1;
        let mut problems: Vec<CellProblem> = Vec::new();
        let number = row.number;
        macro_rules! problem {
            ($column:expr, $t:expr) => {
                problems.push(CellProblem { sheet: index, row: number, column: $column, problem: $t })
            };
        }
        if let Some(column) = is_total_row(row) {
            problem!(column, T::ImportTotalRow);
            checked.problems.append(&mut problems);
            invalid.insert((index, row.number));
            continue;
        }
        for m in mapping.iter().filter(|m| m.field.is_some()) {
            if let Some(p) = read_problems.get(&(row.number, m.column)) {
                problem!(m.column, *p);
            }
        }
        let cell = |field: ImportField| -> Option<(u32, &CellValue)> {
            let column = column_of(field)?;
            Some((column, row.cells.get(column as usize).unwrap_or(&CellValue::Empty)))
        };
        let text = |field: ImportField| cell(field).map(|(c, v)| (c, v.to_text()));
        let mut v = RowValues { sheet: index, row: row.number, ..RowValues::default() };

        macro_rules! field {
            ($field:expr, $parse:expr) => {
                match text($field) {
                    Some((column, raw)) => match $parse(raw.as_str()) {
                        Ok(value) => value,
                        Err(t) => {
                            problem!(column, t);
                            None
                        }
                    },
                    None => None,
                }
            };
        }
        v.account_name = field!(ImportField::AccountName, |s| domain::clean_text(s, 200, false));
        v.business_number = field!(ImportField::BusinessNumber, |s| BusinessNumber::parse_optional(s)
            .map(|b| b.map(|b| b.digits().to_string())));
        v.industry = field!(ImportField::Industry, |s| code_from_list(s, INDUSTRIES));
        v.company_size = field!(ImportField::CompanySize, |s| code_from_list(s, COMPANY_SIZES));
        v.address = field!(ImportField::Address, |s| domain::clean_text(s, 300, false));
        v.main_phone = field!(ImportField::MainPhone, domain::parse_phone);
        v.website = field!(ImportField::Website, domain::parse_website);
        v.notes = field!(ImportField::Notes, |s| domain::clean_text(s, 4000, false));
        v.owner_id = field!(ImportField::Owner, |s| person_for(s, &dir.people));
        v.contact_name = field!(ImportField::ContactName, |s| domain::clean_text(s, 100, false));
        v.contact_title = field!(ImportField::ContactTitle, |s| domain::clean_text(s, 100, false));
        v.department = field!(ImportField::Department, |s| domain::clean_text(s, 100, false));
        v.email = field!(ImportField::Email, domain::parse_email);
        v.phone = field!(ImportField::Phone, domain::parse_phone);
        v.deal_id = field!(ImportField::DealId, parse_deal_id);
        v.deal_name = field!(ImportField::DealName, |s| domain::clean_text(s, 200, false));
        let stage = field!(ImportField::Stage, |s| stage_for(s, &dir.stages));
        v.stage_id = stage.as_ref().map(|s| s.id.clone());
        let currency = match text(ImportField::Currency) {
            Some((column, raw)) if !raw.trim().is_empty() => match Currency::parse(&raw) {
                Ok(c) => Some(c),
                Err(t) => {
                    problem!(column, t);
                    None
                }
            },
            _ => None,
        };
        v.currency = currency.map(|c| c.code().to_string());
        v.amount = field!(ImportField::Amount, |s| domain::parse_amount(s, currency.unwrap_or(Currency::Krw)));
        v.probability = field!(ImportField::Probability, domain::parse_probability);
        v.close_date = match cell(ImportField::CloseDate) {
            Some((column, value)) => date_of(value, read.epoch_1904).unwrap_or_else(|t| {
                problem!(column, t);
                None
            }),
            None => None,
        };
        v.source = field!(ImportField::Source, |s| domain::clean_text(s, 100, false));
        v.lost_reason = field!(ImportField::LostReason, |s| domain::clean_text(s, 500, false));

        v.contract_title = field!(ImportField::ContractTitle, |s| domain::clean_text(s, 200, false));
        v.contract_number = field!(ImportField::ContractNumber, |s| domain::clean_text(s, 50, false));
        let contract_date = |field: ImportField, problems: &mut Vec<CellProblem>| match cell(field) {
            Some((column, value)) => contract_date_of(value, read.epoch_1904).unwrap_or_else(|t| {
                problems.push(CellProblem { sheet: index, row: number, column, problem: t });
                None
            }),
            None => None,
        };
        v.contract_start = contract_date(ImportField::ContractStart, &mut problems);
        v.contract_end = contract_date(ImportField::ContractEnd, &mut problems);
        v.contract_amount =
            field!(ImportField::ContractAmount, |s| domain::parse_amount(s, currency.unwrap_or(Currency::Krw)));
        v.billing_period = field!(ImportField::BillingPeriod, billing_for);
        v.auto_renew = field!(ImportField::AutoRenew, yes_no);
        v.notice_days = field!(ImportField::NoticeDays, notice_days_of);
        v.contract_state = field!(ImportField::ContractStatus, contract_state_for);

        // The records the row names, and what each needs.
        if v.account_key().is_none() && problems.is_empty() {
            problem!(columns.account, T::ImportMissingAccount);
        }
        if v.contact_name.is_none() && v.has_contact_fields() {
            problem!(columns.contact_name, T::ImportContactNeedsName);
        }
        if v.deal_name.is_none() && v.deal_id.is_none() && v.has_deal_fields() {
            problem!(column_of(ImportField::DealName).unwrap_or(account), T::ImportDealNeedsName);
        }
        if let (Some(stage), true) = (&stage, v.deal_name.is_some() || v.deal_id.is_some()) {
            let facts = StageFacts { amount: v.amount, close_date: v.close_date, lost_reason: v.lost_reason.clone() };
            // The importer is an admin, who may reopen a closed deal.
            if let Err(t) = check_stage(None, stage, &facts, true) {
                problem!(column_of(ImportField::Stage).unwrap_or_default(), t);
            }
        }
        if v.contract_title.is_none() && v.has_contract_fields() {
            problem!(column_of(ImportField::ContractTitle).unwrap_or(account), T::ImportContractNeedsTitle);
        }
        if v.contract_title.is_some() {
            // What a contract cannot be without (the form requires them too).
            for (field, value) in [
                (ImportField::ContractStart, v.contract_start.is_some()),
                (ImportField::ContractEnd, v.contract_end.is_some()),
                (ImportField::ContractAmount, v.contract_amount.is_some()),
            ] {
                if !value && !problems.iter().any(|p| Some(p.column) == column_of(field)) {
                    problem!(column_of(field).unwrap_or(columns.contract), T::Required);
                }
            }
            if let (Some(start), Some(end)) = (v.contract_start, v.contract_end) {
                if let Err((field, t)) = domain::check_contract_terms(start, end, v.notice_days.unwrap_or(0)) {
                    let field = if field == "notice_days" { ImportField::NoticeDays } else { ImportField::ContractEnd };
                    problem!(column_of(field).unwrap_or(columns.contract), t);
                }
            }
        }
        parsed.push(Parsed { values: v, problems, columns });
    }
}

/// A contract date: a date cell, an Excel serial or a text date. Its range
/// is the contract rule's (`check_contract_terms`), not the close dates'.
fn contract_date_of(cell: &CellValue, epoch_1904: bool) -> Result<Option<NaiveDate>, T> {
    match cell {
        CellValue::Date(d) => Ok(Some(*d)),
        CellValue::Number(n) => domain::date_from_excel_serial(*n, epoch_1904).map(Some),
        other => domain::parse_date_lenient(&other.to_text()),
    }
}

/// A billing period by its code or its label in either language, or the
/// words Korean sheets use for it.
fn billing_for(text: &str) -> Result<Option<String>, T> {
    let wanted = compact_lower(text);
    if wanted.is_empty() {
        return Ok(None);
    }
    let period = match wanted.as_str() {
        "월" | "월별" | "매월" | "월납" | "monthly" | "month" => Some(BillingPeriod::Monthly),
        "연" | "연간" | "매년" | "연납" | "년" | "annual" | "yearly" | "year" => Some(BillingPeriod::Annual),
        "일시불" | "1회" | "일회" | "onetime" | "one-time" | "once" => Some(BillingPeriod::OneTime),
        other => BillingPeriod::ALL.into_iter().find(|b| {
            compact_lower(b.code()) == other
                || compact_lower(b.label().text(Lang::Ko)) == other
                || compact_lower(b.label().text(Lang::En)) == other
        }),
    };
    period.map(|p| Some(p.code().to_string())).ok_or(T::ImportUnknownChoice)
}

fn yes_no(text: &str) -> Result<Option<bool>, T> {
    match compact_lower(text).as_str() {
        "" => Ok(None),
        "예" | "네" | "y" | "yes" | "true" | "o" | "1" | "자동" | "자동갱신" | "있음" => Ok(Some(true)),
        "아니요" | "아니오" | "n" | "no" | "false" | "x" | "0" | "없음" => Ok(Some(false)),
        _ => Err(T::ImportUnknownChoice),
    }
}

/// Days, as "30", "30일" or "30 days".
fn notice_days_of(text: &str) -> Result<Option<i32>, T> {
    let compact = compact_lower(text);
    let digits = compact.trim_end_matches("days").trim_end_matches("day").trim_end_matches('일');
    if digits.is_empty() {
        return Ok(None);
    }
    domain::parse_notice_days(digits).map(Some)
}

/// Draft or signed; a terminated contract is terminated on its page, with its reason.
fn contract_state_for(text: &str) -> Result<Option<String>, T> {
    match compact_lower(text).as_str() {
        "" => Ok(None),
        "초안" | "draft" | "작성중" => Ok(Some("draft".into())),
        "체결" | "유효" | "진행" | "진행중" | "만료" | "active" | "signed" | "expired" => {
            Ok(Some("signed".into()))
        }
        "해지" | "terminated" | "취소" => Err(T::ImportContractTerminated),
        _ => Err(T::ImportUnknownChoice),
    }
}

fn parse_deal_id(text: &str) -> Result<Option<Uuid>, T> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(text).map(Some).map_err(|_| T::ImportInvalidDealId)
}

/// Each account's details are taken from the first row that gives them, so
/// a deals sheet naming only the account does not hide what the accounts
/// sheet says about it. (The owner stays per row: on a deal row it is the deal's.)
fn fill_account_fields(rows: &mut [RowValues]) {
    type Details = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let mut first: HashMap<String, Details> = HashMap::new();
    for r in rows.iter() {
        let Some(key) = r.account_key() else { continue };
        let d = first.entry(key).or_default();
        let fill = |slot: &mut Option<String>, value: &Option<String>| {
            if slot.is_none() {
                slot.clone_from(value);
            }
        };
        fill(&mut d.0, &r.account_name);
        fill(&mut d.1, &r.industry);
        fill(&mut d.2, &r.company_size);
        fill(&mut d.3, &r.address);
        fill(&mut d.4, &r.main_phone);
        fill(&mut d.5, &r.website);
        fill(&mut d.6, &r.notes);
    }
    for r in rows.iter_mut() {
        let Some(d) = r.account_key().and_then(|k| first.get(&k)) else { continue };
        r.account_name.clone_from(&d.0);
        r.industry.clone_from(&d.1);
        r.company_size.clone_from(&d.2);
        r.address.clone_from(&d.3);
        r.main_phone.clone_from(&d.4);
        r.website.clone_from(&d.5);
        r.notes.clone_from(&d.6);
    }
}

#[cfg(test)]
mod tests;
