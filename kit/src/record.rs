//! The record layer's vocabulary: which kinds of record exist (with their
//! table, route, audit name and label), what the audit trail records, how a
//! list page and a record's permissions look, and the collector every form's
//! validation reports through. Domains build on this; it knows none of them.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{AppError, FieldError, Submitted};
use crate::i18n::T;

/// A kind of record. Its code is what the audit trail stores in `entity` and
/// what a form posts as `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Account,
    Contact,
    Deal,
    Activity,
    Contract,
}

impl Entity {
    pub const ALL: [Entity; 5] = [Entity::Account, Entity::Contact, Entity::Deal, Entity::Activity, Entity::Contract];

    pub fn code(self) -> &'static str {
        match self {
            Entity::Account => "account",
            Entity::Contact => "contact",
            Entity::Deal => "deal",
            Entity::Activity => "activity",
            Entity::Contract => "contract",
        }
    }

    pub fn from_code(code: &str) -> Option<Entity> {
        Self::ALL.into_iter().find(|e| e.code() == code.trim())
    }

    /// The table its rows live in (our own constant, never user input).
    pub fn table(self) -> &'static str {
        match self {
            Entity::Account => "accounts",
            Entity::Contact => "contacts",
            Entity::Deal => "deals",
            Entity::Activity => "activities",
            Entity::Contract => "contracts",
        }
    }

    pub fn label(self) -> T {
        match self {
            Entity::Account => T::Account,
            Entity::Contact => T::Contact,
            Entity::Deal => T::Deal,
            Entity::Activity => T::Activities,
            Entity::Contract => T::Contract,
        }
    }

    /// The list page. Activities have none: they are shown on their record's page.
    pub fn list_path(self) -> &'static str {
        match self {
            Entity::Account => "/accounts",
            Entity::Contact => "/contacts",
            Entity::Deal => "/deals",
            Entity::Activity => "/",
            Entity::Contract => "/contracts",
        }
    }

    pub fn path(self, id: Uuid) -> String {
        format!("{}/{id}", self.list_path())
    }

    pub fn edit_path(self, id: Uuid) -> String {
        format!("{}/{id}/edit", self.list_path())
    }

    pub fn new_path(self) -> String {
        format!("{}/new", self.list_path())
    }
}

impl Serialize for Entity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Entity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Entity, D::Error> {
        let code = String::deserialize(deserializer)?;
        Entity::from_code(&code).ok_or_else(|| serde::de::Error::custom("unknown record kind"))
    }
}

/// A record named by kind, id and name: the account a new contact or deal is
/// filed under, shown on its form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    pub kind: Entity,
    pub id: Uuid,
    pub name: String,
}

/// What an audit row records. Stored by its code (a check constraint keeps the
/// column to these), shown by its own label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    Create,
    Update,
    StageChange,
    Delete,
    Restore,
    Import,
    UndoImport,
}

impl AuditAction {
    pub const ALL: [AuditAction; 7] = [
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::StageChange,
        AuditAction::Delete,
        AuditAction::Restore,
        AuditAction::Import,
        AuditAction::UndoImport,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::StageChange => "stage",
            AuditAction::Delete => "delete",
            AuditAction::Restore => "restore",
            AuditAction::Import => "import",
            AuditAction::UndoImport => "undo-import",
        }
    }

    pub fn from_code(code: &str) -> Option<AuditAction> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    pub fn label(self) -> T {
        match self {
            AuditAction::Create => T::ActionCreate,
            AuditAction::Update => T::ActionUpdate,
            AuditAction::StageChange => T::ActionStage,
            AuditAction::Delete => T::ActionDelete,
            AuditAction::Restore => T::ActionRestore,
            AuditAction::Import => T::ActionImport,
            AuditAction::UndoImport => T::ActionUndoImport,
        }
    }
}

impl Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for AuditAction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<AuditAction, D::Error> {
        let code = String::deserialize(deserializer)?;
        AuditAction::from_code(&code).ok_or_else(|| serde::de::Error::custom("unknown audit action"))
    }
}

/// One audit-trail row as shown in a record's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub action: AuditAction,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub at: DateTime<Utc>,
    pub actor: String,
    pub changes: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One page of a keyset-paged list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<R> {
    pub rows: Vec<R>,
    /// Cursor for the next page, if there is one.
    pub next: Option<String>,
    /// Cursor for the previous page, if there is one.
    pub prev: Option<String>,
}

/// Rows per list page, the same on every list.
pub const PAGE_SIZE: i64 = 50;

/// What the current user may do with one record, decided by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Permissions {
    pub edit: bool,
    pub restore: bool,
    pub reassign: bool,
}

impl Permissions {
    /// The one rule for an owned record: its owner (a rep) or a manager edits
    /// it while it is live; a manager restores it once deleted and reassigns it.
    pub fn of(user: &CurrentUser, owner: Uuid, deleted: bool) -> Permissions {
        Permissions {
            edit: !deleted && user.can_edit_owned_by(owner),
            restore: deleted && user.is_manager(),
            reassign: user.is_manager(),
        }
    }
}

/// The confirmation a redirect after a successful post asks for (`?notice=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Created,
    Saved,
    Deleted,
    Restored,
    ActivityAdded,
    LanguageChanged,
}

impl Notice {
    const ALL: [Notice; 6] = [
        Notice::Created,
        Notice::Saved,
        Notice::Deleted,
        Notice::Restored,
        Notice::ActivityAdded,
        Notice::LanguageChanged,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Notice::Created => "created",
            Notice::Saved => "saved",
            Notice::Deleted => "deleted",
            Notice::Restored => "restored",
            Notice::ActivityAdded => "activity",
            Notice::LanguageChanged => "lang",
        }
    }

    pub fn from_code(code: &str) -> Option<Notice> {
        Self::ALL.into_iter().find(|n| n.code() == code)
    }

    pub fn text(self) -> T {
        match self {
            Notice::Created => T::Created,
            Notice::Saved => T::Saved,
            Notice::Deleted => T::Deleted,
            Notice::Restored => T::Restored,
            Notice::ActivityAdded => T::ActivityAdded,
            Notice::LanguageChanged => T::LanguageChanged,
        }
    }

    /// `path` with this notice asked for.
    pub fn on(self, path: &str) -> String {
        let (path, fragment) = path.split_once('#').map_or((path, ""), |(p, f)| (p, f));
        let sep = if path.contains('?') { '&' } else { '?' };
        let fragment = if fragment.is_empty() { String::new() } else { format!("#{fragment}") };
        format!("{path}{sep}notice={}{fragment}", self.code())
    }
}

/// A fixed list of codes with their labels (industries, sizes, activity kinds).
pub type CodeList = [(&'static str, T)];

pub fn label_of(list: &[(&str, T)], code: &str) -> Option<T> {
    list.iter().find(|(c, _)| *c == code).map(|(_, t)| *t)
}

/// Collects every problem of a submitted form, so all are reported at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, field: &str, message: T) {
        self.0.push(FieldError { field: field.into(), message });
    }

    /// The value of a check that passed; a failed one is recorded against `field`.
    pub fn check<V>(&mut self, field: &str, result: Result<V, T>) -> Option<V> {
        result.map_err(|message| self.push(field, message)).ok()
    }

    /// Like `check`, for optional fields: empty and invalid both give `None`.
    pub fn optional<V>(&mut self, field: &str, result: Result<Option<V>, T>) -> Option<V> {
        self.check(field, result).flatten()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The validated value when nothing was wrong, otherwise every problem
    /// with the user's input echoed back.
    pub fn finish<V>(self, value: Option<V>, submitted: Submitted) -> Result<V, AppError> {
        match value {
            Some(v) if self.0.is_empty() => Ok(v),
            _ => Err(AppError::Validation { fields: self.0, submitted }),
        }
    }
}

/// A form echoed back with a refusal: its text fields as pairs, so a page
/// re-rendered without JavaScript still shows what the user typed.
pub trait Echo: Serialize {
    fn to_pairs(&self) -> Submitted {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k, s)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl<F: Serialize> Echo for F {}

/// The form an echo came from; fields it does not carry stay empty.
/// Read from JSON text on purpose: island props already decode each form
/// from text, so the browser bundle carries no second decoder for it.
pub fn from_pairs<F: DeserializeOwned + Default>(pairs: &Submitted) -> F {
    let mut json = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        let (Ok(k), Ok(v)) = (serde_json::to_string(k), serde_json::to_string(v)) else { return F::default() };
        json.push_str(&k);
        json.push(':');
        json.push_str(&v);
    }
    json.push('}');
    serde_json::from_str(&json).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_are_refused() {
        for e in Entity::ALL {
            assert_eq!(Entity::from_code(e.code()), Some(e));
            let json = serde_json::to_string(&e).expect("encode");
            assert_eq!(serde_json::from_str::<Entity>(&json).expect("decode"), e);
        }
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::from_code(a.code()), Some(a));
        }
        assert_eq!(Entity::from_code("users"), None);
        assert!(serde_json::from_str::<Entity>("\"accounts; drop table\"").is_err());
        assert_eq!(AuditAction::from_code("Imported"), None);
    }

    #[test]
    fn every_audit_action_has_its_own_label() {
        let mut labels: Vec<T> = AuditAction::ALL.iter().map(|a| a.label()).collect();
        labels.dedup();
        assert_eq!(labels.len(), AuditAction::ALL.len());
        assert_eq!(AuditAction::StageChange.label(), T::ActionStage);
        assert_ne!(AuditAction::StageChange.label(), T::ActionImport);
    }

    #[test]
    fn routes_come_from_the_kind() {
        let id = Uuid::nil();
        assert_eq!(Entity::Deal.path(id), format!("/deals/{id}"));
        assert_eq!(Entity::Contact.edit_path(id), format!("/contacts/{id}/edit"));
        assert_eq!(Entity::Account.new_path(), "/accounts/new");
        assert_eq!(Notice::Saved.on("/deals/1"), "/deals/1?notice=saved");
        assert_eq!(Notice::Created.on("/contacts/new?account=1"), "/contacts/new?account=1&notice=created");
        assert_eq!(Notice::ActivityAdded.on("/deals/1#timeline"), "/deals/1?notice=activity#timeline");
    }

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    struct Form {
        name: String,
        phone: String,
    }

    #[test]
    fn a_form_survives_its_echo() {
        let form = Form { name: "한빛<b>".into(), phone: "02-1234".into() };
        let mut pairs = form.to_pairs();
        pairs.push(("version".into(), "3".into()));
        assert_eq!(from_pairs::<Form>(&pairs), form);
        assert_eq!(from_pairs::<Form>(&vec![]), Form::default());
    }

    #[test]
    fn field_errors_report_every_problem() {
        let mut errors = FieldErrors::new();
        assert_eq!(errors.check("a", Ok::<_, T>(1)), Some(1));
        assert_eq!(errors.optional("b", Err::<Option<i32>, _>(T::InvalidChoice)), None);
        errors.push("c", T::InvalidStage);
        let err = errors.finish(Some(()), vec![("b".into(), "x".into())]).expect_err("two errors");
        assert_eq!(err.field_errors().len(), 2);
        assert_eq!(err.echoed("b"), Some("x"));
        assert_eq!(FieldErrors::new().finish(Some(5), vec![]).ok(), Some(5));
    }
}
