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

/// Free text typed by a user: trimmed, bounded, no control characters.
/// Markup is allowed as text: it is always rendered escaped.
pub fn clean_text(input: &str, max_chars: usize, required: bool) -> Result<Option<String>, T> {
    let allow_newlines = max_chars > 500;
    if input
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t')))
    {
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
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
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
    let host = with_scheme.splitn(2, "://").nth(1).unwrap_or("").split('/').next().unwrap_or("");
    if !host.contains('.') || host.chars().any(|c| c.is_whitespace() || c == '<' || c == '>' || c == '"') {
        return Err(T::InvalidWebsite);
    }
    Ok(Some(with_scheme))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn website_gets_a_scheme() {
        assert_eq!(parse_website("gurum.co.kr"), Ok(Some("https://gurum.co.kr".into())));
        assert_eq!(parse_website("javascript://x"), Err(T::InvalidWebsite));
        assert_eq!(parse_website("localhost"), Err(T::InvalidWebsite));
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
}
