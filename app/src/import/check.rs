//! Checking a read sheet against the mapping: every cell of a mapped column
//! goes through the same parser the forms use (`kit::domain`), and every
//! problem is reported at its row and column before anything is written.
//! Pure: the database's part (stages, users) comes in as a `Directory`, so
//! the preview and the job check a file identically.

use std::collections::{HashMap, HashSet};

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{CellProblem, CellValue, ColumnMapping, ImportField, SheetRead, SheetRow};
use crate::domain::{self, check_stage, BusinessNumber, Currency, StageFacts, StageInfo, COMPANY_SIZES, INDUSTRIES};
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
    pub deal_name: Option<String>,
    pub stage_id: Option<String>,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub probability: Option<i32>,
    pub close_date: Option<NaiveDate>,
    pub source: Option<String>,
    pub lost_reason: Option<String>,
}

impl RowValues {
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
    /// Problems of the mapping as a whole: nothing can be imported until fixed.
    pub file_problems: Vec<T>,
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

/// Checks every data row below the header.
pub fn check(read: &SheetRead, mapping: &[ColumnMapping], dir: &Directory) -> Checked {
    let mut checked = Checked::default();
    let column_of = |field: ImportField| mapping.iter().find(|m| m.field == Some(field)).map(|m| m.column);
    if column_of(ImportField::AccountName).is_none() && column_of(ImportField::BusinessNumber).is_none() {
        checked.file_problems.push(T::ImportNoAccountColumn);
    }
    let Some(header) = read.header else {
        checked.file_problems.push(T::ImportHeaderNotFound);
        return checked;
    };
    let read_problems: HashMap<(u32, u32), T> =
        read.problems.iter().filter(|p| p.row > header.number).map(|p| ((p.row, p.column), p.problem)).collect();
    let mut invalid: HashSet<u32> = HashSet::new();
    let mut accounts: HashMap<String, (Option<String>, u32)> = HashMap::new();
    let mut contacts: HashSet<(String, String)> = HashSet::new();
    let mut deals: HashSet<(String, String)> = HashSet::new();

    for row in read.rows.iter().filter(|r| r.number > header.number && !r.is_blank()) {
        checked.data_rows += 1;
        let mut problems: Vec<CellProblem> = Vec::new();
        let number = row.number;
        macro_rules! problem {
            ($column:expr, $t:expr) => {
                problems.push(CellProblem { row: number, column: $column, problem: $t })
            };
        }
        if let Some(column) = is_total_row(row) {
            problem!(column, T::ImportTotalRow);
            checked.problems.append(&mut problems);
            invalid.insert(row.number);
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
        let mut v = RowValues { row: row.number, ..RowValues::default() };

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

        // The records the row names, and what each needs.
        let account_column =
            column_of(ImportField::AccountName).or(column_of(ImportField::BusinessNumber)).unwrap_or_default();
        let key = v.account_key();
        if key.is_none() && problems.is_empty() {
            problem!(account_column, T::ImportMissingAccount);
        }
        if v.contact_name.is_none() && v.has_contact_fields() {
            problem!(column_of(ImportField::ContactName).unwrap_or(account_column), T::ImportContactNeedsName);
        }
        if v.deal_name.is_none() && v.has_deal_fields() {
            problem!(column_of(ImportField::DealName).unwrap_or(account_column), T::ImportDealNeedsName);
        }
        if let (Some(stage), Some(_)) = (&stage, &v.deal_name) {
            let facts = StageFacts { amount: v.amount, close_date: v.close_date, lost_reason: v.lost_reason.clone() };
            // The importer is an admin, who may reopen a closed deal.
            if let Err(t) = check_stage(None, stage, &facts, true) {
                problem!(column_of(ImportField::Stage).unwrap_or_default(), t);
            }
        }
        if let Some(key) = &key {
            match accounts.get(key) {
                Some((name, first_row)) if v.account_name.is_some() && name.is_some() && *name != v.account_name => {
                    let _ = first_row;
                    problem!(column_of(ImportField::AccountName).unwrap_or_default(), T::ImportAccountConflict);
                }
                Some(_) => {}
                None => {
                    accounts.insert(key.clone(), (v.account_name.clone(), row.number));
                }
            }
            if let Some(name) = &v.contact_name {
                let contact_key = v.email.clone().unwrap_or_else(|| format!("n:{}", name.to_lowercase()));
                if !contacts.insert((key.clone(), contact_key)) {
                    problem!(column_of(ImportField::ContactName).unwrap_or_default(), T::ImportDuplicateRow);
                }
            }
            if let Some(name) = &v.deal_name {
                if !deals.insert((key.clone(), name.to_lowercase())) {
                    problem!(column_of(ImportField::DealName).unwrap_or_default(), T::ImportDuplicateRow);
                }
            }
        }
        if problems.is_empty() {
            checked.rows.push(v);
        } else {
            invalid.insert(row.number);
            checked.problems.append(&mut problems);
        }
    }
    checked.invalid_rows = invalid.len() as u32;
    checked.problems.sort_by_key(|p| (p.row, p.column));
    checked
}

#[cfg(test)]
mod tests;
