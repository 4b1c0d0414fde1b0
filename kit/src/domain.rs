//! Validated domain values, parsed once at the edge (form input, import, API)
//! and trusted everywhere after that.

use crate::i18n::T;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Korean business registration number (사업자등록번호): 10 digits, the last a
/// check digit. Stored as the bare 10 digits, shown as 123-45-67890.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BusinessNumber(String);

impl BusinessNumber {
    /// Accepts "1234567890" or "123-45-67890" (spaces and dashes anywhere are
    /// ignored, as people type them inconsistently).
    pub fn parse(input: &str) -> Result<Self, T> {
        let mut digits = String::with_capacity(10);
        for c in input.chars() {
            match c {
                '0'..='9' => digits.push(c),
                '-' | ' ' => {}
                _ => return Err(T::BusinessNumberDigits),
            }
        }
        if digits.len() != 10 {
            return Err(T::BusinessNumberLength);
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        const WEIGHTS: [u32; 9] = [1, 3, 7, 1, 3, 7, 1, 3, 5];
        let mut sum: u32 = d.iter().zip(WEIGHTS).map(|(x, w)| x * w).sum();
        sum += (d[8] * 5) / 10;
        let check = (10 - sum % 10) % 10;
        if check != d[9] {
            return Err(T::BusinessNumberCheckDigit);
        }
        Ok(Self(digits))
    }

    /// An optional field: empty is `None`, anything else must be valid.
    pub fn parse_optional(input: &str) -> Result<Option<Self>, T> {
        match input.trim() {
            "" => Ok(None),
            raw => Self::parse(raw).map(Some),
        }
    }

    /// The valid number whose first nine digits are `prefix` (0..=999_999_999):
    /// for demo data, tests and benchmarks.
    pub fn from_prefix(prefix: u32) -> Self {
        let nine = format!("{:09}", prefix % 1_000_000_000);
        (0..10)
            .map(|d| format!("{nine}{d}"))
            .find_map(|s| Self::parse(&s).ok())
            .unwrap_or_else(|| Self(format!("{nine}0")))
    }

    /// For values read back from the database, which only ever holds validated numbers.
    pub fn from_stored(digits: String) -> Self {
        Self(digits)
    }

    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BusinessNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        if s.len() == 10 {
            write!(f, "{}-{}-{}", &s[..3], &s[3..5], &s[5..])
        } else {
            f.write_str(s)
        }
    }
}

/// A list's search text, trimmed. Longer than any name, email or number we
/// store, it can only be a mistake (or an attempt to tie up the database).
pub fn parse_search(input: &str) -> Result<Option<String>, T> {
    let q = input.trim();
    if q.is_empty() {
        Ok(None)
    } else if q.chars().count() < 2 {
        // One character matches nearly every row and no text index serves
        // it: refused rather than scanned.
        Err(T::SearchTooShort)
    } else if q.chars().count() > 100 {
        Err(T::SearchTooLong)
    } else {
        Ok(Some(q.to_string()))
    }
}

/// An optional choice of a record by id (an owner picker): empty is `None`.
pub fn parse_optional_id(input: &str) -> Result<Option<uuid::Uuid>, T> {
    match input.trim() {
        "" => Ok(None),
        raw => uuid::Uuid::parse_str(raw).map(Some).map_err(|_| T::InvalidChoice),
    }
}

/// Free text typed by a user: trimmed, bounded, no control characters.
/// Markup is allowed as text: it is always rendered escaped.
pub fn clean_text(input: &str, max_chars: usize, required: bool) -> Result<Option<String>, T> {
    let allow_newlines = max_chars > 500;
    if input.chars().any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t'))) {
        return Err(T::ControlCharacters);
    }
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return if required { Err(T::Required) } else { Ok(None) };
    }
    if trimmed.chars().count() > max_chars {
        return Err(T::TooLong);
    }
    Ok(Some(trimmed.to_string()))
}

/// A pragmatic email check: one @, a dot in the domain, no spaces.
pub fn parse_email(input: &str) -> Result<Option<String>, T> {
    let Some(v) = clean_text(input, 254, false)? else { return Ok(None) };
    let mut parts = v.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(T::InvalidEmail);
    };
    let domain_ok =
        domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains("..");
    if local.is_empty() || !domain_ok || v.chars().any(char::is_whitespace) {
        return Err(T::InvalidEmail);
    }
    Ok(Some(v.to_lowercase()))
}

/// Phone numbers as Koreans write them: digits with optional +, dashes, spaces,
/// parentheses; 8 to 15 digits (02-123-4567, 010-1234-5678, +82 2 1234 5678).
pub fn parse_phone(input: &str) -> Result<Option<String>, T> {
    let Some(v) = clean_text(input, 30, false)? else { return Ok(None) };
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let allowed = v
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')') || (c == '+' && i == 0));
    if !allowed || !(8..=15).contains(&digits) {
        return Err(T::InvalidPhone);
    }
    Ok(Some(v))
}

/// Website: http(s) URL or a bare domain, stored with its scheme.
pub fn parse_website(input: &str) -> Result<Option<String>, T> {
    let Some(v) = clean_text(input, 200, false)? else { return Ok(None) };
    let lower = v.to_lowercase();
    let with_scheme = if lower.starts_with("http://") || lower.starts_with("https://") {
        v.clone()
    } else if lower.contains("://") {
        return Err(T::InvalidWebsite);
    } else {
        format!("https://{v}")
    };
    let host = with_scheme.split_once("://").map_or("", |x| x.1).split('/').next().unwrap_or("");
    if !host.contains('.') || host.chars().any(|c| c.is_whitespace() || c == '<' || c == '>' || c == '"') {
        return Err(T::InvalidWebsite);
    }
    Ok(Some(with_scheme))
}

/// Longest redirect target accepted: far beyond any path of ours, short
/// enough that a return address cannot bloat a stored sign-in attempt.
pub const MAX_SAME_SITE_PATH: usize = 2048;

/// The one check for a redirect target taken from a request (the sign-in's
/// `return_to`, the language switch's `to`, the board's `back`): a path on
/// this site, or `None`.
///
/// Refused: anything not starting with a single `/` (`https://x`, `//x`,
/// which browsers read as another host); any backslash, since browsers treat
/// `\` as `/` and `/\evil.example` is another host; control characters, raw
/// or percent-encoded (browsers drop tabs and newlines, so `/\t/evil` becomes
/// `//evil`, and an encoded CR LF is a header-splitting attempt whatever a
/// given server does with it); an encoded backslash likewise; and targets
/// longer than [`MAX_SAME_SITE_PATH`].
pub fn same_site_path(raw: &str) -> Option<&str> {
    let bytes = raw.as_bytes();
    if bytes.first() != Some(&b'/') || bytes.get(1) == Some(&b'/') || raw.len() > MAX_SAME_SITE_PATH {
        return None;
    }
    if raw.chars().any(|c| c == '\\' || c.is_control()) {
        return None;
    }
    let encoded_forbidden = bytes.windows(3).any(|w| {
        w[0] == b'%'
            && std::str::from_utf8(&w[1..])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .is_some_and(|b| b < 0x20 || b == 0x7f || b == b'\\')
    });
    if encoded_forbidden {
        return None;
    }
    Some(raw)
}

// --- Stages and the stage rules (deals, import)

/// A pipeline stage: data in the `stages` table, not code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageInfo {
    pub id: String,
    pub position: i32,
    pub name_ko: String,
    pub name_en: String,
    pub default_probability: i32,
    pub is_won: bool,
    pub is_lost: bool,
}

impl StageInfo {
    pub fn name(&self, lang: crate::i18n::Lang) -> &str {
        match lang {
            crate::i18n::Lang::Ko => &self.name_ko,
            crate::i18n::Lang::En => &self.name_en,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.is_won || self.is_lost
    }
}

/// What the stage rules look at.
#[derive(Debug, Clone, PartialEq)]
pub struct StageFacts {
    pub amount: Option<rust_decimal::Decimal>,
    pub close_date: Option<chrono::NaiveDate>,
    pub lost_reason: Option<String>,
}

/// The stage rules, the same whatever path changes a stage (form, board, import, API):
/// a won deal has an amount and a close date, a lost deal a reason, and only a
/// manager reopens a closed deal.
pub fn check_stage(from: Option<&StageInfo>, to: &StageInfo, facts: &StageFacts, is_manager: bool) -> Result<(), T> {
    if let Some(from) = from {
        if from.id != to.id && from.is_closed() && !is_manager {
            return Err(T::OnlyManagerReopens);
        }
    }
    if to.is_won && (facts.amount.is_none() || facts.close_date.is_none()) {
        return Err(T::WonNeedsAmountAndDate);
    }
    if to.is_lost && facts.lost_reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(T::LostNeedsReason);
    }
    Ok(())
}

// --- Account code lists (accounts, import)

/// Industries are a fixed list so the list can be filtered by them.
pub const INDUSTRIES: &[(&str, T)] = &[
    ("it", T::IndustryIt),
    ("manufacturing", T::IndustryManufacturing),
    ("finance", T::IndustryFinance),
    ("retail", T::IndustryRetail),
    ("public", T::IndustryPublic),
    ("healthcare", T::IndustryHealthcare),
    ("education", T::IndustryEducation),
    ("media", T::IndustryMedia),
    ("logistics", T::IndustryLogistics),
    ("other", T::IndustryOther),
];

pub const COMPANY_SIZES: &[(&str, T)] =
    &[("small", T::SizeSmall), ("medium", T::SizeMedium), ("large", T::SizeLarge), ("enterprise", T::SizeEnterprise)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_need_two_to_a_hundred_characters() {
        assert_eq!(parse_search("  "), Ok(None));
        assert_eq!(parse_search(" a "), Err(T::SearchTooShort));
        assert_eq!(parse_search("클"), Err(T::SearchTooShort));
        assert_eq!(parse_search(" 클라 "), Ok(Some("클라".to_string())));
        assert_eq!(parse_search(&"가".repeat(101)), Err(T::SearchTooLong));
    }

    #[test]
    fn same_site_path_accepts_only_paths_on_this_site() {
        assert_eq!(same_site_path("/accounts?q=%EA%B5%AC%EB%A6%84"), Some("/accounts?q=%EA%B5%AC%EB%A6%84"));
        assert_eq!(same_site_path("/pipeline?owner=me"), Some("/pipeline?owner=me"));
        assert_eq!(same_site_path("/accounts?q=구름"), Some("/accounts?q=구름"));
        for refused in [
            "",
            "accounts",
            "//evil",
            "//evil.example/accounts",
            "https://evil",
            "/\\evil.example",
            "/accounts\\..\\",
            "/%0d%0aSet-Cookie:%20x=1",
            "/%0D%0ASet-Cookie",
            "/%5cevil.example",
            "/\r\nSet-Cookie: x=1",
            "/\t/evil.example",
            "/\u{7f}",
            "/\u{85}",
        ] {
            assert_eq!(same_site_path(refused), None, "{refused:?} must be refused");
        }
        let long = format!("/{}", "a".repeat(MAX_SAME_SITE_PATH));
        assert_eq!(same_site_path(&long), None, "over-long");
    }

    #[test]
    fn business_number_accepts_valid_with_and_without_dashes() {
        // 220-81-62517 is a well-known valid number (check digit 7).
        let a = BusinessNumber::parse("220-81-62517").expect("valid");
        let b = BusinessNumber::parse("2208162517").expect("valid");
        assert_eq!(a, b);
        assert_eq!(a.digits(), "2208162517");
        assert_eq!(a.to_string(), "220-81-62517");
        assert!(BusinessNumber::parse(" 220 81 62517 ").is_ok());
    }

    #[test]
    fn business_number_rejects_wrong_check_digit() {
        assert_eq!(BusinessNumber::parse("220-81-62518"), Err(T::BusinessNumberCheckDigit));
        assert_eq!(BusinessNumber::parse("1234567890"), Err(T::BusinessNumberCheckDigit));
    }

    #[test]
    fn business_number_rejects_wrong_length() {
        assert_eq!(BusinessNumber::parse("220-81-6251"), Err(T::BusinessNumberLength));
        assert_eq!(BusinessNumber::parse("220-81-625170"), Err(T::BusinessNumberLength));
        assert_eq!(BusinessNumber::parse(""), Err(T::BusinessNumberLength));
    }

    #[test]
    fn business_number_rejects_non_digits() {
        assert_eq!(BusinessNumber::parse("220-8l-62517"), Err(T::BusinessNumberDigits));
        assert_eq!(BusinessNumber::parse("220.81.62517"), Err(T::BusinessNumberDigits));
        assert_eq!(BusinessNumber::parse("２２０８１６２５１７"), Err(T::BusinessNumberDigits));
    }

    #[test]
    fn check_digit_handles_the_ninth_digit_carry() {
        // Ninth digit 9 contributes 9*5=45 → 45 + 4 = 49 in the sum.
        let mut found = 0;
        for last in 0..10 {
            if BusinessNumber::parse(&format!("12345678 9{last}")).is_ok() {
                found += 1;
            }
        }
        assert_eq!(found, 1, "exactly one check digit is valid");
    }

    #[test]
    fn text_rejects_control_characters_and_overlong_input() {
        assert_eq!(clean_text("a\u{0007}b", 10, true), Err(T::ControlCharacters));
        assert_eq!(clean_text("가".repeat(11).as_str(), 10, true), Err(T::TooLong));
        assert_eq!(clean_text("   ", 10, true), Err(T::Required));
        assert_eq!(clean_text("   ", 10, false), Ok(None));
        assert_eq!(clean_text(" <b>구름</b> ", 20, true), Ok(Some("<b>구름</b>".into())));
    }

    #[test]
    fn email_and_phone() {
        assert_eq!(parse_email("Kim@Example.co.kr"), Ok(Some("kim@example.co.kr".into())));
        assert_eq!(parse_email("kim@example"), Err(T::InvalidEmail));
        assert_eq!(parse_email("a@b@c.kr"), Err(T::InvalidEmail));
        assert_eq!(parse_phone("02-1234-5678"), Ok(Some("02-1234-5678".into())));
        assert_eq!(parse_phone("+82 10 1234 5678"), Ok(Some("+82 10 1234 5678".into())));
        assert_eq!(parse_phone("1234"), Err(T::InvalidPhone));
        assert_eq!(parse_phone("010-1234-567a"), Err(T::InvalidPhone));
    }

    #[test]
    fn amounts_are_exact_and_bounded() {
        use rust_decimal::Decimal;
        use std::str::FromStr;
        let d = |s: &str| Decimal::from_str(s).expect("decimal");
        assert_eq!(parse_amount("₩12,000,000", Currency::Krw), Ok(Some(d("12000000"))));
        assert_eq!(parse_amount("12,000,000원", Currency::Krw), Ok(Some(d("12000000"))));
        assert_eq!(parse_amount("$1,234.50", Currency::Usd), Ok(Some(d("1234.5"))));
        assert_eq!(parse_amount("1000.5", Currency::Krw), Err(T::AmountNoDecimalsKrw));
        assert_eq!(parse_amount("10.123", Currency::Usd), Err(T::AmountTwoDecimals));
        assert_eq!(parse_amount("-5", Currency::Krw), Err(T::AmountNegative));
        assert_eq!(parse_amount("1e9", Currency::Krw), Err(T::InvalidAmount));
        assert_eq!(parse_amount("99999999999999", Currency::Krw), Err(T::AmountTooLarge));
        assert_eq!(parse_amount("  ", Currency::Usd), Ok(None));
        assert_eq!(Currency::parse("eur"), Err(T::InvalidCurrency));
    }

    #[test]
    fn probability_and_dates() {
        assert_eq!(parse_probability("40%"), Ok(Some(40)));
        assert_eq!(parse_probability("0.4"), Ok(Some(40)));
        assert_eq!(parse_probability("100"), Ok(Some(100)));
        assert_eq!(parse_probability("101"), Err(T::InvalidProbability));
        assert_eq!(parse_probability("12.5"), Err(T::InvalidProbability));
        let day = chrono::NaiveDate::from_ymd_opt(2022, 12, 31);
        assert_eq!(parse_date("2022-12-31"), Ok(day));
        assert_eq!(parse_date("2022.12.31"), Ok(day));
        assert_eq!(parse_date("2022/12/31"), Ok(day));
        assert_eq!(parse_date("2022-02-30"), Err(T::InvalidDate));
        assert_eq!(parse_date("2022-1-5"), Ok(chrono::NaiveDate::from_ymd_opt(2022, 1, 5)));
        assert_eq!(parse_date("22-12-31"), Err(T::InvalidDate));
        assert_eq!(parse_date("2022-12-31-1"), Err(T::InvalidDate));
        assert_eq!(parse_date("2022-+1-05"), Err(T::InvalidDate));
    }

    #[test]
    fn amounts_as_spreadsheets_hold_them() {
        use rust_decimal::Decimal;
        let krw = |s: &str| parse_amount(s, Currency::Krw);
        let n = |v: i64| Ok(Some(Decimal::from(v)));
        assert_eq!(krw("12000000"), n(12_000_000));
        assert_eq!(krw("  ₩ 12,000,000 "), n(12_000_000));
        assert_eq!(krw("１２，０００，０００원"), n(12_000_000));
        assert_eq!(krw("￦500"), n(500));
        assert_eq!(krw("300만"), n(3_000_000));
        assert_eq!(krw("300만원"), n(3_000_000));
        assert_eq!(krw("1.5억"), n(150_000_000));
        assert_eq!(krw("1억 2,000만원"), n(120_000_000));
        assert_eq!(krw("1억2000만 5000"), n(120_005_000));
        assert_eq!(krw("3억"), n(300_000_000));
        assert_eq!(krw("2만1억"), Err(T::InvalidAmount));
        assert_eq!(krw("1억억"), Err(T::InvalidAmount));
        assert_eq!(krw("억"), Err(T::InvalidAmount));
        assert_eq!(krw("5천만"), Err(T::InvalidAmount));
        assert_eq!(krw("1.23456789억"), n(123_456_789));
        assert_eq!(krw("1.234567891억"), Err(T::AmountNoDecimalsKrw));
        assert_eq!(krw("100000억"), n(MAX_AMOUNT), "ten trillion is the largest allowed");
        assert_eq!(krw("100000억 1"), Err(T::AmountTooLarge));
        assert_eq!(krw(&format!("{}억", "9".repeat(28))), Err(T::AmountTooLarge));
        assert_eq!(krw("-300만"), Err(T::AmountNegative));
    }

    #[test]
    fn probabilities_in_full_width() {
        assert_eq!(parse_probability("４０％"), Ok(Some(40)));
        assert_eq!(parse_probability(" 40 % "), Ok(Some(40)));
        assert_eq!(parse_probability("0.25"), Ok(Some(25)));
    }

    #[test]
    fn dates_as_spreadsheets_hold_them() {
        let day = chrono::NaiveDate::from_ymd_opt(2022, 12, 31);
        assert_eq!(parse_date("2022년 12월 31일"), Ok(day));
        assert_eq!(parse_date("2022. 12. 31."), Ok(day));
        assert_eq!(parse_date("２０２２-１２-３１"), Ok(day));
        assert_eq!(parse_date("22.12.31"), Err(T::InvalidDate), "forms keep four-digit years");
        for text in [
            "2022-12-31",
            "2022.12.31",
            "2022/12/31",
            "2022년 12월 31일",
            "22.12.31",
            "22/12/31",
            "22년 12월 31일",
            "20221231",
            " 2022-12-31 ",
            "2022-12-31 14:30",
            "2022-12-31T14:30:00",
            "2022. 12. 31. 오후 2:00:00",
        ] {
            assert_eq!(parse_date_lenient(text), Ok(day), "{text}");
        }
        assert_eq!(parse_date_lenient("22-12-31"), Err(T::InvalidDate));
        assert_eq!(parse_date_lenient("20221331"), Err(T::InvalidDate));
        assert_eq!(parse_date_lenient("Total"), Err(T::InvalidDate));
        assert_eq!(parse_date_lenient(""), Ok(None));
    }

    #[test]
    fn excel_serials_in_both_date_systems() {
        let date = |y, m, d| Ok(chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date"));
        // 1900 system: day 1 is 1900-01-01; the phantom 1900-02-29 is serial 60.
        assert_eq!(date_from_excel_serial(1.0, false), date(1900, 1, 1));
        assert_eq!(date_from_excel_serial(59.0, false), date(1900, 2, 28));
        assert_eq!(date_from_excel_serial(60.0, false), Err(T::InvalidDate));
        assert_eq!(date_from_excel_serial(61.0, false), date(1900, 3, 1));
        assert_eq!(date_from_excel_serial(44926.0, false), date(2022, 12, 31));
        assert_eq!(date_from_excel_serial(44926.75, false), date(2022, 12, 31), "the time is dropped");
        assert_eq!(date_from_excel_serial(2_958_465.0, false), date(9999, 12, 31));
        // 1904 system: day 0 is 1904-01-01, 1462 days after the 1900 system's count.
        assert_eq!(date_from_excel_serial(0.0, true), date(1904, 1, 1));
        assert_eq!(date_from_excel_serial(44926.0 - 1462.0, true), date(2022, 12, 31));
        assert_eq!(date_from_excel_serial(0.0, false), Err(T::InvalidDate));
        assert_eq!(date_from_excel_serial(-1.0, false), Err(T::InvalidDate));
        assert_eq!(date_from_excel_serial(f64::NAN, false), Err(T::InvalidDate));
        assert_eq!(date_from_excel_serial(1e300, false), Err(T::DateOutOfRange));
    }

    #[test]
    fn half_width() {
        let text: String = "ＡＢＣ　１２３，％".chars().map(to_half_width).collect();
        assert_eq!(text, "ABC 123,%");
    }

    #[test]
    fn dates_and_instants_keep_their_value_on_the_wire() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Wire {
            #[serde(with = "iso_date_option")]
            close: Option<chrono::NaiveDate>,
            #[serde(with = "iso_date_option")]
            open: Option<chrono::NaiveDate>,
            #[serde(with = "chrono::serde::ts_microseconds")]
            at: chrono::DateTime<chrono::Utc>,
        }
        let at = chrono::DateTime::from_timestamp_micros(1_795_000_000_123_456).expect("instant");
        let wire = Wire { close: chrono::NaiveDate::from_ymd_opt(2026, 12, 31), open: None, at };
        let json = serde_json::to_string(&wire).expect("encode");
        assert_eq!(json, r#"{"close":"2026-12-31","open":null,"at":1795000000123456}"#);
        assert_eq!(serde_json::from_str::<Wire>(&json).expect("decode"), wire);
        let bad = r#"{"close":"2026-02-30","open":null,"at":0}"#;
        assert!(serde_json::from_str::<Wire>(bad).is_err());
    }

    #[test]
    fn website_gets_a_scheme() {
        assert_eq!(parse_website("gurum.co.kr"), Ok(Some("https://gurum.co.kr".into())));
        assert_eq!(parse_website("javascript://x"), Err(T::InvalidWebsite));
        assert_eq!(parse_website("localhost"), Err(T::InvalidWebsite));
    }
}

/// Deal and contract currencies. KRW has no minor unit; USD has cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    Krw,
    Usd,
}

impl Currency {
    pub const ALL: [Currency; 2] = [Currency::Krw, Currency::Usd];

    pub fn code(self) -> &'static str {
        match self {
            Currency::Krw => "KRW",
            Currency::Usd => "USD",
        }
    }

    pub fn parse(input: &str) -> Result<Currency, T> {
        match input.trim().to_ascii_uppercase().as_str() {
            "KRW" | "₩" | "원" => Ok(Currency::Krw),
            "USD" | "$" => Ok(Currency::Usd),
            _ => Err(T::InvalidCurrency),
        }
    }

    pub fn minor_units(self) -> u32 {
        match self {
            Currency::Krw => 0,
            Currency::Usd => 2,
        }
    }
}

/// The largest amount a deal may carry: ten trillion in any currency is a typo.
pub const MAX_AMOUNT: i64 = 10_000_000_000_000;

/// An amount as people type it or a spreadsheet holds it: "12,000,000",
/// "₩12,000,000", "12,000,000원", "$1,234.50", plain numbers ("12000000"),
/// full-width digits and signs ("１２，０００원", "￦500"), and the Korean units
/// 만 (10⁴) and 억 (10⁸), alone or together: "300만", "1.5억", "1억 2,000만원"
/// (= 120,000,000). Only 만 and 억 are supported: 천 and 조 are refused as not an
/// amount rather than guessed. Exact decimal, never negative, no more decimals
/// than the currency has, not absurdly large.
pub fn parse_amount(input: &str, currency: Currency) -> Result<Option<rust_decimal::Decimal>, T> {
    let half_width: String = input.chars().map(to_half_width).collect();
    let cleaned: String = half_width
        .trim()
        .trim_start_matches(['₩', '$'])
        .trim_end_matches('원')
        .chars()
        .filter(|c| *c != ',' && !c.is_whitespace())
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    if cleaned.starts_with('-') {
        return Err(T::AmountNegative);
    }
    let amount = if cleaned.contains(['만', '억']) { korean_units(&cleaned)? } else { plain_decimal(&cleaned)? };
    let amount = amount.normalize();
    if amount.scale() > currency.minor_units() {
        return Err(match currency {
            Currency::Krw => T::AmountNoDecimalsKrw,
            Currency::Usd => T::AmountTwoDecimals,
        });
    }
    if amount > rust_decimal::Decimal::from(MAX_AMOUNT) {
        return Err(T::AmountTooLarge);
    }
    Ok(Some(amount))
}

/// Digits with at most one decimal point: no exponents, signs or other letters,
/// so "1e9" is not quietly a billion.
fn plain_decimal(digits: &str) -> Result<rust_decimal::Decimal, T> {
    use std::str::FromStr;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(T::InvalidAmount);
    }
    rust_decimal::Decimal::from_str(digits).map_err(|_| T::InvalidAmount)
}

/// "1억2000만", "1.5억", "300만" (separators already removed): each unit at most
/// once, 억 before 만, a number before each. Arithmetic is checked, because a
/// 28-digit number times 10⁸ does not fit a Decimal.
fn korean_units(text: &str) -> Result<rust_decimal::Decimal, T> {
    use rust_decimal::Decimal;
    let mut total = Decimal::ZERO;
    let mut rest = text;
    for (unit, factor) in [('억', 100_000_000_i64), ('만', 10_000)] {
        if let Some((number, after)) = rest.split_once(unit) {
            let part = plain_decimal(number)?.checked_mul(Decimal::from(factor)).ok_or(T::AmountTooLarge)?;
            total = total.checked_add(part).ok_or(T::AmountTooLarge)?;
            rest = after;
        }
    }
    if !rest.is_empty() {
        total = total.checked_add(plain_decimal(rest)?).ok_or(T::AmountTooLarge)?;
    }
    Ok(total)
}

/// Full-width forms (０-９, Ａ-Ｚ, ，．％－／ and the rest of U+FF01..FF5E, the
/// won sign ￦ and the ideographic space) as their ASCII twins: Korean input
/// methods type them, and spreadsheets keep them as typed.
pub fn to_half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '\u{FFE6}' => '₩',
        _ => c,
    }
}

/// "40", "40%" or "0.4" → 40 (full-width "４０％" as well).
pub fn parse_probability(input: &str) -> Result<Option<i32>, T> {
    use std::str::FromStr;
    let half_width: String = input.chars().map(to_half_width).collect();
    let v = half_width.trim().trim_end_matches('%').trim();
    if v.is_empty() {
        return Ok(None);
    }
    let d = rust_decimal::Decimal::from_str(v).map_err(|_| T::InvalidProbability)?;
    let percent =
        if d < rust_decimal::Decimal::ONE && d.scale() > 0 { d * rust_decimal::Decimal::from(100) } else { d };
    if percent.fract() != rust_decimal::Decimal::ZERO
        || percent < rust_decimal::Decimal::ZERO
        || percent > rust_decimal::Decimal::from(100)
    {
        return Err(T::InvalidProbability);
    }
    use rust_decimal::prelude::ToPrimitive;
    percent.to_i32().map(Some).ok_or(T::InvalidProbability)
}

/// A date as a date input sends it (2026-12-31), or as people type it
/// (2026.12.31, 2026/12/31, 2026. 12. 31., 2026년 12월 31일, full-width digits).
/// Years have four digits: for the two-digit years of old spreadsheets see
/// [`parse_date_lenient`].
pub fn parse_date(input: &str) -> Result<Option<chrono::NaiveDate>, T> {
    let Some(parts) = date_parts(input)? else { return Ok(None) };
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => ymd(y, m, d).map(Some),
        _ => Err(T::InvalidDate),
    }
}

/// What [`parse_date`] accepts, plus what spreadsheets hold besides: two-digit
/// years written with dots, slashes or 년 (22.12.31 → 2022-12-31; 00–99 are
/// 2000–2099, the years a sales history has), eight digits (20221231), and a
/// time after the date (2022-12-31 14:00, 2022-12-31T14:00:00), which is
/// dropped. Dashed two-digit years (22-12-31) stay refused, as in forms.
pub fn parse_date_lenient(input: &str) -> Result<Option<chrono::NaiveDate>, T> {
    let half_width: String = input.chars().map(to_half_width).collect();
    let mut v = half_width.trim();
    if let Some((date, _)) = v.split_once('T').filter(|(d, t)| d.len() == 10 && t.contains(':')) {
        v = date;
    } else if let Some(colon) = v.find(':') {
        // "2022-12-31 14:00": the date is everything before the last space before the time.
        // Korean Excel writes "2022. 12. 31. 오후 2:00:00".
        v = v[..colon]
            .rsplit_once(' ')
            .map_or(v, |(date, _)| date.trim_end().trim_end_matches("오전").trim_end_matches("오후").trim_end());
    }
    if v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()) {
        return ymd(&v[..4], &v[4..6], &v[6..]).map(Some);
    }
    let dashed = v.contains('-');
    let Some(parts) = date_parts(v)? else { return Ok(None) };
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => ymd(y, m, d).map(Some),
        [y, m, d] if y.len() == 2 && !dashed => ymd(&format!("20{y}"), m, d).map(Some),
        _ => Err(T::InvalidDate),
    }
}

/// The year, month and day pieces of a typed date, or `None` when it is empty.
fn date_parts(input: &str) -> Result<Option<Vec<String>>, T> {
    let half_width: String = input.chars().map(to_half_width).collect();
    let v = half_width.trim().trim_end_matches(['.', '일']).trim_end();
    if v.is_empty() {
        return Ok(None);
    }
    let normalized = v.replace(['.', '/', '년', '월'], "-").replace(' ', "");
    // Parsed by hand: chrono's format parser is heavy in the browser bundle.
    Ok(Some(normalized.split('-').map(str::to_string).collect()))
}

fn ymd(y: &str, m: &str, d: &str) -> Result<chrono::NaiveDate, T> {
    let number = |p: &str, max_len: usize| {
        (!p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    };
    match (number(y, 4), number(m, 2), number(d, 2)) {
        (Some(y), Some(m), Some(d)) => chrono::NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(T::InvalidDate),
        _ => Err(T::InvalidDate),
    }
}

/// The last day Excel can show (9999-12-31) as a 1900-system serial.
const EXCEL_LAST_SERIAL: f64 = 2_958_465.0;

/// An Excel date serial number (a number in a date column, or the value under
/// a date cell) as a date; the fraction, the time of day, is dropped.
///
/// The 1900 system (Windows Excel's default) counts 1900-01-01 as day 1 and,
/// copying Lotus 1-2-3, also counts a 1900-02-29 that never existed (serial
/// 60): serials after it are one day ahead of a plain count, and 60 itself is
/// refused rather than shown as a day that is not in the calendar. The 1904
/// system (older Mac Excel, a workbook setting) counts 1904-01-01 as day 0.
pub fn date_from_excel_serial(serial: f64, epoch_1904: bool) -> Result<chrono::NaiveDate, T> {
    use chrono::{Days, NaiveDate};
    if !serial.is_finite() || serial < 0.0 {
        return Err(T::InvalidDate);
    }
    let days = serial.floor();
    if days > EXCEL_LAST_SERIAL {
        return Err(T::DateOutOfRange);
    }
    // In range 0..=2958465, so the conversion is exact.
    let days = days as u64;
    let (epoch, offset) = match (epoch_1904, days) {
        (true, _) => ((1904, 1, 1), days),
        (false, 0 | 60) => return Err(T::InvalidDate),
        (false, 1..=59) => ((1899, 12, 31), days),
        (false, _) => ((1899, 12, 30), days),
    };
    NaiveDate::from_ymd_opt(epoch.0, epoch.1, epoch.2)
        .and_then(|start| start.checked_add_days(Days::new(offset)))
        .ok_or(T::DateOutOfRange)
}

/// Optional dates on the wire as "2026-12-31", read with `parse_date` rather
/// than chrono's `FromStr`, whose format parser would otherwise be compiled
/// into the browser bundle.
/// How often a contract's amount is billed. Shared by the contract forms and
/// the import, so both read a billing period the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillingPeriod {
    OneTime,
    Monthly,
    Annual,
}

impl BillingPeriod {
    pub const ALL: [BillingPeriod; 3] = [BillingPeriod::OneTime, BillingPeriod::Monthly, BillingPeriod::Annual];

    pub fn code(self) -> &'static str {
        match self {
            BillingPeriod::OneTime => "one-time",
            BillingPeriod::Monthly => "monthly",
            BillingPeriod::Annual => "annual",
        }
    }

    pub fn from_code(code: &str) -> Option<BillingPeriod> {
        Self::ALL.into_iter().find(|b| b.code() == code.trim())
    }

    pub fn label(self) -> T {
        match self {
            BillingPeriod::OneTime => T::BillingOneTime,
            BillingPeriod::Monthly => T::BillingMonthly,
            BillingPeriod::Annual => T::BillingAnnual,
        }
    }
}

/// The longest term a contract may have; anything longer is a typo.
pub const MAX_CONTRACT_YEARS: u32 = 30;

/// A notice period in days, 0 to 3650; empty is none.
pub fn parse_notice_days(input: &str) -> Result<i32, T> {
    match input.trim() {
        "" => Ok(0),
        raw => raw.parse::<i32>().ok().filter(|d| (0..=3650).contains(d)).ok_or(T::InvalidNoticeDays),
    }
}

/// A contract's term and notice period together: the end not before the
/// start, at most 30 years, a notice period no longer than the term. The
/// error names the field it belongs to.
pub fn check_contract_terms(
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
    notice_days: i32,
) -> Result<(), (&'static str, T)> {
    if end < start {
        return Err(("end_date", T::ContractEndBeforeStart));
    }
    if start.checked_add_months(chrono::Months::new(12 * MAX_CONTRACT_YEARS)).is_none_or(|limit| end > limit) {
        return Err(("end_date", T::ContractTermTooLong));
    }
    if i64::from(notice_days) > (end - start).num_days() + 1 {
        return Err(("notice_days", T::ContractNoticeTooLong));
    }
    Ok(())
}

pub mod iso_date_option {
    use chrono::{Datelike, NaiveDate};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(date: &Option<NaiveDate>, serializer: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(d) => serializer.serialize_some(&format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => super::parse_date(&text).map_err(|_| serde::de::Error::custom("invalid date")),
            None => Ok(None),
        }
    }
}

/// A date on the wire as "2026-12-31", read back with `parse_date` (see
/// `iso_date_option`, of which this is the required twin).
pub mod iso_date {
    use chrono::NaiveDate;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        super::iso_date_option::serialize(&Some(*date), serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        super::iso_date_option::deserialize(deserializer)?.ok_or_else(|| serde::de::Error::custom("missing date"))
    }
}

/// Browser-side checks for form fields, mirroring the server's parsing.
pub mod check {
    use super::*;

    pub fn business_number(v: &str) -> Option<T> {
        (!v.trim().is_empty()).then(|| BusinessNumber::parse(v).err()).flatten()
    }
    pub fn email(v: &str) -> Option<T> {
        parse_email(v).err()
    }
    pub fn phone(v: &str) -> Option<T> {
        parse_phone(v).err()
    }
    pub fn website(v: &str) -> Option<T> {
        parse_website(v).err()
    }
    pub fn probability(v: &str) -> Option<T> {
        parse_probability(v).err()
    }
}
