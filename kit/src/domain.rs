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

#[cfg(test)]
mod tests {
    use super::*;

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

/// An amount as people type it: "12,000,000", "₩12,000,000", "12,000,000원",
/// "$1,234.50". Exact decimal, never negative, no more decimals than the
/// currency has, not absurdly large.
pub fn parse_amount(input: &str, currency: Currency) -> Result<Option<rust_decimal::Decimal>, T> {
    use std::str::FromStr;
    let cleaned: String = input
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
    if !cleaned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(T::InvalidAmount);
    }
    let amount = rust_decimal::Decimal::from_str(&cleaned).map_err(|_| T::InvalidAmount)?.normalize();
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

/// "40", "40%" or "0.4" → 40.
pub fn parse_probability(input: &str) -> Result<Option<i32>, T> {
    use std::str::FromStr;
    let v = input.trim().trim_end_matches('%').trim();
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
/// (2026.12.31, 2026/12/31).
pub fn parse_date(input: &str) -> Result<Option<chrono::NaiveDate>, T> {
    let v = input.trim().trim_end_matches('.');
    if v.is_empty() {
        return Ok(None);
    }
    let normalized = v.replace(['.', '/'], "-").replace(' ', "");
    // Parsed by hand: chrono's format parser is heavy in the browser bundle.
    let parts: Vec<&str> = normalized.split('-').collect();
    let number = |p: &str, max_len: usize| {
        (!p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    };
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => match (number(y, 4), number(m, 2), number(d, 2)) {
            (Some(y), Some(m), Some(d)) => {
                chrono::NaiveDate::from_ymd_opt(y as i32, m, d).map(Some).ok_or(T::InvalidDate)
            }
            _ => Err(T::InvalidDate),
        },
        _ => Err(T::InvalidDate),
    }
}

/// Optional dates on the wire as "2026-12-31", read with `parse_date` rather
/// than chrono's `FromStr`, whose format parser would otherwise be compiled
/// into the browser bundle.
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
