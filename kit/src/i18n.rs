//! The one i18n mechanism: every user-visible string is a `T` key with its
//! Korean and English text side by side, so a missing translation is a
//! compile error rather than a blank on screen.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Lang {
    #[default]
    Ko,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().get(..2) {
            Some("ko") => Some(Lang::Ko),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// Cookie first, then the browser's Accept-Language (in its order), then Korean.
    pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(lang) = cookie.and_then(Lang::from_code) {
            return lang;
        }
        accept_language
            .into_iter()
            .flat_map(|h| h.split(','))
            .find_map(|part| Lang::from_code(part.split(';').next().unwrap_or("")))
            .unwrap_or_default()
    }
}

macro_rules! messages {
    (
        $($key:ident => $ko:expr, $en:expr;)*
        @server_only
        $($skey:ident => $sko:expr, $sen:expr;)*
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum T { $($key,)* $($skey,)* }
        impl T {
            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (T::$key, Lang::Ko) => $ko, (T::$key, Lang::En) => $en, )*
                    $( (T::$skey, Lang::Ko) => server_only($sko), (T::$skey, Lang::En) => server_only($sen), )*
                }
            }
            pub const ALL: &'static [T] = &[$(T::$key,)* $(T::$skey,)*];
            /// Keys whose text only the server build carries.
            pub const SERVER_ONLY: &'static [T] = &[$(T::$skey,)*];
        }
    };
}

/// Messages only server-rendered pages show (the import's refusals, the
/// sign-in limits) keep their place in `T` on both sides, so keys travel
/// by index, but the browser build leaves their text out: every string in
/// the table would otherwise ship in the WASM of every page.
const fn server_only(text: &'static str) -> &'static str {
    if cfg!(feature = "ssr") {
        text
    } else {
        ""
    }
}

/// A key travels as its position in `T::ALL` (server and browser come from one
/// build): a name-keyed decoder for two hundred variants cost the browser
/// bundle about 20 KB.
impl Serialize for T {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(*self as u16)
    }
}

impl<'de> Deserialize<'de> for T {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
        let index = u16::deserialize(deserializer)?;
        T::ALL.get(usize::from(index)).copied().ok_or_else(|| serde::de::Error::custom("unknown message key"))
    }
}

messages! {
    AppName => "SalesOps", "SalesOps";
    NavAccounts => "고객사", "Accounts";
    NavContacts => "담당자", "Contacts";
    Language => "언어", "Language";
    SwitchToEnglish => "English", "English";
    SwitchToKorean => "한국어", "한국어";
    SignIn => "로그인", "Sign in";
    SignOut => "로그아웃", "Sign out";
    NotFoundPage => "페이지를 찾을 수 없습니다.", "Page not found.";
    Loading => "불러오는 중…", "Loading…";
    Search => "검색", "Search";
    SearchPlaceholderAccounts => "회사명, 사업자번호, 담당자", "Name, business number, contact";
    SearchPlaceholderContacts => "이름, 이메일, 전화, 고객사", "Name, email, phone, account";
    Filter => "필터", "Filter";
    AllOwners => "모든 담당 영업", "All owners";
    AllIndustries => "모든 업종", "All industries";
    ShowDeleted => "삭제된 항목 보기", "Show deleted";
    SortBy => "정렬", "Sort";
    SortNameAsc => "이름 ↑", "Name ↑";
    SortNameDesc => "이름 ↓", "Name ↓";
    SortUpdatedDesc => "최근 수정순", "Recently updated";
    SortCreatedDesc => "최근 등록순", "Recently created";
    NextPage => "다음", "Next";
    PrevPage => "이전", "Previous";
    FirstPage => "처음", "First";
    NoResults => "결과가 없습니다.", "No results.";
    New => "새로 만들기", "New";
    NewAccount => "새 고객사", "New account";
    NewContact => "새 담당자", "New contact";
    Edit => "수정", "Edit";
    Save => "저장", "Save";
    Cancel => "취소", "Cancel";
    Delete => "삭제", "Delete";
    Restore => "복원", "Restore";
    Saved => "저장했습니다.", "Saved.";
    Created => "만들었습니다.", "Created.";
    Deleted => "삭제했습니다. 관리자나 매니저가 복원할 수 있습니다.", "Deleted. A manager or admin can restore it.";
    Restored => "복원했습니다.", "Restored.";
    DeletedBanner => "삭제된 레코드입니다.", "This record is deleted.";
    LanguageChanged => "언어를 바꿨습니다.", "Language changed.";
    // Account fields
    AccountName => "회사명", "Name";
    BusinessNumber => "사업자등록번호", "Business number";
    Industry => "업종", "Industry";
    CompanySize => "규모", "Size";
    Address => "주소", "Address";
    MainPhone => "대표 전화", "Main phone";
    Website => "웹사이트", "Website";
    Owner => "담당 영업", "Owner";
    Notes => "메모", "Notes";
    CreatedAt => "등록", "Created";
    UpdatedAt => "수정", "Updated";
    By => "작성자", "By";
    Contacts => "담당자", "Contacts";
    History => "변경 이력", "History";
    NoHistory => "변경 이력이 없습니다.", "No changes recorded.";
    NoContacts => "등록된 담당자가 없습니다.", "No contacts yet.";
    Field => "항목", "Field";
    Before => "변경 전", "Before";
    After => "변경 후", "After";
    ActionCreate => "생성", "Created";
    ActionUpdate => "수정", "Updated";
    ActionDelete => "삭제", "Deleted";
    ActionRestore => "복원", "Restored";
    ActionImport => "가져오기", "Imported";
    ActionUndoImport => "가져오기 취소", "Import undone";
    // Contact fields
    ContactName => "이름", "Name";
    Title => "직함", "Title";
    Department => "부서", "Department";
    Email => "이메일", "Email";
    Phone => "전화", "Phone";
    Contact => "담당자", "Contact";
    Deal => "영업기회", "Deal";
    Account => "고객사", "Account";
    // Validation and errors
    Required => "필수 항목입니다.", "This field is required.";
    TooLong => "너무 깁니다.", "This is too long.";
    ControlCharacters => "허용되지 않는 제어 문자가 들어 있습니다.", "Contains control characters that are not allowed.";
    BusinessNumberDigits => "사업자등록번호는 숫자와 대시(-)만 쓸 수 있습니다.", "A business number may contain only digits and dashes.";
    BusinessNumberLength => "사업자등록번호는 10자리입니다.", "A business number has 10 digits.";
    BusinessNumberCheckDigit => "사업자등록번호의 검증 숫자가 맞지 않습니다.", "The business number's check digit is wrong.";
    BusinessNumberTaken => "이미 다른 고객사가 쓰는 사업자등록번호입니다.", "Another account already has this business number.";
    InvalidEmail => "이메일 주소 형식이 아닙니다.", "This is not a valid email address.";
    InvalidPhone => "전화번호 형식이 아닙니다 (숫자 8~15자리).", "This is not a valid phone number (8 to 15 digits).";
    InvalidWebsite => "웹사이트 주소 형식이 아닙니다.", "This is not a valid website address.";
    InvalidChoice => "목록에 있는 값을 고르세요.", "Choose a value from the list.";
    InvalidId => "잘못된 식별자입니다.", "Invalid identifier.";
    AccountNotFound => "고객사를 찾을 수 없습니다.", "Account not found.";
    FormHasErrors => "입력 내용을 확인하세요.", "Please check the highlighted fields.";
    ErrUnauthenticated => "로그인이 필요합니다.", "Please sign in.";
    ErrForbidden => "이 작업을 할 권한이 없습니다.", "You are not allowed to do this.";
    ErrNotFound => "찾을 수 없습니다. 삭제되었거나 볼 권한이 없습니다.", "Not found. It may have been deleted, or you may not have access.";
    ErrConflict => "다른 사용자가 먼저 수정했습니다", "Someone else changed this record first";
    ErrConflictHint => "입력하신 내용은 그대로 두었습니다. 최신 내용을 확인한 뒤 다시 저장하세요.", "Your input is kept below. Reload the latest version, then save again.";
    ReloadLatest => "최신 내용 불러오기", "Load the latest version";
    ErrInternal => "서버 오류가 발생했습니다. 잠시 후 다시 시도하세요.", "Something went wrong on the server. Please try again shortly.";
    ErrNetwork => "서버에 연결할 수 없습니다.", "Could not reach the server.";
    ErrBusy => "요청이 제한 시간 안에 끝나지 않았습니다. 조건을 좁혀 다시 시도하세요.", "The request took too long. Narrow it down and try again.";
    SearchTooLong => "검색어는 100자까지 입력할 수 있습니다.", "A search can be at most 100 characters.";
    ErrBadRequest => "요청 형식이 잘못되었습니다.", "The request was malformed.";
    ErrStaleVersion => "잘못된 버전 정보입니다. 페이지를 새로 고치세요.", "Invalid version information. Reload the page.";
    // Auth
    NoAccessTitle => "접근 권한이 없습니다", "No access";
    NoAccessBody => "SalesOps를 쓰려면 영업 역할이 필요합니다. 관리자에게 권한을 요청하세요.", "You need a SalesOps role to use this application. Ask an administrator for access.";
    SignInTitle => "SalesOps에 로그인", "Sign in to SalesOps";
    SignInBody => "회사 계정(Keycloak)으로 로그인합니다.", "Sign in with your company account (Keycloak).";
    SignInFailed => "로그인하지 못했습니다. 다시 시도하세요.", "Sign-in failed. Please try again.";
    IdpUnavailable => "로그인 서버(Keycloak)에 연결할 수 없습니다. 잠시 후 다시 시도하세요.", "The sign-in server (Keycloak) cannot be reached. Please try again shortly.";
    SignedOut => "로그아웃했습니다.", "You have signed out.";
    InvalidReturnAddress => "돌아갈 주소가 이 사이트의 페이지가 아닙니다.", "The return address is not a page of this site.";
    RoleRep => "영업 담당", "Sales rep";
    RoleManager => "영업 매니저", "Sales manager";
    RoleViewer => "조회 전용", "Viewer";
    RoleAdmin => "운영 관리자", "Admin";
    ConfirmDelete => "정말 삭제할까요?", "Delete this record?";
    ChangedBy => "변경한 사람", "Changed by";
    ChangedAt => "변경 시각", "Changed at";
    Yes => "예", "Yes";
    No => "아니요", "No";
    Total => "전체", "Total";
    Dashboard => "홈", "Home";
    Welcome => "환영합니다", "Welcome";
    // Industries and company sizes
    IndustryIt => "IT/소프트웨어", "IT / Software";
    IndustryManufacturing => "제조", "Manufacturing";
    IndustryFinance => "금융", "Finance";
    IndustryRetail => "유통/리테일", "Retail";
    IndustryPublic => "공공", "Public sector";
    IndustryHealthcare => "의료", "Healthcare";
    IndustryEducation => "교육", "Education";
    IndustryMedia => "게임/미디어", "Games / Media";
    IndustryLogistics => "물류", "Logistics";
    IndustryOther => "기타", "Other";
    SizeSmall => "소기업 (50명 미만)", "Small (under 50)";
    SizeMedium => "중기업 (50~299명)", "Medium (50–299)";
    SizeLarge => "중견기업 (300~999명)", "Large (300–999)";
    SizeEnterprise => "대기업 (1,000명 이상)", "Enterprise (1,000+)";
    NotSet => "—", "—";
    ContactCount => "담당자 수", "Contacts";
    AccountsTitle => "고객사", "Accounts";
    ContactsTitle => "담당자", "Contacts";
    EditAccount => "고객사 수정", "Edit account";
    EditContact => "담당자 수정", "Edit contact";
    ContactNotFound => "담당자를 찾을 수 없습니다.", "Contact not found.";
    BusinessNumberHint => "예: 123-45-67890 (대시 없이도 됩니다)", "e.g. 123-45-67890 (dashes optional)";
    OwnerOnlyManagers => "담당 영업 변경은 매니저만 할 수 있습니다.", "Only managers can reassign the owner.";
    Me => "나", "Me";
    // Deals, pipeline, activities
    NavDeals => "영업기회", "Deals";
    NavPipeline => "파이프라인", "Pipeline";
    DealsTitle => "영업기회", "Deals";
    NewDeal => "새 영업기회", "New deal";
    EditDeal => "영업기회 수정", "Edit deal";
    DealName => "영업기회명", "Deal name";
    Stage => "단계", "Stage";
    Amount => "금액", "Amount";
    Currency => "통화", "Currency";
    Probability => "확률 (%)", "Probability (%)";
    ProbabilityHint => "비워 두면 단계의 기본 확률을 씁니다.", "Leave empty to use the stage's default.";
    ExpectedCloseDate => "예상 마감일", "Expected close date";
    Source => "유입 경로", "Source";
    LostReason => "실주 사유", "Lost reason";
    Weighted => "가중 금액", "Weighted";
    Count => "건수", "Count";
    CountSuffix => "건", "deals";
    Move => "이동", "Move";
    MovePrev => "이전 단계로", "Move to previous stage";
    MoveNext => "다음 단계로", "Move to next stage";
    MoreDeals => "나머지 보기", "See the rest";
    StageHistory => "단계 이력", "Stage history";
    TimeInStage => "머문 기간", "Time in stage";
    Days => "일", "days";
    AllStages => "모든 단계", "All stages";
    AllCurrencies => "모든 통화", "All currencies";
    ClosePeriod => "마감 기간", "Close period";
    CloseThisMonth => "이번 달", "This month";
    CloseThisQuarter => "이번 분기", "This quarter";
    CloseNext90 => "다음 분기", "Next quarter";
    CloseThisYear => "올해", "This year";
    CloseOverdue => "기한 지남", "Overdue";
    AnyTime => "전체 기간", "Any time";
    DealNotFound => "영업기회를 찾을 수 없습니다.", "Deal not found.";
    Deals => "영업기회", "Deals";
    NoDeals => "영업기회가 없습니다.", "No deals.";
    InvalidCurrency => "KRW 또는 USD만 쓸 수 있습니다.", "Only KRW or USD.";
    InvalidAmount => "금액 형식이 아닙니다.", "This is not an amount.";
    AmountNegative => "금액은 0 이상이어야 합니다.", "The amount cannot be negative.";
    AmountNoDecimalsKrw => "원화 금액에는 소수점을 쓸 수 없습니다.", "KRW amounts have no decimals.";
    AmountTwoDecimals => "달러 금액은 소수점 둘째 자리까지입니다.", "USD amounts have at most two decimals.";
    AmountTooLarge => "금액이 너무 큽니다.", "The amount is too large.";
    InvalidProbability => "확률은 0에서 100 사이의 정수입니다.", "Probability is a whole number from 0 to 100.";
    InvalidDate => "날짜 형식이 아닙니다 (예: 2026-12-31).", "This is not a date (e.g. 2026-12-31).";
    DateOutOfRange => "날짜가 너무 먼 과거나 미래입니다.", "The date is too far in the past or future.";
    InvalidStage => "알 수 없는 단계입니다.", "Unknown stage.";
    WonNeedsAmountAndDate => "수주로 옮기려면 금액과 마감일이 있어야 합니다.", "A won deal needs an amount and a close date.";
    LostNeedsReason => "실주로 옮기려면 실주 사유가 있어야 합니다.", "A lost deal needs a lost reason.";
    OnlyManagerReopens => "마감된 영업기회는 매니저만 다시 열 수 있습니다.", "Only a manager can reopen a closed deal.";
    MovedTo => "단계를 옮겼습니다.", "Stage changed.";
    Activities => "활동", "Activities";
    NoActivities => "기록된 활동이 없습니다.", "No activities yet.";
    AddActivity => "활동 추가", "Add activity";
    ActivityKind => "종류", "Kind";
    KindNote => "메모", "Note";
    KindCall => "통화", "Call";
    KindMeeting => "미팅", "Meeting";
    KindTask => "할 일", "Task";
    Subject => "제목", "Subject";
    Body => "내용", "Details";
    DueDate => "마감일", "Due date";
    Done => "완료", "Done";
    MarkDone => "완료로 표시", "Mark done";
    MarkOpen => "미완료로 표시", "Mark not done";
    ActivityAdded => "활동을 추가했습니다.", "Activity added.";
    LastActivity => "마지막 활동", "Last activity";
    ActionStage => "단계 변경", "Stage changed";
    Pipeline => "파이프라인", "Pipeline";
    AccountHasDeals => "영업기회나 계약이 남아 있는 고객사는 삭제할 수 없습니다. 먼저 정리하세요.", "This account still has deals or contracts. Delete or move them first.";
    @server_only
    // Empty lists, export links and the global search (server-rendered pages only).
    ClearFilters => "검색 조건 지우고 전체 목록 보기", "Clear the search and filters";
    NoAccountsYet => "아직 등록된 고객사가 없습니다. 첫 고객사를 등록하세요.", "No accounts yet. Add the first one.";
    NoContactsYet => "아직 등록된 담당자가 없습니다. 고객사 화면에서 추가하거나 여기서 등록하세요.", "No contacts yet. Add them from an account's page, or here.";
    NoDealsYet => "아직 영업기회가 없습니다. 첫 영업기회를 등록하세요.", "No deals yet. Add the first one.";
    NoContractsYet => "아직 계약이 없습니다. 성사된 영업기회에서 계약을 만들거나 새로 등록하세요.", "No contracts yet. Create one from a won deal, or add it here.";
    NoRenewalsDue => "이 기간에 갱신이나 해지 통보가 필요한 계약이 없습니다.", "No contract needs renewing or notice in this window.";
    ExportList => "내보내기", "Export";
    SearchTitle => "검색", "Search";
    SearchLabel => "고객사, 담당자, 영업기회, 계약 검색", "Search accounts, contacts, deals and contracts";
    SearchHint => "두 글자 이상 입력하세요. 이름, 사업자등록번호(- 없이도), 계약번호, 이메일, 전화번호로 찾습니다.", "Type at least two characters: names, business numbers (with or without dashes), contract numbers, e-mail addresses, phone numbers.";
    SearchNoResults => "찾는 결과가 없습니다. 다른 낱말이나 번호로 찾아보세요.", "Nothing found. Try another word or number.";
    SearchSeeAll => "목록에서 모두 보기", "See all in the list";
    SearchMatchedOn => "일치한 항목", "Matched on";
    // Sign-in limits: the plain pages of the server crate show these.
    SignInTooManyFromHere => "이 네트워크에서 로그인 시도가 너무 많습니다. 1분쯤 기다린 뒤 다시 시도하세요.", "Too many sign-in attempts from your network. Please wait a minute and try again.";
    SignInBusy => "지금 진행 중인 로그인이 너무 많습니다. 1분쯤 뒤에 다시 시도하세요.", "Too many sign-ins are in progress right now. Please try again in a minute.";
    // Spreadsheet import: refusals of a whole file (the limits quoted are `import::read::Limits::default()`).
    ImportEmptyFile => "빈 파일입니다.", "The file is empty.";
    ImportFileTooLarge => "파일이 너무 큽니다. 20MB 이하로 나눠서 올려 주세요.", "The file is too large. Split it into files of at most 20 MB.";
    ImportLegacyFileTooLarge => ".xls와 .ods 파일은 10MB까지 읽습니다. Excel에서 .xlsx로 저장해서 올려 주세요.", ".xls and .ods files are read up to 10 MB. Save it as .xlsx in Excel and upload that.";
    ImportNotSpreadsheet => "스프레드시트 파일이 아닙니다. .xlsx, .xlsm, .xlsb, .xls, .ods, .csv, .tsv 파일을 올려 주세요.", "This is not a spreadsheet. Upload an .xlsx, .xlsm, .xlsb, .xls, .ods, .csv or .tsv file.";
    ImportDamagedFile => "파일이 손상되었거나 중간에 잘렸습니다. 다시 저장해서 올려 주세요.", "The file is damaged or cut short. Save it again and upload it.";
    ImportPasswordProtected => "암호로 보호된 파일입니다. Excel에서 암호를 해제하고 저장한 뒤 올려 주세요.", "The file is password-protected. Remove the password in Excel, save, and upload it again.";
    ImportCompressionBomb => "압축을 풀면 비정상적으로 커지는 파일이라 읽지 않았습니다.", "The file expands to an abnormal size when unpacked, so it was not read.";
    ImportSheetTooLarge => "시트가 너무 큽니다. 100만 행, 200열까지 읽습니다.", "The sheet is too large. At most 1,000,000 rows and 200 columns are read.";
    ImportTooManyCells => "값이 있는 셀이 너무 많습니다 (최대 200만 개). 파일을 나눠서 올려 주세요.", "Too many filled cells (at most 2,000,000). Split the file.";
    ImportCellTooLong => "32,767자보다 긴 셀이 있습니다. Excel 셀에 들어갈 수 없는 길이입니다.", "A cell is longer than 32,767 characters, more than an Excel cell can hold.";
    ImportCsvLineTooLong => "CSV의 한 줄이 너무 깁니다 (최대 1MB). 구분자나 줄바꿈이 빠진 파일인지 확인해 주세요.", "A CSV line is too long (at most 1 MB). Check the file's delimiters and line breaks.";
    ImportSheetNotFound => "그런 시트가 없습니다.", "There is no such sheet.";
    ImportNoSheets => "읽을 수 있는 시트가 없습니다.", "The file has no sheet to read.";
    ImportUnsupportedEncoding => "알 수 없는 문자 인코딩입니다.", "Unknown text encoding.";
    // Spreadsheet import: problems of one cell.
    ImportFormulaWithoutValue => "수식의 계산된 값이 저장되어 있지 않습니다. Excel에서 파일을 열어 다시 저장해 주세요.", "The formula's result was not saved. Open the file in Excel and save it again.";
    ImportCellErrorValue => "셀에 오류 값(#DIV/0!, #N/A 등)이 있습니다.", "The cell holds an error value (#DIV/0!, #N/A, …).";
    ImportUndecodableText => "이 셀에 읽을 수 없는 글자가 있습니다. 인코딩을 바꿔 보세요.", "This cell has characters that could not be read. Try another encoding.";
    ImportHeaderNotFound => "머리글 행을 찾지 못했습니다. 머리글 행을 직접 골라 주세요.", "No header row was found. Choose the header row.";
    ImportUnknownChoice => "목록에 없는 값입니다.", "Not one of the listed values.";
    ImportUnknownOwner => "SalesOps 사용자 중에 이 담당 영업이 없습니다 (이름, 아이디 또는 이메일).", "No SalesOps user by this name, username or email.";
    ImportTotalRow => "합계·소계 행은 데이터가 아니라서 가져오지 않습니다.", "A total or subtotal row is not data and is not imported.";
    ImportNoAccountColumn => "고객사명이나 사업자등록번호 열을 지정해 주세요.", "Map a column to the account name or the business number.";
    ImportMissingAccount => "고객사명이나 사업자등록번호가 없습니다.", "The row has no account name or business number.";
    ImportContactNeedsName => "담당자 정보가 있지만 담당자 이름이 없습니다.", "Contact details without a contact name.";
    ImportDealNeedsName => "영업기회 정보가 있지만 영업기회명이 없습니다.", "Deal details without a deal name.";
    ImportAccountConflict => "같은 사업자등록번호에 다른 고객사명이 앞 행에 있습니다.", "An earlier row gives this business number another account name.";
    ImportDuplicateRow => "파일 안에서 중복된 행입니다 (앞 행과 같은 레코드).", "Duplicate within the file (the same record as an earlier row).";
    ImportAccountDeleted => "이 사업자등록번호의 고객사는 휴지통에 있습니다. 먼저 복원해 주세요.", "The account with this business number is in the trash. Restore it first.";
    ImportAccountNeedsName => "이 사업자등록번호의 고객사가 없고, 새로 만들 고객사명도 없습니다.", "No account has this business number, and there is no name to create one.";
    ImportAlreadyCommitted => "이미 가져오기를 시작한 파일입니다.", "This file's import has already started.";
    ImportNotUndoable => "완료된 가져오기만 취소할 수 있습니다.", "Only a finished import can be undone.";
    ImportUndoEdited => "가져온 뒤 수정된 레코드가 있어 취소하지 않았습니다. 아무것도 바뀌지 않았습니다:", "Not undone, nothing changed: these records were edited after the import:";
    ImportInterrupted => "가져오기를 실행하던 서버가 중단되었습니다. 아무것도 저장되지 않았습니다. 다시 올려 주세요.", "The server running the import stopped. Nothing was saved. Upload the file again.";
    ImportFailedInternal => "가져오기 중 오류가 났습니다. 아무것도 저장되지 않았습니다.", "The import failed. Nothing was saved.";
    ImportHasProblems => "문제가 있는 행이 있어 아무것도 저장하지 않았습니다 (전부 아니면 전무).", "Rows have problems, so nothing was saved (all or nothing).";
    ImportStatusUploaded => "미리보기", "Preview";
    ImportStatusQueued => "대기 중", "Queued";
    ImportStatusRunning => "진행 중", "Running";
    ImportStatusCommitted => "완료", "Committed";
    ImportStatusFailed => "실패", "Failed";
    ImportStatusUndone => "취소됨", "Undone";
    ImportTitle => "가져오기", "Import";
    ImportChooseFile => "스프레드시트 파일", "Spreadsheet file";
    ImportUploadHint => ".xlsx, .xlsm, .xlsb, .xls, .ods, .csv, .tsv · 20MB까지. 올린 뒤 미리보기에서 확인하고 가져옵니다.", ".xlsx, .xlsm, .xlsb, .xls, .ods, .csv, .tsv · up to 20 MB. You check a preview before anything is written.";
    ImportUpload => "올리기", "Upload";
    ImportHistory => "가져오기 기록", "Import history";
    ImportNone => "아직 가져온 파일이 없습니다.", "Nothing imported yet.";
    ImportFile => "파일", "File";
    ImportBy => "가져온 사람", "By";
    ImportWhen => "올린 때", "Uploaded";
    ImportStatus => "상태", "Status";
    ImportResult => "결과", "Result";
    ImportDuration => "소요 시간", "Duration";
    ImportCreated => "생성", "created";
    ImportUpdated => "수정", "updated";
    ImportUnchanged => "변경 없음", "unchanged";
    ImportSkipped => "건너뛴 행", "Rows skipped";
    ImportRowsRead => "읽은 행", "Rows read";
    ImportRowsChecked => "검사한 행", "checked";
    ImportRowsWritten => "저장한 행", "written";
    ImportUndo => "가져오기 취소", "Undo import";
    ImportUndoneBy => "가져오기를 취소했습니다:", "Import undone by";
    ImportRow => "행", "Row";
    ImportColumn => "열", "Column";
    ImportProblem => "문제", "Problem";
    ImportSheet => "시트", "Sheet";
    ImportHeaderRow => "머리글 행", "Header row";
    ImportEncoding => "인코딩", "Encoding";
    ImportDelimiter => "구분자", "Delimiter";
    ImportMode => "문제가 있는 행", "Rows with problems";
    ImportModeAllOrNothing => "하나라도 있으면 아무것도 가져오지 않음", "Import nothing if any row has a problem";
    ImportModeSkipInvalid => "건너뛰고 나머지만 가져오기", "Skip them, import the rest";
    ImportHeader => "머리글", "Header";
    ImportField => "가져올 항목", "Import into";
    ImportSample => "예시 값", "Sample values";
    ImportIgnoreColumn => "가져오지 않음", "Do not import";
    ImportApply => "다시 읽기", "Apply";
    ImportDataRows => "데이터 행", "Data rows";
    ImportInvalidRows => "문제가 있는 행", "rows with problems";
    ImportProblems => "문제", "problems";
    ImportCannotCommit => "위의 문제를 고치거나 '건너뛰고 나머지만 가져오기'를 고른 뒤 다시 읽어 주세요.", "Fix the problems above, or choose to skip them and apply, before importing.";
    ImportCommit => "가져오기", "Import";
    ImportErrorReport => "건너뛴 행과 이유 내려받기 (.xlsx)", "Download the rows left out, with reasons (.xlsx)";
    ImportMappingReused => "같은 모양의 파일에 썼던 열 지정을 불러왔습니다:", "Column mapping taken over from the earlier file of the same shape:";
    ImportDealId => "영업기회 ID", "Deal ID";
    ImportInvalidDealId => "영업기회 ID 형식이 아닙니다 (SalesOps에서 내보낸 파일의 ID).", "Not a deal id (the id a SalesOps export writes).";
    ImportUnknownDeal => "이 ID의 영업기회가 없습니다 (삭제되었거나 다른 시스템의 ID입니다).", "No deal has this id (it was deleted, or the id is from another system).";
    ImportAccountAmbiguous => "이 고객사명이 파일 안에서 서로 다른 사업자등록번호로 나옵니다. 이 행에 사업자등록번호를 적어 주세요.", "This account name appears in the file with different business numbers. Give this row its business number.";
    ImportUseSheet => "이 시트 가져오기", "Import this sheet";
    ImportSheetNotImported => "가져오지 않음", "Not imported";
    ImportSheetsHint => "시트마다 머리글 행과 열 지정을 확인하세요. 고객사가 먼저 저장되고, 다른 시트의 담당자와 영업기회는 사업자등록번호나 고객사명으로 연결됩니다.", "Check each sheet's header row and mapping. Accounts are written first; contacts and deals on other sheets link to them by business number or account name.";
    ImportContractStart => "계약 시작일", "Contract start date";
    ImportContractEnd => "계약 종료일", "Contract end date";
    ImportContractAmount => "계약 금액", "Contract value";
    ImportContractStatus => "계약 상태", "Contract status";
    ImportContractNeedsTitle => "계약 정보가 있지만 계약명이 없습니다.", "Contract details without a contract title.";
    ImportContractDeleted => "이 계약번호의 계약은 휴지통에 있습니다. 먼저 복원해 주세요.", "The contract with this number is in the trash. Restore it first.";
    ImportContractTerminated => "해지된 계약은 가져올 수 없습니다. 가져온 뒤 계약 화면에서 사유와 함께 해지해 주세요.", "A terminated contract cannot be imported: import it, then terminate it with its reason on its page.";
    // The dashboard (server-rendered only).
    NavDashboard => "대시보드", "Dashboard";
    DashboardTitle => "파이프라인 대시보드", "Pipeline dashboard";
    DashboardPeriod => "기간", "Period";
    DashboardEmpty => "아직 집계할 영업기회가 없습니다.", "No deals to sum up yet.";
    DashboardPipeline => "단계별 진행 중 파이프라인", "Open pipeline by stage";
    DashboardForecast => "월별 수주 실적과 예상 (가중)", "Won by month and weighted forecast";
    DashboardForecastHint => "지난 12개월은 수주한 금액(예상 마감월 기준), 앞으로 12개월은 진행 중인 영업기회의 확률 가중 금액입니다.", "The past 12 months show what was won (by close month); the next 12 the probability-weighted open pipeline.";
    DashboardWinRate => "수주율 (기간 내 마감)", "Win rate (closed in the period)";
    DashboardWon => "수주", "Won";
    DashboardLost => "실주", "Lost";
    DashboardExpected => "예상", "Expected";
    DashboardByCount => "건수 기준", "By count";
    DashboardByValue => "금액 기준", "By value";
    DashboardLeaderboard => "담당자별", "By owner";
    DashboardOpen => "진행 중", "Open pipeline";
    DashboardWonInPeriod => "기간 내 수주", "Won in the period";
    DashboardMonth => "월", "Month";
    DashboardStale => "활동이 없는 영업기회", "Deals without activity";
    DashboardStaleAfter => "활동 없음 기준(일)", "Stale after (days)";
    DashboardNoStale => "오래 활동이 없는 진행 중 영업기회가 없습니다.", "No open deal has gone without activity that long.";
    DashboardIdle => "활동 없음", "Idle for";
    SearchTooShort => "검색어를 두 글자 이상 입력해 주세요.", "Type at least two characters to search.";
    DashboardDaysToClose => "평균 수주 소요일", "Avg. days to close";
    DashboardStageTime => "단계별 체류 기간", "Time in stage";
    DashboardStageTimeHint => "영업기회가 각 단계에 들어와 다음 단계로 넘어가기까지 걸린 일수입니다 (단계 이력 기준, 아직 그 단계에 있는 영업기회는 제외).", "Days from entering a stage to leaving it, from the stage history (deals still in the stage are not counted yet).";
    DashboardAverage => "평균", "Average";
    DashboardMedian => "중앙값", "Median";
    DashboardStays => "이동 건수", "Deals moved on";
    DashboardNoStageTime => "아직 다음 단계로 넘어간 영업기회가 없습니다.", "No deal has moved on from a stage yet.";
    // Contracts and renewals (server-rendered pages only).
    Contract => "계약", "Contract";
    Contracts => "계약", "Contracts";
    NavContracts => "계약", "Contracts";
    NavRenewals => "갱신 예정", "Renewals";
    ContractsTitle => "계약", "Contracts";
    NewContract => "새 계약", "New contract";
    EditContract => "계약 수정", "Edit contract";
    CreateContractFromDeal => "이 영업기회로 계약 만들기", "Create contract from this deal";
    ContractTitle => "계약명", "Contract title";
    ContractNumber => "계약번호", "Contract number";
    ContractStatus => "상태", "Status";
    ContractDraft => "초안", "Draft";
    ContractActive => "유효", "Active";
    ContractExpired => "만료", "Expired";
    ContractTerminated => "해지", "Terminated";
    ContractSigned => "체결됨 (기간에 따라 유효/만료)", "Signed (active or expired by its dates)";
    StartDate => "시작일", "Start date";
    EndDate => "종료일", "End date";
    BillingPeriod => "청구 주기", "Billing period";
    BillingOneTime => "일시불", "One-time";
    BillingMonthly => "월", "Monthly";
    BillingAnnual => "연", "Annual";
    ContractValue => "계약 금액 (청구 주기당)", "Value per billing period";
    AutoRenew => "자동 갱신", "Auto-renewal";
    NoticeDays => "해지 통보 기간 (일)", "Notice period (days)";
    MonthlyValue => "월 반복 매출", "Monthly recurring value";
    TotalContractValue => "총 계약 금액", "Total contract value";
    DaysToRenewal => "갱신까지", "Days to renewal";
    NoticeDeadline => "해지 통보 마감일", "Notice deadline";
    NoticeDeadlineHint => "이날이 지나면 자동 갱신을 막을 수 없습니다.", "After this day an auto-renewing contract can no longer be cancelled.";
    OriginatingDeal => "원래 영업기회", "Originating deal";
    Terminate => "해지", "Terminate";
    TerminatedOn => "해지일", "Terminated on";
    TerminationReason => "해지 사유", "Reason for termination";
    NoContracts => "계약이 없습니다.", "No contracts.";
    AllStatuses => "모든 상태", "All statuses";
    RenewalsTitle => "갱신 예정 계약", "Contracts coming up for renewal";
    RenewalsHint => "종료일이나 해지 통보 마감일이 기간 안에 있는 계약, 가까운 순", "Contracts whose end date or notice deadline falls in the window, soonest first";
    WithinDays => "기간", "Window";
    NextDays30 => "30일 안", "Next 30 days";
    NextDays60 => "60일 안", "Next 60 days";
    NextDays90 => "90일 안", "Next 90 days";
    DaysLeft => "남은 날", "Days left";
    MonthlyValueTotal => "월 반복 매출 합계", "Monthly recurring value";
    ContractDealNotWon => "수주한 영업기회만 계약으로 만들 수 있습니다.", "Only a won deal can become a contract.";
    ContractEndBeforeStart => "종료일이 시작일보다 빠릅니다.", "The end date is before the start date.";
    ContractTermTooLong => "계약 기간은 30년까지입니다.", "A contract runs at most 30 years.";
    ContractNoticeTooLong => "해지 통보 기간이 계약 기간보다 깁니다.", "The notice period is longer than the contract.";
    ContractNumberTaken => "이미 쓰고 있는 계약번호입니다.", "Another contract has this number.";
    InvalidBillingPeriod => "청구 주기를 골라 주세요.", "Choose a billing period.";
    InvalidNoticeDays => "0에서 3650 사이의 일수를 적어 주세요.", "Enter a number of days from 0 to 3650.";
    ContractAlreadyTerminated => "이미 해지된 계약입니다.", "This contract is already terminated.";
    ContractNotFound => "계약을 찾을 수 없습니다.", "Contract not found.";
    ImportNoFile => "올린 파일이 없습니다. 파일을 골라서 다시 올려 주세요.", "No file was uploaded. Choose a file and upload it again.";
}

/// Seoul time: every user of this company works in KST (no daylight saving).
fn kst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

/// A moment as a Seoul wall-clock time (exports write it so).
pub fn in_seoul(at: DateTime<Utc>) -> chrono::NaiveDateTime {
    at.with_timezone(&kst()).naive_local()
}

/// Today's date in Seoul, where "this month" and "this quarter" are meant.
pub fn seoul_today() -> NaiveDate {
    Utc::now().with_timezone(&kst()).date_naive()
}

/// Dates are written out by hand: chrono's strftime engine would add its
/// whole format parser to the browser bundle.
const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

pub fn format_datetime(at: DateTime<Utc>, lang: Lang) -> String {
    use chrono::Timelike;
    let local = at.with_timezone(&kst());
    let sep = match lang {
        Lang::Ko => " ",
        Lang::En => ", ",
    };
    format!("{}{sep}{:02}:{:02}", format_date(local.date_naive(), lang), local.hour(), local.minute())
}

pub fn format_date(d: NaiveDate, lang: Lang) -> String {
    use chrono::Datelike;
    match lang {
        Lang::Ko => format!("{}. {}. {}.", d.year(), d.month(), d.day()),
        Lang::En => format!("{} {}, {}", MONTHS_EN[d.month0() as usize], d.day(), d.year()),
    }
}

/// Groups digits in threes: both languages use the comma separator.
pub fn format_integer(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Money in its currency: KRW has no minor unit, USD has two.
pub fn format_money(amount: rust_decimal::Decimal, currency: &str, lang: Lang) -> String {
    use rust_decimal::prelude::ToPrimitive;
    let scale = if currency == "KRW" { 0 } else { 2 };
    let rounded = amount.round_dp(scale);
    let whole = rounded.trunc().to_i64().unwrap_or(0);
    let frac = ((rounded - rounded.trunc()).abs() * rust_decimal::Decimal::from(100)).to_i64().unwrap_or(0);
    let number = if scale == 0 { format_integer(whole) } else { format!("{}.{frac:02}", format_integer(whole)) };
    match (currency, lang) {
        ("KRW", Lang::Ko) => format!("{number}원"),
        ("KRW", Lang::En) => format!("₩{number}"),
        ("USD", _) => format!("${number}"),
        (other, _) => format!("{number} {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    #[test]
    fn every_key_has_both_languages() {
        for key in T::ALL {
            // Without `ssr` (the browser build) server-only texts are left out.
            let carried = cfg!(feature = "ssr") || !T::SERVER_ONLY.contains(key);
            assert_eq!(!key.text(Lang::Ko).is_empty(), carried, "{key:?} ko");
            assert_eq!(!key.text(Lang::En).is_empty(), carried, "{key:?} en");
        }
        assert!(T::SERVER_ONLY.contains(&T::ImportNotSpreadsheet));
        assert!(!T::SERVER_ONLY.contains(&T::ErrBusy), "islands show this one");
    }

    #[test]
    fn every_key_survives_the_trip_to_the_browser_and_unknown_keys_are_refused() {
        for key in T::ALL {
            let json = serde_json::to_string(key).expect("encode");
            assert_eq!(serde_json::from_str::<T>(&json).expect("decode"), *key);
        }
        let past_the_end = T::ALL.len().to_string();
        assert!(serde_json::from_str::<T>(&past_the_end).is_err());
        assert!(serde_json::from_str::<T>("\"AppName\"").is_err());
    }

    #[test]
    fn negotiation_prefers_cookie_then_accept_language() {
        assert_eq!(Lang::negotiate(Some("en"), Some("ko-KR")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("en-US,en;q=0.9,ko;q=0.8")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("fr-FR,ko;q=0.5")), Lang::Ko);
        assert_eq!(Lang::negotiate(Some("xx"), None), Lang::Ko);
    }

    #[test]
    fn money_and_numbers_per_language() {
        let krw = Decimal::from_str("12000000").expect("decimal");
        assert_eq!(format_money(krw, "KRW", Lang::Ko), "12,000,000원");
        assert_eq!(format_money(krw, "KRW", Lang::En), "₩12,000,000");
        let usd = Decimal::from_str("1234.5").expect("decimal");
        assert_eq!(format_money(usd, "USD", Lang::En), "$1,234.50");
        assert_eq!(format_integer(-1234567), "-1,234,567");
        assert_eq!(format_integer(999), "999");
    }

    #[test]
    fn dates_in_seoul_time() {
        let at = DateTime::parse_from_rfc3339("2026-11-24T15:30:00Z").expect("date").with_timezone(&Utc);
        assert_eq!(format_datetime(at, Lang::Ko), "2026. 11. 25. 00:30");
        assert_eq!(format_datetime(at, Lang::En), "Nov 25, 2026, 00:30");
    }
}
