//! The global search: the four lists' own searches (index-backed, with
//! their visibility rules), a page of candidates each, ranked here: exact
//! before prefix before anywhere else in the field that matched, then the
//! person's own records, then the most recently changed.

use std::cmp::Reverse;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{SearchGroup, SearchHit, SearchResults};
use crate::accounts::{AccountQuery, AccountRow};
use crate::auth::CurrentUser;
use crate::contacts::{ContactQuery, ContactRow};
use crate::contracts::{ContractQuery, ContractRow};
use crate::deals::{DealQuery, DealRow};
use crate::error::AppError;
use crate::i18n::{format_money, Lang, T};
use crate::record::Entity;

/// Candidates read per kind: the ranking picks from these.
const CANDIDATES: i64 = 30;
/// Matches shown per kind; the list page shows the rest.
pub const SHOWN: usize = 5;

/// How close `field` is to the text: 0 the same, 1 starting with it, 2
/// containing it, none when it does not hold it (case ignored).
fn closeness(field: &str, text: &str) -> Option<u8> {
    let (field, text) = (field.to_lowercase(), text.to_lowercase());
    if field == text {
        Some(0)
    } else if field.starts_with(&text) {
        Some(1)
    } else if field.contains(&text) {
        Some(2)
    } else {
        None
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The first of the fields that holds the text, as (closeness, field).
/// `fallback` names a match the row does not show (an account found through
/// a contact's name), ranked last.
fn best(fields: &[(Option<&str>, T)], text: &str, fallback: T) -> (u8, T) {
    fields
        .iter()
        .filter_map(|(value, name)| value.and_then(|v| closeness(v, text)).map(|c| (c, *name)))
        .min_by_key(|(c, _)| *c)
        .unwrap_or((3, fallback))
}

struct Ranked {
    hit: SearchHit,
    closeness: u8,
    own: bool,
    updated: Option<DateTime<Utc>>,
}

fn group(kind: Entity, mut ranked: Vec<Ranked>, more_in_list: bool) -> SearchGroup {
    ranked.sort_by_key(|r| (r.closeness, !r.own, Reverse(r.updated)));
    let more = more_in_list || ranked.len() > SHOWN;
    SearchGroup { kind, hits: ranked.into_iter().take(SHOWN).map(|r| r.hit).collect(), more }
}

fn accounts(rows: Vec<AccountRow>, text: &str, user: &CurrentUser) -> Vec<Ranked> {
    let text_digits = digits(text);
    rows.into_iter()
        .map(|r| {
            let (mut close, mut matched) = best(&[(Some(&r.name), T::AccountName)], text, T::ContactName);
            // A business number matches by its digits, dashes or not.
            if let Some(number) = r.business_number.as_deref().filter(|_| text_digits.len() >= 3 && close > 2) {
                if let Some(c) = closeness(&digits(number), &text_digits) {
                    (close, matched) = (c, T::BusinessNumber);
                }
            }
            let detail = [r.business_number.clone().unwrap_or_default(), r.owner_name.clone()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            Ranked {
                own: r.owner_name == user.display_name,
                updated: Some(r.updated_at),
                closeness: close,
                hit: SearchHit { href: Entity::Account.path(r.id), title: r.name, detail, matched },
            }
        })
        .collect()
}

fn contacts(rows: Vec<ContactRow>, text: &str) -> Vec<Ranked> {
    rows.into_iter()
        .map(|r| {
            let (closeness, matched) = best(
                &[
                    (Some(&r.name), T::ContactName),
                    (r.email.as_deref(), T::Email),
                    (r.phone.as_deref(), T::Phone),
                    (Some(&r.account_name), T::Account),
                ],
                text,
                T::ContactName,
            );
            let detail = [Some(r.account_name.clone()), r.title.clone(), r.email.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            Ranked {
                own: false,
                updated: None,
                closeness,
                hit: SearchHit { href: Entity::Contact.path(r.id), title: r.name, detail, matched },
            }
        })
        .collect()
}

fn deals(rows: Vec<DealRow>, text: &str, user: &CurrentUser, lang: Lang) -> Vec<Ranked> {
    rows.into_iter()
        .map(|r| {
            // The deal list searches deal names only.
            let (closeness, matched) = best(&[(Some(&r.name), T::DealName)], text, T::DealName);
            let amount = r.amount.map(|a| format_money(a, &r.currency, lang)).unwrap_or_default();
            let detail = [r.account_name.clone(), amount, r.owner_name.clone()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            Ranked {
                own: r.owner_name == user.display_name,
                updated: Some(r.updated_at),
                closeness,
                hit: SearchHit { href: Entity::Deal.path(r.id), title: r.name, detail, matched },
            }
        })
        .collect()
}

fn contracts(rows: Vec<ContractRow>, text: &str, user: &CurrentUser, lang: Lang) -> Vec<Ranked> {
    rows.into_iter()
        .map(|r| {
            let (closeness, matched) = best(
                // The contract list searches titles and numbers.
                &[(r.contract_number.as_deref(), T::ContractNumber), (Some(&r.title), T::ContractTitle)],
                text,
                T::ContractTitle,
            );
            let detail = [
                r.contract_number.clone().unwrap_or_default(),
                r.account_name.clone(),
                r.status.label().text(lang).to_string(),
                r.owner_name.clone(),
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · ");
            Ranked {
                own: r.owner_name == user.display_name,
                updated: None,
                closeness,
                hit: SearchHit { href: Entity::Contract.path(r.id), title: r.title, detail, matched },
            }
        })
        .collect()
}

/// Searches the four lists for `text` (already parsed: 2 to 100 characters).
/// Each list keeps its own visibility rule: a rep finds no other rep's deal
/// or contract, not even its name.
pub async fn search(pool: &PgPool, user: &CurrentUser, text: &str, lang: Lang) -> Result<SearchResults, AppError> {
    let q = text.to_string();
    let account_query = AccountQuery { q: q.clone(), ..Default::default() };
    let contact_query = ContactQuery { q: q.clone(), ..Default::default() };
    let deal_query = DealQuery { q: q.clone(), ..Default::default() };
    let contract_query = ContractQuery { q, ..Default::default() };
    let (a, c, d, k) = tokio::try_join!(
        crate::accounts::server::list_sized(pool, user, &account_query, CANDIDATES),
        crate::contacts::server::list_sized(pool, user, &contact_query, CANDIDATES),
        crate::deals::server::list_sized(pool, user, &deal_query, CANDIDATES),
        crate::contracts::server::list_sized(pool, user, &contract_query, CANDIDATES),
    )?;
    let groups = vec![
        group(Entity::Account, accounts(a.rows, text, user), a.next.is_some()),
        group(Entity::Contact, contacts(c.rows, text), c.next.is_some()),
        group(Entity::Deal, deals(d.page.rows, text, user, lang), d.page.next.is_some()),
        group(Entity::Contract, contracts(k.rows, text, user, lang), k.next.is_some()),
    ];
    Ok(SearchResults { groups: groups.into_iter().filter(|g| !g.hits.is_empty()).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_comes_before_prefix_before_anywhere_case_ignored() {
        assert_eq!(closeness("한빛", "한빛"), Some(0));
        assert_eq!(closeness("ACME Cloud", "acme cloud"), Some(0));
        assert_eq!(closeness("한빛제조", "한빛"), Some(1));
        assert_eq!(closeness("가람한빛", "한빛"), Some(2));
        assert_eq!(closeness("가람", "한빛"), None);
    }

    #[test]
    fn the_best_field_names_the_match_and_an_unseen_one_ranks_last() {
        let fields = [(Some("김민준"), T::ContactName), (Some("minjun@hanbit.co.kr"), T::Email)];
        assert_eq!(best(&fields, "hanbit", T::ContactName), (2, T::Email));
        assert_eq!(best(&fields, "김민준", T::ContactName), (0, T::ContactName));
        assert_eq!(best(&fields, "없음", T::Account), (3, T::Account));
    }
}
