//! Spreadsheet import end to end through the router: upload (multipart),
//! preview, commit, the job, re-import, undo, refusals. Workbooks are
//! written by the tests themselves. The job runs by calling the worker's
//! `run_next` (what each instance's worker loop calls), so no test waits.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use app::i18n::T;
use app::import::server::run_next;
use app::import::{encode_mapping, encode_sheets, EditedSince, ImportMode, ImportStatus, ImportSummary, Preview};

use crate::helpers::{fields, Client, Resp, TestApp, ORIGIN};

const BOUNDARY: &str = "salesops-test-boundary-7d2f";

fn multipart(file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(client: &Client<'_>, file_name: &str, bytes: &[u8]) -> Resp {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri("/import/upload")
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"));
    if let Some(token) = &client.token {
        b = b.header(header::COOKIE, format!("{}={token}", server::session::COOKIE));
    }
    client.app.send(b.body(Body::from(multipart(file_name, bytes))).expect("request")).await
}

/// Uploads and returns the import's id (from the redirect to its preview).
async fn uploaded(client: &Client<'_>, file_name: &str, bytes: &[u8]) -> Uuid {
    let res = upload(client, file_name, bytes).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let location = res.location().expect("redirect").to_string();
    let id = location.strip_prefix("/import/").unwrap_or_else(|| panic!("redirected to {location}"));
    Uuid::parse_str(id).expect("import id")
}

async fn preview(client: &Client<'_>, id: Uuid, mapping: &str, mode: ImportMode) -> Preview {
    let body = fields(&[
        ("id", &id.to_string()),
        ("params[sheet]", ""),
        ("params[header]", ""),
        ("params[enc]", ""),
        ("params[delim]", ""),
        ("params[mapping]", mapping),
        ("params[mode]", mode.code()),
        ("page", "0"),
    ]);
    let res = client.post_fn("/api/imports/preview", &body).await;
    res.assert_status(StatusCode::OK);
    res.ok()
}

/// Commits as the page's commit form does: every sheet's settings as previewed.
async fn commit(client: &Client<'_>, id: Uuid, p: &Preview) -> Resp {
    let body = fields(&[
        ("id", &id.to_string()),
        ("params[sheet]", &p.sheet),
        ("params[sheets]", &encode_sheets(&p.settings)),
        ("params[enc]", ""),
        ("params[delim]", ""),
        ("params[mode]", p.mode.code()),
    ]);
    client.post_fn("/api/imports/commit", &body).await
}

/// A preview as the page's settings form asks for it: the shown sheet's
/// fields, the others' settings carried in `sheets`.
async fn preview_sheet(client: &Client<'_>, id: Uuid, p: &Preview, show: &str, use_shown: &str) -> Preview {
    let body = fields(&[
        ("id", &id.to_string()),
        ("params[sheet]", show),
        ("params[shown]", &p.sheet),
        ("params[sheets]", &encode_sheets(&p.settings)),
        ("params[use_sheet]", use_shown),
        ("params[header]", &p.header.map(|h| h.number.to_string()).unwrap_or_default()),
        ("params[mapping]", &encode_mapping(&p.mapping)),
        ("params[mode]", p.mode.code()),
        ("page", "0"),
    ]);
    let res = client.post_fn("/api/imports/preview", &body).await;
    res.assert_status(StatusCode::OK);
    res.ok()
}

/// Upload, preview with the suggested mapping, commit, run the job.
pub(crate) async fn import(
    client: &Client<'_>,
    file_name: &str,
    bytes: &[u8],
    mode: ImportMode,
) -> (Uuid, Preview, ImportSummary) {
    let id = uploaded(client, file_name, bytes).await;
    let p = preview(client, id, "", mode).await;
    commit(client, id, &p).await.assert_status(StatusCode::OK);
    assert_eq!(run_next(&client.app.pool, "test-instance").await.expect("job runs"), Some(id));
    let summary = app::import::server::summary(&client.app.pool, id).await.expect("summary");
    (id, p, summary)
}

/// The benchmark's shape: nine columns, the stage in Korean, amounts as ₩
/// text, dates as date cells, owners by name.
fn deals_workbook(rows: &[(&str, &str, &str, &str, &str, &str)]) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.merge_range(0, 0, 0, 8, "2024년 영업기회 현황", &Format::new().set_bold())?;
        let headers =
            ["고객사명", "사업자등록번호", "영업기회명", "단계", "금액", "통화", "확률", "예상 마감일", "담당 영업"];
        for (column, h) in headers.iter().enumerate() {
            sheet.write_string(2, column as u16, *h)?;
        }
        let date = Format::new().set_num_format("yyyy-mm-dd");
        for (i, (account, number, deal, stage, amount, owner)) in rows.iter().enumerate() {
            let r = 3 + i as u32;
            sheet.write_string(r, 0, *account)?;
            sheet.write_string(r, 1, *number)?;
            sheet.write_string(r, 2, *deal)?;
            sheet.write_string(r, 3, *stage)?;
            sheet.write_string(r, 4, *amount)?;
            sheet.write_string(r, 5, "KRW")?;
            sheet.write_string(r, 6, "40%")?;
            sheet.write_datetime_with_format(r, 7, ExcelDateTime::from_ymd(2024, 6, 30)?, &date)?;
            sheet.write_string(r, 8, *owner)?;
        }
        workbook.save_to_buffer()
    };
    build().expect("xlsx fixture")
}

async fn ids_by_name(app: &TestApp, table: &str) -> Vec<(String, Uuid)> {
    sqlx::query_as(&format!("select name, id from {table} where deleted_at is null order by name"))
        .fetch_all(&app.pool)
        .await
        .expect("names")
}

#[tokio::test]
async fn a_workbook_imports_whole_and_the_same_file_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let rep = app.rep("김민준").await;
    let file = deals_workbook(&[
        ("구름클라우드", "220-81-62517", "ERP 클라우드 이전", "제안", "₩12,000,000", "김민준"),
        ("구름클라우드", "2208162517", "백업 구축", "리드", "3,500,000원", "김민준"),
        ("하늘데이터", "", "보안 관제", "협상", "1.5억", "관리자"),
    ]);
    let (id, p, summary) = import(&admin, "2024 영업.xlsx", &file, ImportMode::AllOrNothing).await;
    assert_eq!(p.header.map(|h| h.number), Some(3), "the header row is found below the merged title");
    assert_eq!(p.mapping.iter().filter_map(|m| m.field).count(), 9, "every column mapped from its Korean name");
    assert_eq!((p.data_rows, p.problem_count), (3, 0));
    assert_eq!(summary.status, ImportStatus::Committed, "{:?}", summary.error);
    assert_eq!((summary.counts.account.created, summary.counts.deal.created), (2, 3));
    assert_eq!(summary.rows_written, 3);

    let accounts = ids_by_name(&app, "accounts").await;
    assert_eq!(accounts.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["구름클라우드", "하늘데이터"]);
    let erp: Value = sqlx::query_scalar("select to_jsonb(d) from deals d where name = 'ERP 클라우드 이전'")
        .fetch_one(&app.pool)
        .await
        .expect("deal");
    assert_eq!(erp["stage_id"], "proposal");
    assert_eq!(erp["amount"], 12_000_000.0);
    assert_eq!(erp["probability"], 40);
    assert_eq!(erp["expected_close_date"], "2024-06-30");
    assert_eq!(erp["owner_id"], rep.id.to_string());
    let history: i64 =
        sqlx::query_scalar("select count(*) from deal_stage_history").fetch_one(&app.pool).await.expect("n");
    assert_eq!(history, 3, "stage history is written for imported deals");
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'import'")
        .fetch_one(&app.pool)
        .await
        .expect("n");
    assert_eq!(audited, 5, "the audit trail shows the import");

    // The same file again: nothing new, nothing updated.
    let before = app.fingerprint().await;
    let (_, _, again) = import(&admin, "2024 영업.xlsx", &file, ImportMode::AllOrNothing).await;
    assert_eq!(again.status, ImportStatus::Committed);
    assert_eq!((again.counts.account.created, again.counts.account.updated, again.counts.account.unchanged), (0, 0, 2));
    assert_eq!((again.counts.deal.created, again.counts.deal.updated, again.counts.deal.unchanged), (0, 0, 3));
    assert_eq!(app.fingerprint().await, before, "a re-import changes nothing");

    // The history page lists both imports.
    let page = admin.get("/import").await;
    page.assert_status(StatusCode::OK);
    assert_eq!(page.body.matches("2024 영업.xlsx").count(), 2);
    let result = admin.get(&format!("/import/{id}")).await;
    result.assert_status(StatusCode::OK);
    assert!(result.body.contains("import-undo"), "a committed import offers undo");
}

#[tokio::test]
async fn undo_restores_updated_records_exactly_and_removes_created_ones() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let rep = app.rep("김민준").await;
    let account = rep.create_account(&[("name", "구름클라우드"), ("business_number", "220-81-62517")]).await;
    let before = app.row("accounts", account).await;

    // The file renames the account (matched by its number) and adds a deal.
    let file =
        deals_workbook(&[("구름 클라우드(주)", "220-81-62517", "ERP 클라우드 이전", "제안", "₩12,000,000", "김민준")]);
    let (id, _, summary) = import(&admin, "update.xlsx", &file, ImportMode::AllOrNothing).await;
    assert_eq!((summary.counts.account.updated, summary.counts.deal.created), (1, 1));
    assert_eq!(app.row("accounts", account).await["name"], "구름 클라우드(주)");
    assert_eq!(app.count("deals").await, 1);

    let res = admin.post_fn("/api/imports/undo", &fields(&[("id", &id.to_string())])).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.ok::<Vec<EditedSince>>(), vec![]);
    let after = app.row("accounts", account).await;
    for key in ["name", "business_number", "industry", "owner_id", "notes", "deleted_at"] {
        assert_eq!(after[key], before[key], "{key} is restored");
    }
    assert_eq!(app.count("deals").await, 0, "the created deal is gone");
    let summary = app::import::server::summary(&app.pool, id).await.expect("summary");
    assert_eq!(summary.status, ImportStatus::Undone);
    assert_eq!(summary.undone_by.as_deref(), Some("관리자"));
    let undo_audit: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'undo-import'")
        .fetch_one(&app.pool)
        .await
        .expect("n");
    assert_eq!(undo_audit, 2, "the audit trail shows the undo");

    // Undone once is undone: a second undo is refused.
    let again = admin.post_fn("/api/imports/undo", &fields(&[("id", &id.to_string())])).await;
    assert!(again.status.is_client_error());
}

#[tokio::test]
async fn undo_refuses_naming_records_edited_since_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let rep = app.rep("김민준").await;
    let file = deals_workbook(&[
        ("구름클라우드", "220-81-62517", "ERP 클라우드 이전", "제안", "₩12,000,000", "김민준"),
        ("하늘데이터", "", "보안 관제", "리드", "", "김민준"),
    ]);
    let (id, _, _) = import(&admin, "a.xlsx", &file, ImportMode::AllOrNothing).await;
    let (_, account) =
        ids_by_name(&app, "accounts").await.into_iter().find(|(n, _)| n == "하늘데이터").expect("account");
    let version = app.version("accounts", account).await;
    rep.update_account(account, version, &[("name", "하늘데이터 주식회사")]).await.assert_status(StatusCode::OK);

    let before = app.fingerprint().await;
    let res = admin.post_fn("/api/imports/undo", &fields(&[("id", &id.to_string())])).await;
    res.assert_status(StatusCode::OK);
    let edited: Vec<EditedSince> = res.ok();
    assert_eq!(edited.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["하늘데이터 주식회사"]);
    assert_eq!(app.fingerprint().await, before, "a refused undo changes nothing");
    let page = admin.get(&format!("/import/{id}?undo=refused")).await;
    assert!(page.body.contains("하늘데이터 주식회사"), "the page names the edited record");
}

#[tokio::test]
async fn rows_with_problems_block_all_or_nothing_and_are_skipped_otherwise() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    app.rep("김민준").await;
    let file = deals_workbook(&[
        ("구름클라우드", "220-81-62517", "ERP 클라우드 이전", "제안", "₩12,000,000", "김민준"),
        ("하늘데이터", "123-45-67890", "보안 관제", "없는 단계", "많이", "아무개"),
        ("합계", "", "", "", "₩12,000,000", ""),
    ]);
    let id = uploaded(&admin, "bad.xlsx", &file).await;
    let p = preview(&admin, id, "", ImportMode::AllOrNothing).await;
    assert_eq!((p.data_rows, p.invalid_rows), (3, 2));
    let found: Vec<(u32, T)> = p.problems.iter().map(|x| (x.row, x.problem)).collect();
    assert_eq!(
        found,
        vec![
            (5, T::BusinessNumberCheckDigit),
            (5, T::InvalidStage),
            (5, T::InvalidAmount),
            (5, T::ImportUnknownOwner),
            (6, T::ImportTotalRow)
        ]
    );
    assert!(!p.can_commit, "all or nothing with problems cannot commit");
    let page = admin.get(&format!("/import/{id}")).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains(T::ImportTotalRow.text(app::i18n::Lang::Ko)), "problems are on the page");

    // Committed anyway (a hand-made request): the job writes nothing.
    commit(&admin, id, &p).await.assert_status(StatusCode::OK);
    run_next(&app.pool, "test-instance").await.expect("job runs");
    let failed = app::import::server::summary(&app.pool, id).await.expect("summary");
    assert_eq!((failed.status, failed.error), (ImportStatus::Failed, Some(T::ImportHasProblems)));
    assert_eq!(app.count("accounts").await, 0, "all or nothing wrote nothing");

    // Skipping invalid rows writes the rest.
    let (done_id, p, done) = import(&admin, "bad.xlsx", &file, ImportMode::SkipInvalid).await;
    assert!(p.can_commit);
    assert_eq!(done.status, ImportStatus::Committed);
    assert_eq!((done.skipped, done.counts.account.created, done.counts.deal.created), (2, 1, 1));

    // The error report: the rows left out as the file had them, with the reasons.
    let res = admin.get(&format!("/import/{done_id}/report.xlsx")).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.header("content-type"), Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
    let report = app.get_bytes(&admin, &format!("/import/{done_id}/report.xlsx")).await;
    let read = app::import::read::read_upload(&report, &Default::default(), &app::import::read::Limits::default())
        .expect("the report is a workbook");
    let texts: Vec<Vec<String>> =
        read.rows.iter().map(|r| r.cells.iter().map(app::import::CellValue::to_text).collect()).collect();
    assert_eq!(texts.len(), 3, "a header and the two rows left out: {texts:?}");
    assert_eq!(texts[1][0], "5");
    assert_eq!(texts[1][1], "하늘데이터");
    assert!(texts[1].last().is_some_and(|r| r.contains("알 수 없는 단계입니다")), "{:?}", texts[1]);
    assert_eq!(texts[2][1], "합계");
    assert_eq!(
        app.rep("김서연").await.get(&format!("/import/{done_id}/report.xlsx")).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_job_whose_instance_died_is_marked_failed_and_wrote_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let file = deals_workbook(&[("구름클라우드", "220-81-62517", "ERP", "제안", "₩1", "관리자")]);
    let id = uploaded(&admin, "a.xlsx", &file).await;
    let p = preview(&admin, id, "", ImportMode::AllOrNothing).await;
    commit(&admin, id, &p).await.assert_status(StatusCode::OK);
    // Claimed by an instance that then died: its heartbeat stopped a minute ago.
    sqlx::query(
        "update imports set status = 'running', claimed_by = 'dead', heartbeat_at = now() - interval '1 minute'
         where id = $1",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .expect("claim");
    assert_eq!(run_next(&app.pool, "another-instance").await.expect("runs"), None, "a running job is not taken over");
    let failed = app::import::server::summary(&app.pool, id).await.expect("summary");
    assert_eq!((failed.status, failed.error), (ImportStatus::Failed, Some(T::ImportInterrupted)));
    assert_eq!(app.count("accounts").await, 0);
    let page = admin.get(&format!("/import/{id}")).await;
    assert!(page.body.contains(T::ImportInterrupted.text(app::i18n::Lang::Ko)));
}

#[tokio::test]
async fn only_admins_import_and_unreadable_files_are_refused_before_anything_is_stored() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let manager = app.manager("박지훈").await;
    let file = deals_workbook(&[("구름클라우드", "220-81-62517", "ERP", "제안", "₩1", "관리자")]);

    assert_eq!(upload(&manager, "a.xlsx", &file).await.status, StatusCode::FORBIDDEN);
    assert_eq!(upload(&app.anonymous(), "a.xlsx", &file).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("imports").await, 0);
    let id = uploaded(&admin, "a.xlsx", &file).await;
    for client in [&manager, &app.rep("김민준").await] {
        let res = client.post_fn("/api/imports/undo", &fields(&[("id", &id.to_string())])).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(client.get(&format!("/import/{id}")).await.status, StatusCode::FORBIDDEN);
        let body = fields(&[
            ("id", &id.to_string()),
            ("params[sheet]", ""),
            ("params[header]", ""),
            ("params[enc]", ""),
            ("params[delim]", ""),
            ("params[mapping]", ""),
            ("params[mode]", ""),
        ]);
        assert_eq!(client.post_fn("/api/imports/commit", &body).await.status, StatusCode::FORBIDDEN);
    }

    let mut truncated = file.clone();
    truncated.truncate(file.len() / 2);
    let bomb = {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/worksheets/sheet1.xml", options).expect("entry");
        zip.write_all(&vec![b' '; 300 * 1024 * 1024]).expect("write");
        zip.finish().expect("zip").into_inner()
    };
    let hostile: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.xlsx", Vec::new(), "EmptyFile"),
        ("photo.xlsx", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "NotSpreadsheet"),
        ("half.xlsx", truncated, "Damaged"),
        ("bomb.xlsx", bomb, "CompressionBomb"),
        ("line.csv", vec![b'a'; 2 * 1024 * 1024], "CsvLineTooLong"),
    ];
    for (name, bytes, refusal) in hostile {
        let res = upload(&admin, name, &bytes).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{name}");
        assert_eq!(res.location(), Some(format!("/import?refused={refusal}").as_str()), "{name}");
    }
    let big = vec![b'a'; 22 * 1024 * 1024];
    let res = upload(&admin, "big.csv", &big).await;
    assert_eq!(res.location(), Some("/import?refused=FileTooLarge"));
    assert_eq!(app.count("imports").await, 1, "nothing refused was stored");
    let page = admin.get("/import?refused=CompressionBomb").await;
    assert!(page.body.contains(T::ImportCompressionBomb.text(app::i18n::Lang::Ko)));
    // And the server still answers.
    admin.get("/accounts").await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn the_next_file_of_the_same_shape_starts_from_the_last_mapping() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let first = "고객사명,영업 비고\r\n구름클라우드,연간 계약\r\n".as_bytes();
    let id = uploaded(&admin, "1월.csv", first).await;
    let suggested = preview(&admin, id, "", ImportMode::AllOrNothing).await;
    assert_eq!(suggested.mapping[1].field, None, "'영업 비고' has no field of its own");
    assert_eq!(suggested.mapping_from, None);
    let p = preview(&admin, id, "1=notes", ImportMode::AllOrNothing).await;
    assert_eq!(p.mapping[1].field, Some(app::import::ImportField::Notes));
    commit(&admin, id, &p).await.assert_status(StatusCode::OK);
    run_next(&app.pool, "test-instance").await.expect("job runs");
    let (notes,): (Option<String>,) =
        sqlx::query_as("select notes from accounts").fetch_one(&app.pool).await.expect("account");
    assert_eq!(notes.as_deref(), Some("연간 계약"));

    let next = "고객사명,영업 비고\r\n하늘데이터,재계약 검토\r\n".as_bytes();
    let id = uploaded(&admin, "2월.csv", next).await;
    let p = preview(&admin, id, "", ImportMode::AllOrNothing).await;
    assert_eq!(p.mapping[1].field, Some(app::import::ImportField::Notes), "the saved mapping is reused");
    assert_eq!(p.mapping_from.as_deref(), Some("1월.csv"));
    // A file of another shape starts from the suggestion.
    let other = "고객사명,비고란\r\n바다소프트,x\r\n".as_bytes();
    let id = uploaded(&admin, "3월.csv", other).await;
    assert_eq!(preview(&admin, id, "", ImportMode::AllOrNothing).await.mapping_from, None);
}

/// A workbook as the team keeps one: a cover sheet, then accounts, contacts
/// and deals on sheets of their own. Contacts name their account by name
/// only, deals by business number only.
fn team_workbook(bad_email: bool) -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut workbook = Workbook::new();
        let cover = workbook.add_worksheet().set_name("안내")?;
        cover.write_string(0, 0, "2024년 영업 관리 파일입니다. 시트별로 입력하세요.")?;
        let accounts = workbook.add_worksheet().set_name("고객사")?;
        for (c, h) in ["고객사명", "사업자등록번호", "업종"].iter().enumerate() {
            accounts.write_string(0, c as u16, *h)?;
        }
        for (r, row) in
            [["구름클라우드", "220-81-62517", "제조"], ["하늘데이터", "123-45-67891", "금융"]].iter().enumerate()
        {
            for (c, v) in row.iter().enumerate() {
                accounts.write_string(r as u32 + 1, c as u16, *v)?;
            }
        }
        let contacts = workbook.add_worksheet().set_name("담당자")?;
        for (c, h) in ["고객사명", "담당자명", "이메일"].iter().enumerate() {
            contacts.write_string(0, c as u16, *h)?;
        }
        let email = if bad_email { "not-an-email" } else { "hana@haneul.example" };
        for (r, row) in
            [["구름클라우드", "이서준", "seojun@gureum.example"], ["하늘데이터", "정하나", email]].iter().enumerate()
        {
            for (c, v) in row.iter().enumerate() {
                contacts.write_string(r as u32 + 1, c as u16, *v)?;
            }
        }
        let deals = workbook.add_worksheet().set_name("영업기회")?;
        for (c, h) in ["사업자등록번호", "영업기회명", "단계", "금액"].iter().enumerate() {
            deals.write_string(0, c as u16, *h)?;
        }
        for (r, row) in
            [["2208162517", "ERP 클라우드 이전", "제안", "₩12,000,000"], ["123-45-67891", "보안 관제", "리드", "3억"]]
                .iter()
                .enumerate()
        {
            for (c, v) in row.iter().enumerate() {
                deals.write_string(r as u32 + 1, c as u16, *v)?;
            }
        }
        workbook.save_to_buffer()
    };
    build().expect("xlsx fixture")
}

#[tokio::test]
async fn a_workbook_of_several_sheets_imports_in_one_go_linked_by_name_or_number() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let id = uploaded(&admin, "영업 관리.xlsx", &team_workbook(false)).await;
    let p = preview(&admin, id, "", ImportMode::AllOrNothing).await;
    let imported: Vec<(&str, bool)> = p.sheets.iter().map(|s| (s.name.as_str(), s.imported)).collect();
    assert_eq!(imported, [("안내", false), ("고객사", true), ("담당자", true), ("영업기회", true)]);
    assert_eq!(p.sheet, "고객사", "the page opens on the first sheet imported, not the cover");
    assert_eq!((p.data_rows, p.problem_count), (6, 0), "{:?}", p.problems);
    assert!(p.can_commit);
    let page = admin.get(&format!("/import/{id}")).await;
    assert!(page.body.contains("import-sheets") && page.body.contains("영업기회"), "the page lists the sheets");

    // Looking at another sheet keeps every sheet's settings; one can be left out.
    let deals = preview_sheet(&admin, id, &p, "영업기회", "yes").await;
    assert_eq!(deals.sheet, "영업기회");
    assert_eq!(deals.mapping.iter().filter_map(|m| m.field).count(), 4);
    let without = preview_sheet(&admin, id, &deals, "영업기회", "no").await;
    assert!(!without.sheets[3].imported);
    assert_eq!(without.data_rows, 4, "the deals sheet is left out");
    let with = preview_sheet(&admin, id, &without, "고객사", "yes").await;
    assert_eq!((with.sheet.as_str(), with.data_rows), ("고객사", 6));

    commit(&admin, id, &with).await.assert_status(StatusCode::OK);
    assert_eq!(run_next(&app.pool, "test-instance").await.expect("job runs"), Some(id));
    let summary = app::import::server::summary(&app.pool, id).await.expect("summary");
    assert_eq!(summary.status, ImportStatus::Committed, "{:?}", summary.error);
    let created = (summary.counts.account.created, summary.counts.contact.created, summary.counts.deal.created);
    assert_eq!(created, (2, 2, 2), "one account per company, whichever sheet names it and how");
    let linked: Vec<(String, String, String)> =
        sqlx::query_as("select a.name, a.business_number, coalesce(a.industry, '') from accounts a order by a.name")
            .fetch_all(&app.pool)
            .await
            .expect("accounts");
    assert_eq!(
        linked,
        [
            ("구름클라우드".to_string(), "2208162517".to_string(), "manufacturing".to_string()),
            ("하늘데이터".to_string(), "1234567891".to_string(), "finance".to_string())
        ]
    );
    let contacts: Vec<(String, String)> =
        sqlx::query_as("select c.name, a.name from contacts c join accounts a on a.id = c.account_id order by c.name")
            .fetch_all(&app.pool)
            .await
            .expect("contacts");
    assert_eq!(contacts, [("이서준".into(), "구름클라우드".into()), ("정하나".into(), "하늘데이터".into())]);
    let deals: Vec<(String, String)> =
        sqlx::query_as("select d.name, a.name from deals d join accounts a on a.id = d.account_id order by d.name")
            .fetch_all(&app.pool)
            .await
            .expect("deals");
    assert_eq!(deals, [("ERP 클라우드 이전".into(), "구름클라우드".into()), ("보안 관제".into(), "하늘데이터".into())]);

    // The same workbook again changes nothing.
    let before = app.fingerprint().await;
    let (_, _, again) = import(&admin, "영업 관리.xlsx", &team_workbook(false), ImportMode::AllOrNothing).await;
    assert_eq!(again.status, ImportStatus::Committed, "{:?}", again.error);
    assert_eq!(app.fingerprint().await, before);
}

#[tokio::test]
async fn problems_name_their_sheet_and_the_report_keeps_the_sheet() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let (id, p, summary) = import(&admin, "영업 관리.xlsx", &team_workbook(true), ImportMode::SkipInvalid).await;
    let found: Vec<(u32, u32, T)> = p.problems.iter().map(|x| (x.sheet, x.row, x.problem)).collect();
    assert_eq!(found, [(2, 3, T::InvalidEmail)], "the contact sheet's third row");
    assert_eq!(summary.status, ImportStatus::Committed);
    assert_eq!((summary.skipped, summary.counts.contact.created), (1, 1));
    let page = admin.get(&format!("/import/{id}")).await;
    assert!(page.body.contains("담당자"), "the result names the sheet");
    let report = app.get_bytes(&admin, &format!("/import/{id}/report.xlsx")).await;
    let read = app::import::read::read_upload(&report, &Default::default(), &app::import::read::Limits::default())
        .expect("the report is a workbook");
    assert_eq!(read.sheet, "담당자", "the report's sheet is named as the file's");
    let texts: Vec<Vec<String>> =
        read.rows.iter().map(|r| r.cells.iter().map(app::import::CellValue::to_text).collect()).collect();
    assert_eq!(texts[1][..4], ["3", "하늘데이터", "정하나", "not-an-email"]);
}

#[tokio::test]
async fn a_deal_id_column_matches_that_deal_even_when_renamed() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let file =
        deals_workbook(&[("구름클라우드", "220-81-62517", "ERP 클라우드 이전", "제안", "₩12,000,000", "관리자")]);
    import(&admin, "a.xlsx", &file, ImportMode::AllOrNothing).await;
    let (_, deal) = ids_by_name(&app, "deals").await.into_iter().next().expect("deal");

    // An export-shaped file: the id, a new name and amount; and an id nobody has.
    let stranger = Uuid::new_v4();
    let csv = format!(
        "영업기회 ID,고객사명,영업기회명,금액\r\n{deal},구름클라우드,ERP 클라우드 전환 2단계,\"₩15,000,000\"\r\n\
         {stranger},구름클라우드,모르는 건,₩1\r\n"
    );
    let (_, p, summary) = import(&admin, "export.csv", csv.as_bytes(), ImportMode::SkipInvalid).await;
    assert_eq!(p.mapping[0].field, Some(app::import::ImportField::DealId), "'영업기회 ID' is the id column");
    assert_eq!(summary.status, ImportStatus::Committed, "{:?}", summary.error);
    assert_eq!((summary.counts.deal.created, summary.counts.deal.updated, summary.skipped), (0, 1, 1));
    let row = app.row("deals", deal).await;
    assert_eq!(row["name"], "ERP 클라우드 전환 2단계");
    assert_eq!(row["amount"], 15_000_000.0);
    assert_eq!(app.count("deals").await, 1, "nothing created for the unknown id");
    let problems = app::import::server::stored_problems(&app.pool, summary.id).await.expect("problems");
    let found: Vec<(u32, u32, T)> = problems.problems.iter().map(|p| (p.row, p.column, p.problem)).collect();
    assert_eq!(found, [(3, 0, T::ImportUnknownDeal)]);

    // Not a UUID at all: a problem in the preview, before anything is written.
    let id = uploaded(&admin, "bad.csv", "영업기회 ID,고객사명\r\n42,구름클라우드\r\n".as_bytes()).await;
    let p = preview(&admin, id, "", ImportMode::AllOrNothing).await;
    assert_eq!(p.problems.iter().map(|x| x.problem).collect::<Vec<_>>(), [T::ImportInvalidDealId]);
}

/// The real server binary on the test's database: its import worker claims
/// queued jobs like any instance's. Killed (SIGKILL) when dropped.
struct ServerProcess(std::process::Child);

impl ServerProcess {
    fn start(app: &TestApp) -> ServerProcess {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            // Named, so the test can tell its database sessions from its own.
            .env("DATABASE_URL", format!("{}?application_name=doomed-instance", app.database_url()))
            .env("DATABASE_MAX_CONNECTIONS", "4")
            .env("OIDC_CLIENT_SECRET", "x")
            .env("OIDC_ISSUER_URL", "http://127.0.0.1:1/realms/none")
            .env("SALESOPS_PUBLIC_URL", crate::helpers::ORIGIN)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("LEPTOS_OUTPUT_NAME", "salesops")
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start the server binary");
        ServerProcess(child)
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls until `done` holds (never a fixed sleep); fails after a minute.
async fn wait_until<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn killing_the_server_mid_import_leaves_nothing_partial_and_the_job_failed() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let mut csv = String::from("고객사명,영업기회명,단계,금액\r\n");
    for i in 0..40_000 {
        csv.push_str(&format!("고객사 {},영업기회 {i},제안,\"₩{},000\"\r\n", i % 4_000, 1_000 + i));
    }
    let id = uploaded(&admin, "big.csv", csv.as_bytes()).await;
    let p = preview(&admin, id, "", ImportMode::AllOrNothing).await;
    assert_eq!((p.data_rows, p.problem_count), (40_000, 0));
    commit(&admin, id, &p).await.assert_status(StatusCode::OK);

    // Another instance claims the job; it is killed while its merge runs.
    let mut server = ServerProcess::start(&app);
    // The merge's statements name its temporary tables (`import_rows`,
    // `import_accounts`, …); claiming and heartbeats only name `imports`.
    let merging = "select count(*) from pg_stat_activity
                   where application_name = 'doomed-instance' and state = 'active'
                     and query ~ 'import_(rows|accounts|contacts|deals)'";
    wait_until("the job's merge is running", || async {
        sqlx::query_scalar::<_, i64>(merging).fetch_one(&app.pool).await.expect("activity") > 0
    })
    .await;
    server.kill();
    // Its connection's transaction dies with it (Postgres ends the backend
    // once it notices the client is gone).
    wait_until("the dead instance's session has ended", || async {
        sqlx::query_scalar::<_, i64>("select count(*) from pg_stat_activity where application_name = 'doomed-instance'")
            .fetch_one(&app.pool)
            .await
            .expect("activity")
            == 0
    })
    .await;

    let left = app::import::server::summary(&app.pool, id).await.expect("summary");
    assert_eq!(left.status, ImportStatus::Running, "nobody has noticed yet");
    for table in ["accounts", "deals", "deal_stage_history", "import_changes"] {
        assert_eq!(app.count(table).await, 0, "nothing of the import is in {table}");
    }
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'import'")
        .fetch_one(&app.pool)
        .await
        .expect("n");
    assert_eq!(audited, 0, "nor in the audit trail");
    // Thirty seconds later (the clock is moved, not waited for) the next
    // instance to look marks it failed.
    sqlx::query("update imports set heartbeat_at = heartbeat_at - interval '1 minute' where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("age the heartbeat");
    assert_eq!(run_next(&app.pool, "survivor").await.expect("worker"), None);
    let failed = app::import::server::summary(&app.pool, id).await.expect("summary");
    assert_eq!((failed.status, failed.error), (ImportStatus::Failed, Some(T::ImportInterrupted)));
    let page = admin.get(&format!("/import/{id}")).await;
    assert!(page.body.contains(T::ImportInterrupted.text(app::i18n::Lang::Ko)));
}

#[tokio::test]
async fn contract_rows_import_match_by_number_and_undo_restores_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin("관리자").await;
    let header = "고객사명,계약명,계약번호,계약 시작일,계약 종료일,계약 금액,청구 주기,자동 갱신,해지 통보 기간\r\n";
    let first = format!(
        "{header}구름클라우드,MSP 운영 계약,MSP-001,2026-01-01,2026-12-31,\"₩1,500,000\",월,예,30일\r\n\
         하늘데이터,보안 관제,,2025.07.01,2027.06.30,3000만,연간,아니요,\r\n"
    );
    let (_, p, summary) = import(&admin, "계약.csv", first.as_bytes(), ImportMode::AllOrNothing).await;
    let mapped: Vec<_> = p.mapping.iter().map(|m| m.field.map(|f| f.code())).collect();
    assert_eq!(
        mapped,
        [
            Some("account_name"),
            Some("contract_title"),
            Some("contract_number"),
            Some("contract_start"),
            Some("contract_end"),
            Some("contract_amount"),
            Some("billing_period"),
            Some("auto_renew"),
            Some("notice_days")
        ],
        "every column mapped from its Korean header"
    );
    assert_eq!(summary.status, ImportStatus::Committed, "{:?}", summary.error);
    assert_eq!((summary.counts.account.created, summary.counts.contract.created), (2, 2));
    let rows: Vec<(String, String, String, String, bool, i32, String)> = sqlx::query_as(
        "select title, state, amount::text, billing_period, auto_renew, notice_days, end_date::text
         from contracts order by title",
    )
    .fetch_all(&app.pool)
    .await
    .expect("contracts");
    assert_eq!(
        rows,
        [
            (
                "MSP 운영 계약".into(),
                "signed".into(),
                "1500000.00".into(),
                "monthly".into(),
                true,
                30,
                "2026-12-31".into()
            ),
            ("보안 관제".into(), "signed".into(), "30000000.00".into(), "annual".into(), false, 0, "2027-06-30".into())
        ]
    );

    // The same contract by its number, with a new value and title: updated, and undo restores it.
    let before = app.fingerprint().await;
    let (_, _, again) = import(&admin, "계약.csv", first.as_bytes(), ImportMode::AllOrNothing).await;
    assert_eq!(
        (again.counts.contract.created, again.counts.contract.updated, again.counts.contract.unchanged),
        (0, 0, 2)
    );
    assert_eq!(app.fingerprint().await, before, "the same file again changes nothing");
    let (id,): (Uuid,) = sqlx::query_as("select id from contracts where contract_number = 'MSP-001'")
        .fetch_one(&app.pool)
        .await
        .expect("id");
    let original = app.row("contracts", id).await;
    let changed =
        format!("{header}구름클라우드,MSP 운영 계약 (2년차),msp-001,2026-01-01,2026-12-31,\"1,800,000\",월,예,30\r\n");
    let (import_id, _, updated) = import(&admin, "갱신.csv", changed.as_bytes(), ImportMode::AllOrNothing).await;
    assert_eq!((updated.counts.contract.created, updated.counts.contract.updated), (0, 1));
    assert_eq!(app.row("contracts", id).await["title"], "MSP 운영 계약 (2년차)");
    admin.post_fn("/api/imports/undo", &fields(&[("id", &import_id.to_string())])).await.assert_status(StatusCode::OK);
    let restored = app.row("contracts", id).await;
    for key in ["title", "amount", "contract_number", "end_date", "state"] {
        assert_eq!(restored[key], original[key], "{key} is restored");
    }

    // Problems before anything is written: an end before the start, a terminated status, no title.
    let bad = "고객사명,계약명,계약 시작일,계약 종료일,계약 금액,계약 상태\r\n\
               구름클라우드,거꾸로,2026-12-31,2026-01-01,100,체결\r\n\
               구름클라우드,해지된 계약,2026-01-01,2026-12-31,100,해지\r\n\
               구름클라우드,,2026-01-01,2026-12-31,100,\r\n";
    let id = uploaded(&admin, "bad.csv", bad.as_bytes()).await;
    let p = preview(&admin, id, "", ImportMode::AllOrNothing).await;
    let found: Vec<(u32, T)> = p.problems.iter().map(|x| (x.row, x.problem)).collect();
    assert_eq!(
        found,
        [(2, T::ContractEndBeforeStart), (3, T::ImportContractTerminated), (4, T::ImportContractNeedsTitle)]
    );
}
